"""Clean stage: count what each cleaning rule removed (the rules: :mod:`pipelines.extraction.cleaning`).

The extract stage cleans each page in the same worker task as it extracts it
(one round trip per page, see :func:`pipelines.extraction.page.extract_and_clean`);
this stage records the counts that came back with the article, or cleans an
article that arrives uncleaned.
"""

from __future__ import annotations

from scrapy.exceptions import DropItem

from pipelines import runtime
from pipelines.extraction.cleaning import clean_article
from pipelines.item import Article
from pipelines.workers.pool import TaskFailed


class CleanPipeline:
    """Counts what each rule removed; runs :func:`clean_article` in the worker pool unless done already.

    The extract stage cleans each page in the same worker task as it extracts
    it (one round trip per page, see :func:`pipelines.extraction.page.extract_and_clean`);
    this stage then only records the counts that came back with the article.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.enabled = crawler.settings.getbool("CLEAN_ENABLED")
        self.pool = runtime.worker_pool(crawler)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_item(self, item):
        if not isinstance(item, Article) or not self.enabled:
            return item
        if item.cleaned is not None:
            article, counts = item, item.cleaned
        else:
            try:
                article, counts = await self.pool.run(clean_article, item)
            except TaskFailed as exc:
                runtime.count_failure(self.crawler, "errors", f"clean_{exc.reason}", item.url, item.site.key)
                raise DropItem(f"cleaning {exc}: {item.url}", log_level="WARNING") from None
        for rule, count in counts.items():
            self.crawler.stats.inc_value(f"clean/{rule}", count)
        return article
