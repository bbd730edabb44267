"""Extract stage: a :class:`Page` in, an :class:`Article` out, in a worker process.

The work is :func:`pipelines.extraction.page.extract_and_clean`; this stage
reads the settings, sends each page to the worker pool and counts what came
back (a page with no article is dropped with its reason).
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.exceptions import DropItem

from pipelines.extraction.options import ExtractOptions
from pipelines.extraction.page import ExtractError, extract_and_clean
from pipelines.item import Page
from pipelines.report.runlog import count_failure, count_page
from pipelines.workers.pool import TaskFailed, WorkerPool

logger = logging.getLogger(__name__)
# sent with (page, verdict) for a page judged not to be an article: the store stage remembers it
page_not_article = object()


class ExtractPipeline:
    """Runs :func:`extract_and_clean` in the worker pool; a page with no article is dropped with its reason.

    Cleaning happens in the same task when ``CLEAN_ENABLED``; the clean stage
    that follows records what it removed.
    """

    def __init__(self, options: ExtractOptions, cleaning: bool, pool: WorkerPool, stats: Any, signals: Any = None,
                 keep_urls: int = 50):
        self.options = options
        self.cleaning = cleaning
        self.pool = pool
        self.stats = stats
        self.signals = signals  # the crawl's signals: the store stage hears of pages that are not articles
        self.keep_urls = keep_urls  # URLs kept per failure reason for the run record
        self.in_flight = 0  # pages sent to the pool and not back yet: bounded by SCRAPER_SLOT_MAX_ACTIVE_SIZE

    @classmethod
    def from_crawler(cls, crawler: Any) -> ExtractPipeline:
        settings = crawler.settings
        options = ExtractOptions(
            favor_precision=settings.getbool("EXTRACT_FAVOR_PRECISION"),
            include_comments=settings.getbool("EXTRACT_INCLUDE_COMMENTS"),
            include_tables=settings.getbool("EXTRACT_INCLUDE_TABLES"),
            max_bytes=settings.getint("EXTRACT_MAX_BYTES"),
            min_words=settings.getint("EXTRACT_MIN_WORDS"),
        )
        pool = WorkerPool(workers=settings.getint("EXTRACT_WORKERS", -1), timeout=settings.getfloat("EXTRACT_TIMEOUT"),
                          yield_cpu=settings.getbool("EXTRACT_WORKERS_FIRST"))
        return cls(options, settings.getbool("CLEAN_ENABLED"), pool, crawler.stats, crawler.signals,
                   settings.getint("RUN_RECORD_URLS"))

    def open_spider(self) -> None:
        self.pool.open()

    def close_spider(self) -> None:
        self.pool.close()

    async def process_item(self, item):
        if not isinstance(item, Page):
            return item
        stats = self.stats
        site = item.site.key
        count_page(stats, site)
        self.in_flight += 1
        stats.max_value("extract/in_flight_max", self.in_flight)
        try:
            article = await self.pool.run(extract_and_clean, item, self.options, self.cleaning)
        except ExtractError as exc:
            stage = "skipped" if exc.reason.startswith("not_article") else "errors"
            count_failure(stats, stage, exc.reason, item.url, site, self.keep_urls)
            if stage == "skipped" and self.signals is not None:
                self.signals.send_catch_log(page_not_article, page=item, verdict=exc.reason.split("/", 1)[-1])
            raise DropItem(str(exc), log_level="DEBUG" if stage == "skipped" else "WARNING") from None
        except TaskFailed as exc:
            count_failure(stats, "errors", f"extract_{exc.reason}", item.url, site, self.keep_urls)
            raise DropItem(f"extraction {exc}: {item.url}", log_level="WARNING") from None
        except Exception as exc:  # a bug or a library crash on one page must not stop the crawl
            logger.exception("extraction failed: %s", item.url)
            count_failure(stats, "errors", "extract_failed", item.url, site, self.keep_urls)
            raise DropItem(f"extraction failed ({type(exc).__name__}): {item.url}", log_level="DEBUG") from None
        finally:
            self.in_flight -= 1
        stats.inc_value("extract/articles")
        if article.access:
            stats.inc_value(f"extract/{article.access}")
        if article.truncated:
            stats.inc_value("extract/truncated")
        if article.body_from:
            stats.inc_value(f"extract/body_from_{article.body_from}")
        return article
