"""SpoolFlush: a crawl first uploads what earlier runs left in the store's spool, and tries once more at its end.

An object that S3 would not take waits in the local spool (``STORE_SPOOL_DIR``).
Until it is uploaded, the store reads it as stored (the archive index sees
what earlier runs spooled). The crawl and replay commands upload what earlier
runs left before the crawl starts (:func:`flush_before`); this extension tries
once more at the end, for what this run left. Stats for the run record:
``store/flushed`` (spooled objects this run uploaded) and ``store/spooled``
(objects this run could not upload; ``scrapy flush`` or the next run does).
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import signals

from pipelines.storage import Storage, storage_from_settings

logger = logging.getLogger(__name__)


class SpoolFlush:
    def __init__(self, storage: Storage, stats: Any):
        self.storage = storage  # `scrapy crawl` checked it can be used (crawler.config.check_store)
        self.stats = stats
        self.flushed = 0

    @classmethod
    def from_crawler(cls, crawler: Any) -> SpoolFlush:
        extension = cls(storage_from_settings(crawler.settings), crawler.stats)
        # connected before the run record's handler (lower EXTENSIONS order): the record sees the counts
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def flush(self, when: str) -> int:
        flushed, left = self.storage.flush_spool()
        self.flushed += flushed
        if flushed:
            logger.info("uploaded %d spooled object(s) to %s %s", flushed, self.storage.uri, when)
        return left

    def engine_stopped(self) -> None:
        # WARC files and the manifest are closed by now; if S3 is back, they need not wait for the next run
        left = self.flush("at the end")
        self.stats.set_value("store/spooled", left)
        self.stats.inc_value("store/flushed", self.flushed)  # beside what the command flushed before the crawl
        if left:
            logger.warning("%d object(s) wait in the spool for S3; `scrapy flush` (or the next crawl) uploads them",
                           left)


def flush_before(settings: Any, crawler: Any) -> None:
    """Before a crawl or replay starts: upload what earlier runs left in the spool, counted for the run record.

    The command calls it once logging is set up and before the crawl opens, so that what it reads of the
    store is stored for good.
    """
    storage = storage_from_settings(settings)
    flushed, _ = storage.flush_spool()
    if flushed:
        logger.info("uploaded %d spooled object(s) to %s before the crawl", flushed, storage.uri)
        crawler.signals.connect(lambda: crawler.stats.inc_value("store/flushed", flushed),
                                signal=signals.spider_opened, weak=False)
