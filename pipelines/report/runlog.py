"""What a run records per site, and which URLs are behind its errors and skips.

Counts are Scrapy stats whose keys are paths (``sites/<site>/articles``,
``sites/<site>/fields/author``, ``sites/<site>/errors/http_404``); the run
record turns them into its ``sites`` table (:func:`sites_from_stats`). URLs
are too many to keep as stats: :class:`UrlLog` keeps the first few of each
reason for the run record's ``urls``, and every one of them is in the log.
The same functions count for the crawl and for tests, given any object with
``inc_value``.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from pipelines.report.fields import TRACKED_FIELDS

SITES = "sites/"


class Stats(Protocol):
    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None: ...


class UrlLog:
    """The first ``per_reason`` URLs of each error and skip reason of a run, with their site; thread-safe."""

    def __init__(self, per_reason: int = 50):
        self.per_reason = per_reason
        self.entries: dict[str, dict[str, list[dict[str, str]]]] = {"errors": {}, "skipped": {}}
        self.lock = threading.Lock()

    def add(self, kind: str, reason: str, url: str, site: str = "") -> None:
        with self.lock:
            listed = self.entries[kind].setdefault(reason, [])
            if len(listed) < self.per_reason:
                listed.append({"url": url, "site": site} if site else {"url": url})

    def as_dict(self) -> dict[str, dict[str, list[dict[str, str]]]]:
        with self.lock:
            return {kind: {reason: list(urls) for reason, urls in sorted(reasons.items())}
                    for kind, reasons in self.entries.items()}


def count_failure(stats: Stats, urls: UrlLog | None, kind: str, reason: str, url: str, site: str = "") -> None:
    """One error or skip (``kind``: errors / skipped) of ``url``: the run's count, its site's, and the URL."""
    stats.inc_value(f"{kind}/{reason}")
    if site:
        stats.inc_value(f"{SITES}{site}/{kind}/{reason}")
    if urls is not None:
        urls.add(kind, reason, url, site)


def count_found(stats: Stats, site: str) -> None:
    """An article URL a source listed: requested, or skipped because the archive has it fresh."""
    stats.inc_value(f"{SITES}{site}/found")


def count_page(stats: Stats, site: str) -> None:
    """An article page handed to extraction."""
    stats.inc_value(f"{SITES}{site}/pages")


def count_article(stats: Stats, site: str, meta: dict[str, Any], body_chars: int, outcome: str) -> None:
    """An extracted article that reached the store: ``outcome`` is stored, revised or unchanged."""
    prefix = f"{SITES}{site}/"
    stats.inc_value(prefix + "articles")
    stats.inc_value(prefix + outcome)
    stats.inc_value(prefix + "body_chars", body_chars)
    for name in TRACKED_FIELDS:
        if meta.get(name) not in (None, "", []):
            stats.inc_value(f"{prefix}fields/{name}")


def sites_from_stats(stats: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The run record's ``sites`` table from the crawl's stats."""
    sites: dict[str, dict[str, Any]] = {}
    for key, value in sorted(stats.items()):
        if not key.startswith(SITES) or not value:
            continue
        site, _, name = key[len(SITES):].partition("/")
        entry = sites.setdefault(site, {"found": 0, "pages": 0, "articles": 0, "stored": 0, "revised": 0,
                                        "unchanged": 0, "body_chars": 0, "fields": {}, "errors": {}, "skipped": {}})
        group, _, reason = name.partition("/")
        if reason and group in ("fields", "errors", "skipped"):
            entry[group][reason] = value
        elif not reason and group in entry:
            entry[group] = value
    for entry in sites.values():
        entry["fields"] = {name: entry["fields"].get(name, 0) for name in TRACKED_FIELDS}
    return sites
