"""What a crawl may tune of extraction, as one frozen value that pickles to a worker process."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExtractOptions:
    favor_precision: bool = True  # the better body on the corpora (docs/extraction.md, the quality table)
    include_comments: bool = False
    include_tables: bool = True
    max_bytes: int = 10 * 1024 * 1024
    min_words: int = 30
    max_replacement_ratio: float = 0.02  # share of U+FFFD after decoding that marks a page undecodable
