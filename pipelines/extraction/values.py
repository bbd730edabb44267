"""Values the crawl compares and stores: URLs normalized and matched by site, dates parsed.

Kept apart from :mod:`pipelines.extraction.metadata` because the crawl process needs
them (dedup, spiders, replay) and never extracts: importing them must not
load trafilatura and htmldate there.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import lru_cache
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit, urlunsplit

import courlan
from dateutil import parser as dateparser

EARLIEST = datetime(1990, 1, 1, tzinfo=timezone.utc)


def parse_date(value: str) -> datetime | None:
    """A publication time in UTC, or None for anything implausible (naive times count as UTC)."""
    value = (value or "").strip()
    if not value or len(value) > 64:
        return None
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            try:
                parsed = dateparser.parse(value, fuzzy=False)
            except (ValueError, OverflowError, TypeError):
                return None
    if parsed is None:
        return None
    parsed = parsed.astimezone(timezone.utc) if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    if parsed < EARLIEST or parsed > datetime.now(timezone.utc) + timedelta(days=2):
        return None
    return parsed.replace(microsecond=0)


@lru_cache(maxsize=4096)  # one URL is normalized by the spider, the index lookup and the index record
def normalize_url(url: str) -> str:
    try:
        parts = urlsplit(courlan.normalize_url(url))
    except ValueError:
        return url
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def same_site(a: str, b: str) -> bool:
    host_a, host_b = (_bare_host(a), _bare_host(b))
    if not host_a or not host_b:
        return False
    return host_a == host_b or host_a.endswith("." + host_b) or host_b.endswith("." + host_a)


def _bare_host(url: str) -> str:
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
    return host[4:] if host.startswith("www.") else host
