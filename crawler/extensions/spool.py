"""SpoolFlush: a crawl first uploads what earlier runs left in the store's spool, and tries once more at its end.

An object that S3 would not take waits in the local spool (``STORE_SPOOL_DIR``);
this extension empties the spool before the archive index reads the store, so
the crawl sees everything earlier runs stored. Stats for the run record:
``store/flushed`` (spooled objects this run uploaded) and ``store/spooled``
(objects this run could not upload; ``scrapy flush`` or the next run does).
"""

from __future__ import annotations

import logging

from scrapy import signals

from pipelines import runtime

logger = logging.getLogger(__name__)


class SpoolFlush:
    def __init__(self, crawler):
        self.crawler = crawler
        self.storage = runtime.storage(crawler)  # `scrapy crawl` checked it can be used (crawler.config.check_store)
        self.flush("before the crawl")
        # connected before the run record's handler (lower EXTENSIONS order): the record sees the counts
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def flush(self, when: str) -> int:
        flushed, left = self.storage.flush_spool()
        if flushed:
            logger.info("uploaded %d spooled object(s) to %s %s", flushed, self.storage.uri, when)
        return left

    def engine_stopped(self) -> None:
        # WARC files and the manifest are closed by now; if S3 is back, they need not wait for the next run
        spooled = getattr(self.storage, "spooled", 0)
        left = self.flush("at the end") if spooled and getattr(self.storage, "available", True) else spooled
        stats = self.crawler.stats
        stats.set_value("store/spooled", getattr(self.storage, "spooled", 0))
        stats.set_value("store/flushed", getattr(self.storage, "flushed", 0))
        if left:
            logger.warning("%d object(s) wait in the spool for S3; `scrapy flush` (or the next crawl) uploads them",
                           left)
