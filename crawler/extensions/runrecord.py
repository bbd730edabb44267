"""RunRecord: ``runs/<crawl-id>.json``, what one run did, written at its start and end.

Written once when the crawl opens (``finish_reason: running``, so a run that
was killed is visible) and again when the engine stops, from the crawl's
stats: pages fetched, articles stored / unchanged, errors and skips by
reason, what cleaning removed, the archive's size, spooled uploads.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from datetime import datetime, timezone
from typing import Any

from scrapy import signals

from pipelines import runtime
from pipelines.document.render import iso_utc

logger = logging.getLogger(__name__)


def run_record(stats: dict[str, Any], base: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The run record from a crawl's stats (a plain function: tests call it with a dict)."""
    started = stats.get("start_time") or now
    elapsed = max((now - _aware(started)).total_seconds(), 1e-9)
    pages = stats.get("downloader/response_count", 0)
    stored = stats.get("store/stored", 0) + stats.get("store/revised", 0)
    return {
        **base,
        "started": iso_utc(_aware(started)),
        "finished": iso_utc(now),
        "finish_reason": stats.get("finish_reason", "finished"),
        "pages_fetched": pages,
        "articles_stored": stored,
        "articles_revised": stats.get("store/revised", 0),
        "articles_unchanged": stats.get("store/unchanged", 0),
        "errors": _by_prefix(stats, "errors/"),
        "skipped": _by_prefix(stats, "skipped/"),
        "retries": _by_prefix(stats, "retry/"),  # count, reason_count/<why>, max_reached, retry_after
        "cleaning": _by_prefix(stats, "clean/"),
        # articles whose publisher says they are not free to read, and bodies cut short of the declared article
        "paywalled": stats.get("extract/paywalled", 0),
        "truncated": stats.get("extract/truncated", 0),
        "archive": {
            "records": stats.get("archive/records", 0),
            "bytes": stats.get("archive/bytes", 0),
            "files": stats.get("archive/files", 0),
        },
        "spooled": stats.get("store/spooled", 0),
        "flushed": stats.get("store/flushed", 0),
        "elapsed_seconds": round(elapsed, 3),
        "pages_per_second": round(pages / elapsed, 2),
    }


def _by_prefix(stats: dict[str, Any], prefix: str) -> dict[str, int]:
    return {key[len(prefix):]: value for key, value in sorted(stats.items()) if key.startswith(prefix) and value}


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class RunRecord:
    def __init__(self, crawler):
        self.crawler = crawler
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)
        self.key = ""
        self.record: dict[str, Any] = {}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def base(self) -> dict[str, Any]:
        settings = self.crawler.settings
        spider = getattr(self.crawler.spider, "name", "") or getattr(self.crawler.spidercls, "name", "")
        base = {
            "job": settings.get("JOB_NAME") or spider,
            "spider": spider,
            "crawl_id": runtime.crawl_id(self.crawler),
            "run_id": runtime.run_id(self.crawler),
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "store": runtime.storage(self.crawler).uri,
            "output_format": settings.get("OUTPUT_FORMAT"),
        }
        if settings.get("WORKER_ID"):
            base["worker"] = settings.get("WORKER_ID")
        args = getattr(self.crawler.spider, "run_arguments", None)
        if args:
            base["arguments"] = args
        return base

    def spider_opened(self, spider) -> None:
        self.key = f"runs/{runtime.run_id(self.crawler)}.json"
        record = run_record(self.crawler.stats.get_stats(), self.base(), datetime.now(timezone.utc))
        record["finish_reason"] = "running"
        self._write(record)

    def engine_stopped(self) -> None:
        if not self.key:
            return
        self.record = run_record(self.crawler.stats.get_stats(), self.base(), datetime.now(timezone.utc))
        self._write(self.record)

    def _write(self, record: dict[str, Any]) -> None:
        data = (json.dumps(record, indent=2, sort_keys=False, default=str) + "\n").encode("utf-8")
        try:
            runtime.storage(self.crawler).put(self.key, data, "application/json")
        except Exception as exc:  # the record must never crash the crawl it describes
            logger.error("could not write the run record %s: %s", self.key, exc)
