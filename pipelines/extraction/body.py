"""The article body: trafilatura's extraction, as paragraph-level blocks in reading order."""

from __future__ import annotations

from typing import TYPE_CHECKING

import lxml.html

from pipelines.item import Block

if TYPE_CHECKING:
    from pipelines.extraction.page import ExtractOptions
    from trafilatura.settings import Extractor


def extract_blocks(tree: lxml.html.HtmlElement, url: str, options: ExtractOptions) -> list[Block]:
    """The article body as paragraph-level blocks, in reading order."""
    import trafilatura
    from trafilatura.xml import xmltotxt

    document = trafilatura.bare_extraction(tree, url=url, options=_extractor(options, url))
    if document is None or document.body is None:
        return []
    blocks: list[Block] = []
    for element in document.body:
        kind = _KINDS.get(element.tag, "p")
        for line in xmltotxt(element, False).split("\n"):
            line = " ".join(line.split())
            if line:
                blocks.append(Block(text=line, kind=kind))
    return blocks


_KINDS = {"p": "p", "head": "head", "list": "item", "quote": "quote", "table": "table"}


def _extractor(options: ExtractOptions, url: str) -> Extractor:
    from trafilatura.settings import Extractor

    extractor = Extractor(
        output_format="python",
        precision=options.favor_precision,
        comments=options.include_comments,
        tables=options.include_tables,
        url=url,
    )
    extractor.max_file_size = options.max_bytes
    return extractor
