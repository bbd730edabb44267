"""RunRecord: ``runs/<crawl-id>.json``, what one run did, written at its start and end.

Written once when the crawl opens (``finish_reason: running``, so a run that
was killed is visible) and again when the engine stops, from the crawl's
stats: pages fetched, articles stored / unchanged, errors and skips by
reason (and the first URLs of each, ``urls``), what cleaning removed, the
archive's size, spooled uploads, and per site (``sites``) the article links
found, pages, articles, fields filled and body length. The site figures are
then compared with the site's recent runs: a fall is a layout-change alarm
(``alarms``, and a warning line at the end of the crawl; docs/report.md).
"""

from __future__ import annotations

import json
import logging
import os
import socket
from datetime import UTC, datetime
from typing import Any

from scrapy import signals

from crawler.redact import redact, redact_data, secret_values
from pipelines.document.render import iso_utc
from pipelines.report.alarms import AlarmPolicy, layout_alarms
from pipelines.report.history import run_records
from pipelines.report.runlog import sites_from_stats, urls_from_stats
from pipelines.storage import Storage, storage_from_settings

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
        "body_from_ld": stats.get("extract/body_from_ld", 0),  # bodies taken from the page's JSON-LD articleBody
        "archive": {
            "responses": stats.get("archive/responses", 0),
            "records": stats.get("archive/records", 0),
            "bytes": stats.get("archive/bytes", 0),
            "files": stats.get("archive/files", 0),
        },
        **({"replay": replay} if (replay := _by_prefix(stats, "replay/")) else {}),  # records and bytes read, units
        "spooled": stats.get("store/spooled", 0),
        "flushed": stats.get("store/flushed", 0),
        "elapsed_seconds": round(elapsed, 3),
        "pages_per_second": round(pages / elapsed, 2),
        "sites": sites_from_stats(stats),
    }


RECORD_NOT_WRITTEN = "runrecord/not_written"  # why the last write of the run record failed, "" once written


def work_failed(record: dict[str, Any]) -> str:
    """Why a finished run counts as failed (its exit code is 1), or "" when it did its work.

    Nothing fetched at all (not even robots.txt: the network or the host is down), nothing
    stored while every article page failed, or articles or archive records that the store could
    not keep (a full disk; an upload neither made nor spooled): the crawl's own failure, which the
    next run repeats, unlike a site's 404. A run that found nothing new (all articles fresh in the
    archive, or unchanged) did its work.
    """
    counts = {k: v for k, v in record.get("errors", {}).items() if isinstance(v, int)}
    errors = sum(counts.values())
    if not record.get("pages_fetched") and errors:
        return f"nothing could be fetched ({_reasons(counts)})"
    if not (record.get("articles_stored") or record.get("articles_unchanged")) and errors:
        return f"nothing stored, every page failed ({_reasons(counts)})"
    lost = {k: v for k, v in counts.items() if k.startswith("store_failed/") or k == "archive_write"}
    if lost:
        return f"the store could not keep everything ({_reasons(lost)})"
    return ""


def _reasons(counts: dict[str, int]) -> str:
    top = sorted(counts.items(), key=lambda kv: -kv[1])
    text = ", ".join(f"{reason}: {count}" for reason, count in top[:4])
    return text + (", …" if len(top) > 4 else "")


def _by_prefix(stats: dict[str, Any], prefix: str) -> dict[str, int]:
    return {key[len(prefix):]: value for key, value in sorted(stats.items()) if key.startswith(prefix) and value}


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class RunRecord:
    """Writes ``runs/<run-id>.json`` when the spider opens (``finish_reason: running``) and when the engine stops."""

    def __init__(self, storage: Storage, stats: Any, base: dict[str, Any], state_dir: str,
                 alarms: AlarmPolicy | None = None, shared_crawl: bool = False, secrets: frozenset[str] = frozenset()):
        self.storage = storage
        self.secrets = secrets  # masked in the record as in the log: an error's text may quote a URL's password
        self.stats = stats
        self.base = base  # job, spider, crawl and run ids, host, pid, store, output format, worker
        self.state_dir = state_dir
        self.policy = alarms  # None: no layout-change alarms
        self.shared_crawl = shared_crawl  # workers of one crawl share its links (FRONTIER_URL)
        self.key = f"runs/{base['run_id']}.json"
        self.record: dict[str, Any] = {}
        self.opened = False

    @classmethod
    def from_crawler(cls, crawler: Any) -> RunRecord:
        settings = crawler.settings
        spider = getattr(crawler.spidercls, "name", "")
        storage = storage_from_settings(settings)
        base = {
            "job": settings.get("JOB_NAME") or spider,
            "spider": spider,
            "crawl_id": settings["CRAWL_ID"],
            "run_id": settings["RUN_ID"],
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "store": storage.uri,
            "output_format": settings.get("OUTPUT_FORMAT"),
            **({"worker": settings["WORKER_ID"]} if settings.get("WORKER_ID") else {}),
        }
        policy = None
        if settings.getbool("ALARM_ENABLED"):
            policy = AlarmPolicy(
                drop=settings.getfloat("ALARM_DROP"),
                min_articles=settings.getint("ALARM_MIN_ARTICLES"),
                history_runs=settings.getint("ALARM_HISTORY_RUNS"),
                min_runs=settings.getint("ALARM_MIN_RUNS"),
            )
        extension = cls(storage, crawler.stats, base, settings.get("STATE_DIR"), policy,
                        bool(settings.get("FRONTIER_URL")), frozenset(secret_values(settings)))
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def spider_opened(self, spider: Any) -> None:
        if getattr(spider, "run_arguments", None):
            self.base = {**self.base, "arguments": spider.run_arguments}
        self.opened = True
        record = run_record(self.stats.get_stats(), self.base, datetime.now(UTC))
        record["finish_reason"] = "running"
        self._write(record)

    def engine_stopped(self) -> None:
        if not self.opened:
            return
        stats = self.stats.get_stats()
        record = run_record(stats, self.base, datetime.now(UTC))
        record["urls"] = urls_from_stats(stats)
        record["alarms"] = self.alarms(record)
        for alarm in record["alarms"]:
            logger.warning("layout change? %s", alarm["message"])
        self.record = record
        self._write(self.record)

    def alarms(self, record: dict[str, Any]) -> list[dict[str, Any]]:
        if self.policy is None or not record["sites"]:
            return []
        try:  # earlier runs, newest first; this run's own record (still "running") left out
            history = [r for r in reversed(run_records(self.storage, self.state_dir))
                       if r.get("run_id") != record["run_id"] and r.get("finish_reason") != "running"]
        except Exception as exc:  # the alarms must never cost the run its record
            logger.error("could not read earlier run records for the layout-change alarms: %s", exc)
            return []
        alarms = layout_alarms(record["sites"], history, self.policy)
        if self.shared_crawl:  # workers of one crawl share its links: one worker's count says little
            alarms = [alarm for alarm in alarms if alarm["measure"] != "found"]
        return alarms

    def _write(self, record: dict[str, Any]) -> None:
        text = json.dumps(redact_data(record, self.secrets), indent=2, sort_keys=False,
                          default=lambda value: redact(str(value), self.secrets))
        data = (text + "\n").encode("utf-8")
        try:
            self.storage.put(self.key, data, "application/json")
        except Exception as exc:  # the record must never crash the crawl it describes; the exit code says so
            logger.error("could not write the run record %s: %s", self.key, exc)
            failure = str(exc)[:300]
        else:
            failure = ""
        if self.stats is not None:  # None: a record written outside a crawl (its tests)
            self.stats.set_value(RECORD_NOT_WRITTEN, failure)
