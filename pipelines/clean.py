"""Clean stage: count what each cleaning rule removed (the rules: :mod:`pipelines.extraction.cleaning`).

The rules run in the extract stage's worker task, right after extraction
(:func:`pipelines.extraction.page.extract_and_clean`, when ``CLEAN_ENABLED``):
one round trip per page, and the extracted text never travels back and forth
between two stages. The article comes back with what each rule removed
(``article.cleaned``); this stage counts it for the run record (``clean/<rule>``).
"""

from __future__ import annotations

from typing import Any

from pipelines.item import Article


class CleanPipeline:
    def __init__(self, stats: Any):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> CleanPipeline:
        return cls(crawler.stats)

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, Article) and item.cleaned:
            for rule, count in item.cleaned.items():
                self.stats.inc_value(f"clean/{rule}", count)
        return item
