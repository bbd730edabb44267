"""What a run records per site, and which URLs are behind its errors and skips.

Counts are Scrapy stats whose keys are paths (``sites/<site>/articles``,
``sites/<site>/fields/author``, ``sites/<site>/errors/http_404``); the run
record turns them into its ``sites`` table (:func:`sites_from_stats`). The
first few URLs of each error and skip reason are kept in the stats too (a
list under ``urls/<kind>/<reason>``) for the run record's ``urls``; every
one of them is in the log. The same functions count for the crawl and for
tests, given any object with Scrapy's ``inc_value``, ``get_value`` and
``set_value``.
"""

from __future__ import annotations

from typing import Any, Protocol

from pipelines.report.fields import TRACKED_FIELDS

SITES = "sites/"


URLS = "urls/"  # urls/<errors|skipped>/<reason>: the first URLs behind a reason, as a list of {url, site}
# the skip of a capture older than one of the same page already replayed or stored: the newer text stays current
OLDER_COPY = "older_copy"


def printable(text: str, limit: int = 200) -> str:
    """A message for one line of a log, an error or a run record: control characters and the raw bytes a
    parser quotes (a broken gzip member's) written as escapes, and cut at ``limit`` characters."""
    text = "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)
    return text[:limit] + ("…" if len(text) > limit else "")


class Stats(Protocol):
    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None: ...
    def get_value(self, key: str, default: Any = None) -> Any: ...
    def set_value(self, key: str, value: Any) -> None: ...


def count_failure(stats: Stats, kind: str, reason: str, url: str, site: str = "", keep: int = 50,
                  archive: str = "") -> None:
    """One error or skip (``kind``: errors / skipped) of ``url``: the run's count, its site's, and the first
    ``keep`` URLs of each reason (every one of them is in the log). A part of an archive that cannot be read
    has no URL: ``archive`` names it ("<file>: what is wrong") in the URL's place."""
    stats.inc_value(f"{kind}/{reason}")
    if site:
        stats.inc_value(f"{SITES}{site}/{kind}/{reason}")
    if keep > 0:
        key = f"{URLS}{kind}/{reason}"
        listed = stats.get_value(key)
        if listed is None:
            stats.set_value(key, listed := [])
        if len(listed) < keep:  # a list in the stats, appended in place (callers run on the reactor thread)
            entry = {"archive": archive} if archive and not url else {"url": url}
            listed.append({**entry, "site": site} if site else entry)


def urls_from_stats(stats: dict[str, Any]) -> dict[str, dict[str, list[dict[str, str]]]]:
    """The run record's ``urls``: per kind and reason, the first URLs behind it."""
    found: dict[str, dict[str, list[dict[str, str]]]] = {"errors": {}, "skipped": {}}
    for key, value in sorted(stats.items()):
        if key.startswith(URLS):
            kind, _, reason = key[len(URLS):].partition("/")
            found.setdefault(kind, {})[reason] = list(value)
    return found


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
