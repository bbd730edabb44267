"""The figures of a store: what ``scrapy report`` shows, computed from run records and manifests.

Run records (``runs/*.json``) say what each run did: pages, articles, errors
and skips with their URLs, each site's field fill rates and body length, and
the layout-change alarms raised at its end. Manifests (``manifest/*.jsonl``)
list every document written: they give articles per day, revisions, and fill
rates of what the store holds now. Both are read through the storage
interface, so a local directory and an S3 prefix give the same report.
"""

from __future__ import annotations

import json
import logging
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pipelines.report.fields import TRACKED_FIELDS
from pipelines.report.history import run_records

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
URLS_PER_REASON = 20  # URLs listed under each error or skip reason of a site (the run records keep more)
REVISED_LISTED = 20  # most-revised articles listed per site


def read_manifest_lines(storage) -> Iterable[tuple[str, dict[str, Any]]]:
    """(run id, line) for every line of every manifest; broken lines are logged and left out."""
    for key in storage.list("manifest"):
        if not key.endswith(".jsonl"):
            continue
        run_id = key.rsplit("/", 1)[-1].removesuffix(".jsonl")
        for raw in (storage.get(key) or b"").splitlines():
            try:
                line = json.loads(raw)
            except ValueError:
                logger.warning("skipping a broken manifest line in %s", storage.describe(key))
                continue
            if isinstance(line, dict) and line.get("url"):
                yield run_id, line


def store_figures(storage, state_dir: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    """The report of a store (``state_dir``: where run records are cached between reports and crawls)."""
    records = run_records(storage, state_dir)
    return figures(records, read_manifest_lines(storage), store=storage.uri, now=now)


def figures(records: list[dict[str, Any]], lines: Iterable[tuple[str, dict[str, Any]]], *, store: str = "",
            now: datetime | None = None) -> dict[str, Any]:
    """The report as one JSON-ready dict (format in docs/report.md); a plain function of its inputs."""
    sites: dict[str, SiteTally] = defaultdict(SiteTally)
    for run_id, line in lines:
        site = str(line.get("site") or "unknown")
        sites[site].add(run_id, line)
    for record in records:
        for site in (record.get("sites") or {}):
            sites[site]
    generated = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    site_figures = {site: tally.figures(site, records) for site, tally in sorted(sites.items())}
    alarms = [alarm | {"run_id": r.get("run_id", ""), "finished": r.get("finished", "")}
              for r in reversed(records) for alarm in (r.get("alarms") or [])]
    return {
        "format": FORMAT_VERSION,
        "store": store,
        "generated": generated,
        "totals": totals(records, site_figures),
        "runs": [run_row(r) for r in records],
        "archive": archive_growth(records),
        "errors": reasons(records, "errors"),
        "skipped": reasons(records, "skipped"),
        "alarms": alarms,
        "sites": site_figures,
    }


class SiteTally:
    """What the manifests say of one site, gathered in one pass."""

    __slots__ = ("body_chars", "lines", "measured", "per_day", "per_run", "present", "revised", "urls")

    def __init__(self) -> None:
        self.urls: set[str] = set()
        self.lines = 0
        self.per_day: Counter[str] = Counter()
        self.present: Counter[str] = Counter()
        self.measured = 0  # lines that say which fields they have (manifests before format 2 do not)
        self.body_chars: list[int] = []
        self.revised: dict[str, tuple[int, str]] = {}  # url -> (highest revision, title)
        self.per_run: dict[str, RunTally] = {}

    def add(self, run_id: str, line: dict[str, Any]) -> None:
        url = line["url"]
        self.urls.add(url)
        self.lines += 1
        self.per_day[str(line.get("fetched", ""))[:10] or "unknown"] += 1
        run = self.per_run.get(run_id)
        if run is None:
            run = self.per_run[run_id] = RunTally()
        run.articles += 1
        fields = line.get("fields")
        if isinstance(fields, list):
            self.measured += 1
            run.measured += 1
            for name in fields:
                if name in TRACKED_FIELDS:
                    self.present[name] += 1
                    run.present[name] += 1
        chars = line.get("body_chars")
        if isinstance(chars, int):
            self.body_chars.append(chars)
            run.body_chars += chars
            run.body_measured += 1
        revision = line.get("revision", 1)
        if isinstance(revision, int) and revision > max(1, self.revised.get(url, (0, ""))[0]):
            self.revised[url] = (revision, str(line.get("title", "")))

    def figures(self, site: str, records: list[dict[str, Any]]) -> dict[str, Any]:
        runs = []
        for record in records:
            seen = (record.get("sites") or {}).get(site)
            if seen is not None:
                runs.append(site_run(record, seen))
            elif record.get("run_id") in self.per_run:  # a run recorded before run records had sites
                runs.append(self.per_run[record["run_id"]].row(record))
        errors, skipped = site_reasons(site, records)
        revised = sorted(self.revised.items(), key=lambda kv: (-kv[1][0], kv[0]))
        return {
            "articles": len(self.urls),
            "documents": self.lines,
            "revisions": sum(revision - 1 for revision, _ in self.revised.values()),
            "per_day": dict(sorted(self.per_day.items())),
            "fill": {name: rate(self.present[name], self.measured) for name in TRACKED_FIELDS},
            "fill_measured": self.measured,
            "body_chars": {
                "median": int(statistics.median(self.body_chars)) if self.body_chars else None,
                "mean": round(statistics.fmean(self.body_chars)) if self.body_chars else None,
            },
            "runs": runs,
            "errors": errors,
            "skipped": skipped,
            "most_revised": [{"url": url, "title": title, "revision": revision}
                             for url, (revision, title) in revised[:REVISED_LISTED]],
            "alarms": [a | {"run_id": r.get("run_id", "")} for r in reversed(records)
                       for a in (r.get("alarms") or []) if a.get("site") == site],
        }


class RunTally:
    __slots__ = ("articles", "body_chars", "body_measured", "measured", "present")

    def __init__(self) -> None:
        self.articles = 0
        self.measured = 0
        self.present: Counter[str] = Counter()
        self.body_chars = 0
        self.body_measured = 0

    def row(self, record: dict[str, Any]) -> dict[str, Any]:
        return {
            "run_id": record.get("run_id", ""),
            "started": record.get("started", ""),
            "pages": None,
            "articles": self.articles,
            "stored": self.articles,
            "fill": {name: rate(self.present[name], self.measured) for name in TRACKED_FIELDS},
            "body_chars_mean": round(self.body_chars / self.body_measured) if self.body_measured else None,
            "source": "manifest",
        }


def site_run(record: dict[str, Any], seen: dict[str, Any]) -> dict[str, Any]:
    """One run of one site as its run record gives it."""
    articles = seen.get("articles", 0)
    present = seen.get("fields", {})
    return {
        "run_id": record.get("run_id", ""),
        "started": record.get("started", ""),
        "found": seen.get("found", 0),
        "pages": seen.get("pages", 0),
        "articles": articles,
        "stored": seen.get("stored", 0),
        "fill": {name: rate(present.get(name, 0), articles) for name in TRACKED_FIELDS},
        "body_chars_mean": round(seen.get("body_chars", 0) / articles) if articles else None,
        "source": "run record",
    }


def site_reasons(site: str, records: list[dict[str, Any]]) -> tuple[dict, dict]:
    out = []
    for kind in ("errors", "skipped"):
        counts: Counter[str] = Counter()
        urls: dict[str, list[str]] = defaultdict(list)
        for record in records:
            seen = (record.get("sites") or {}).get(site) or {}
            counts.update(seen.get(kind) or {})
            for reason, entries in ((record.get("urls") or {}).get(kind) or {}).items():
                for entry in entries:
                    if entry.get("site") == site and len(urls[reason]) < URLS_PER_REASON:
                        urls[reason].append(entry.get("url") or entry.get("archive", ""))
        out.append({reason: {"count": count, "urls": urls.get(reason, [])}
                    for reason, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))})
    return out[0], out[1]


