"""Progress: a periodic line while a crawl runs, a summary table when it ends."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any

from scrapy import signals
from twisted.internet import task

from pipelines.report.units import human_bytes

logger = logging.getLogger("progress")


def progress_line(stats: dict[str, Any], elapsed: float) -> str:
    pages = stats.get("downloader/response_count", 0)
    stored = stats.get("store/stored", 0) + stats.get("store/revised", 0)
    errors = sum(v for k, v in stats.items() if k.startswith("errors/"))
    rate = pages / elapsed if elapsed > 0 else 0.0
    return (
        f"pages {pages} | stored {stored} | unchanged {stats.get('store/unchanged', 0)} | "
        f"skipped {sum(v for k, v in stats.items() if k.startswith('skipped/'))} | errors {errors} | {rate:.1f} pages/s"
    )


def summary_table(record: dict[str, Any]) -> str:
    rows = [
        ("crawl", record.get("run_id", "")),
        ("spider", record.get("spider", "")),
        ("finish reason", record.get("finish_reason", "")),
        ("elapsed", f"{record.get('elapsed_seconds', 0):.1f} s"),
        ("pages fetched", record.get("pages_fetched", 0)),
        ("pages/s", record.get("pages_per_second", 0)),
        ("articles stored", record.get("articles_stored", 0)),
        ("articles unchanged", record.get("articles_unchanged", 0)),
        ("archive", archive_line(record.get("archive", {}))),
    ]
    for title, key in (("error", "errors"), ("skipped", "skipped"), ("cleaned", "cleaning")):
        for reason, count in record.get(key, {}).items():
            rows.append((f"{title}: {reason}", count))
    for alarm in record.get("alarms", []):
        rows.append(("layout change?", alarm["message"]))
    if record.get("spooled"):
        rows.append(("spooled for upload", record["spooled"]))
    rows.append(("store", record.get("store", "")))
    width = max(len(str(name)) for name, _ in rows)
    line = "-" * (width + 30)
    return "\n".join([line, *(f"{name:<{width}}  {value}" for name, value in rows), line])


def archive_line(archive: dict[str, Any]) -> str:
    """``292 WARC records (97 responses) in 1 file, 3.2 MB``: what the WARC files hold, for people."""
    files = archive.get("files", 0)
    return (f"{archive.get('records', 0):,} WARC records ({archive.get('responses', 0):,} responses) in "
            f"{files:,} file{'s' if files != 1 else ''}, {human_bytes(archive.get('bytes', 0))}")


class Progress:
    """A progress line every ``PROGRESS_INTERVAL`` seconds; the summary table once the run record is written."""

    def __init__(self, stats: Any, interval: float, summary: bool, run_record: Callable[[], dict[str, Any] | None]):
        self.stats = stats
        self.interval = interval
        self.summary = summary
        self.run_record = run_record  # the record the run record extension wrote (None: none)
        self.started = time.monotonic()
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> Progress:
        from crawler.extensions.runrecord import RunRecord

        def run_record() -> dict[str, Any] | None:
            return getattr(crawler.get_extension(RunRecord), "record", None)

        settings = crawler.settings
        extension = cls(crawler.stats, settings.getfloat("PROGRESS_INTERVAL"), settings.getbool("PROGRESS_SUMMARY"),
                        run_record)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def spider_opened(self, spider) -> None:
        self.started = time.monotonic()
        if self.interval > 0:
            self.loop = task.LoopingCall(self.log)
            self.loop.start(self.interval, now=False)

    def log(self) -> None:
        logger.info(progress_line(self.stats.get_stats(), time.monotonic() - self.started))

    def spider_closed(self, spider) -> None:
        if self.loop and self.loop.running:
            self.loop.stop()

    def engine_stopped(self) -> None:
        # the run record extension wrote its record on this same signal, connected earlier
        record = self.run_record()
        if record and self.summary:
            sys.stderr.write(summary_table(record) + "\n")
            sys.stderr.flush()
