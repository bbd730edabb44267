"""Per-crawl shared resources (crawl id, store, worker pool, archive index), built once from settings.

Pipelines, middlewares and extensions of one crawl share these through the
crawler object they all receive in ``from_crawler``; nothing is global, so
tests build several crawlers in one process.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timezone
from typing import Any, Callable, TypeVar

from scrapy import signals

from pipelines.report import runlog
from pipelines.report.runlog import UrlLog
from pipelines.workers.pool import WorkerPool
from pipelines.storage import Storage, open_storage

T = TypeVar("T")
CRAWL_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}$")


def shared(crawler: Any, name: str, factory: Callable[[], T]) -> T:
    registry = crawler.__dict__.setdefault("_newsarchive_shared", {})
    if name not in registry:
        registry[name] = factory()
    return registry[name]


def crawl_id(crawler: Any) -> str:
    """``CRAWL_ID`` if set (workers of one crawl share it), else ``<spider>-<UTC time>-<random>``."""

    def make() -> str:
        given = crawler.settings.get("CRAWL_ID") or ""
        if given:
            if not CRAWL_ID_RE.match(given):
                raise ValueError(f"CRAWL_ID={given!r}: use letters, digits, '.', '_' and '-'")
            return given
        name = re.sub(r"[^a-z0-9_]+", "_", (getattr(crawler.spidercls, "name", "") or "crawl").lower())
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        return f"{name}-{stamp}-{secrets.token_hex(2)}"

    return shared(crawler, "crawl_id", make)


def run_id(crawler: Any) -> str:
    """The name of this process's files: the crawl id, plus the worker id when several workers share a crawl."""
    worker = crawler.settings.get("WORKER_ID") or ""
    return f"{crawl_id(crawler)}.{worker}" if worker else crawl_id(crawler)


def store_from_settings(settings: Any, uri: str | None = None) -> Storage:
    """The store at ``uri`` (default ``STORE_URI``), its backend chosen from ``STORE_BACKENDS``."""
    return open_storage(uri or settings.get("STORE_URI"), settings, settings.getwithbase("STORE_BACKENDS"))


def storage(crawler: Any) -> Storage:
    return shared(crawler, "storage", lambda: store_from_settings(crawler.settings))


def worker_pool(crawler: Any) -> WorkerPool:
    def make() -> WorkerPool:
        workers = crawler.settings.getint("EXTRACT_WORKERS", -1)
        pool = WorkerPool(workers=workers, timeout=crawler.settings.getfloat("EXTRACT_TIMEOUT"),
                          yield_cpu=crawler.settings.getbool("EXTRACT_WORKERS_FIRST"))
        crawler.signals.connect(pool.close, signal=signals.engine_stopped, weak=False)
        return pool

    return shared(crawler, "worker_pool", make)


def url_log(crawler: Any) -> UrlLog:
    """The URLs behind this run's errors and skips, for its run record (``RUN_RECORD_URLS`` per reason)."""
    return shared(crawler, "url_log", lambda: UrlLog(crawler.settings.getint("RUN_RECORD_URLS", 50)))


def count_failure(crawler: Any, kind: str, reason: str, url: str, site: str = "") -> None:
    """Count an error or skip (``kind``: errors / skipped) for the run and the site, and keep its URL."""
    runlog.count_failure(crawler.stats, url_log(crawler), kind, reason, url, site)