def reasons(records: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    """Store-wide counts by reason, with a few URLs of each (run-level, also for runs without sites)."""
    counts: Counter[str] = Counter()
    urls: dict[str, list[str]] = defaultdict(list)
    for record in records:
        counts.update({k: v for k, v in (record.get(kind) or {}).items() if isinstance(v, int)})
        for reason, entries in ((record.get("urls") or {}).get(kind) or {}).items():
            room = URLS_PER_REASON - len(urls[reason])
            urls[reason].extend(entry.get("url") or entry.get("archive", "") for entry in entries[:max(room, 0)])
    return {reason: {"count": count, "urls": urls.get(reason, [])}
            for reason, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))}


def run_row(record: dict[str, Any]) -> dict[str, Any]:
    archive = record.get("archive") or {}
    return {
        "run_id": record.get("run_id", ""),
        "job": record.get("job", ""),
        "spider": record.get("spider", ""),
        "started": record.get("started", ""),
        "finished": record.get("finished", ""),
        "finish_reason": record.get("finish_reason", ""),
        "pages_fetched": record.get("pages_fetched", 0),
        "articles_stored": record.get("articles_stored", 0),
        "articles_revised": record.get("articles_revised", 0),
        "articles_unchanged": record.get("articles_unchanged", 0),
        "errors": sum(v for v in (record.get("errors") or {}).values() if isinstance(v, int)),
        "skipped": sum(v for v in (record.get("skipped") or {}).values() if isinstance(v, int)),
        "archive_bytes": archive.get("bytes", 0),
        "archive_records": archive.get("records", 0),
        "alarms": len(record.get("alarms") or []),
    }


def archive_growth(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    total_bytes = total_records = 0
    growth = []
    for record in records:
        archive = record.get("archive") or {}
        total_bytes += archive.get("bytes", 0) or 0
        total_records += archive.get("records", 0) or 0
        growth.append({"run_id": record.get("run_id", ""), "finished": record.get("finished", ""),
                       "bytes": total_bytes, "records": total_records})
    return growth


def totals(records: list[dict[str, Any]], sites: dict[str, dict[str, Any]]) -> dict[str, Any]:
    growth = archive_growth(records)
    return {
        "runs": len(records),
        "sites": len(sites),
        "articles": sum(s["articles"] for s in sites.values()),
        "documents": sum(s["documents"] for s in sites.values()),
        "revisions": sum(s["revisions"] for s in sites.values()),
        "pages_fetched": sum(r.get("pages_fetched", 0) or 0 for r in records),
        "errors": sum(v for r in records for v in (r.get("errors") or {}).values() if isinstance(v, int)),
        "archive_bytes": growth[-1]["bytes"] if growth else 0,
        "archive_records": growth[-1]["records"] if growth else 0,
        "alarms": sum(len(r.get("alarms") or []) for r in records),
        "first_run": records[0].get("started", "") if records else "",
        "last_run": records[-1].get("finished", "") if records else "",
    }


def rate(present: int, total: int) -> float | None:
    return round(present / total, 4) if total else None
