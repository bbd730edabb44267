"""Values the crawl compares and stores: URLs normalized and matched by site, dates parsed.

Kept apart from :mod:`pipelines.extraction.metadata` because the crawl process needs
them (dedup, spiders, replay) and never extracts: importing them must not
load trafilatura and htmldate there.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import courlan
from dateutil import parser as dateparser

EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)


def parse_date(value: str, zone: str = "") -> datetime | None:
    """A publication time in UTC, or None for anything implausible.

    A time written without an offset is read in ``zone`` (an IANA name or a fixed offset such as
    ``+02:00``: the page's or the site's); only without one is it taken as UTC. A bare date
    (no time) stays midnight UTC of that day, so that the day never shifts.
    """
    value = (value or "").strip()
    if not value or len(value) > 64:
        return None
    parsed: datetime | None = _epoch(value)
    if parsed is not None:
        return parsed
    value = _GMT_OFFSET.sub(_iso_offset, value)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:  # RFC 2822 (feeds); its parser also takes "March 10, 2024 2:30 PM PDT", dropping the PM and the zone
            parsed = parsedate_to_datetime(value) if _RFC2822.fullmatch(value) else None
            if parsed is None:
                raise ValueError(value)
        except (TypeError, ValueError, IndexError):
            try:  # dotted dates are day first wherever they are written ("10.03.2024": 10 March)
                parsed = dateparser.parse(value, fuzzy=False, dayfirst=bool(_DOTTED.match(value)),
                                          tzinfos=functools.partial(_abbreviation, zone))
            except (ValueError, OverflowError, TypeError):
                return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        has_time = bool(_TIME.search(value))
        tz = to_zone(zone) if has_time else None
        parsed = parsed.replace(tzinfo=tz or UTC)
    parsed = parsed.astimezone(UTC)
    if parsed < EARLIEST or parsed > datetime.now(UTC) + timedelta(days=2):
        return None
    return parsed.replace(microsecond=0)


_TIME = re.compile(r"\d{1,2}:\d\d")
_RFC2822 = re.compile(  # "Sun, 10 Mar 2024 14:30:00 +0000", and no more ("… 2:30 PM" is not one)
    r"(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}"
    r"(?:\s+\d{1,2}:\d\d(?::\d\d)?(?:\s+(?:[+-]\d{4}|(?!AM\b|PM\b)[A-Za-z]{1,5}))?)?"
)
# "14:30 UTC+1", "GMT+01:00", "(UTC+05:30)", "GMT-3": pages mean UTC plus that offset, but dateutil reads them as
# POSIX zones ("UTC+1" is an hour *behind* UTC). Not after a "/": "Etc/GMT+1" is a POSIX zone's name; nor after a
# letter, but after a digit ("14:30GMT+1": dateutil reads it as POSIX's there too).
_GMT_OFFSET = re.compile(r"(?<![^\W\d_]|/)\(?(?:UTC|GMT)\s?([+-])(\d{1,2})(?::?(\d\d))?(?![\d:])\)?")
_DOTTED = re.compile(r"\d{1,2}\.\d{1,2}\.\d{2,4}\b")
_EPOCH = re.compile(r"(\d{10})(\d{3})?(?:\.\d+)?")
# zone abbreviations printed after a time ("14:30 EST"), which dateutil reads as UTC: the page's own zone's
# when it is called so (China's and Taiwan's "CST"), else these, which name one offset. Ambiguous ones (CST:
# US Central, China; BST: British summer, Bangladesh; IST: India, Israel, Ireland) count only as the page's own.
_ZONES = {name: hours * 3600 for name, hours in {
    "UTC": 0, "GMT": 0, "EST": -5, "EDT": -4, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    "CET": 1, "CEST": 2, "EET": 2, "EEST": 3, "MSK": 3, "JST": 9, "KST": 9, "AEST": 10, "AEDT": 11,
}.items()}


def _iso_offset(match: re.Match[str]) -> str:
    """A "UTC+1" as the "+01:00" it means; as it was if no offset is that far from UTC."""
    hours, minutes = int(match[2]), int(match[3] or 0)
    return f"{match[1]}{hours:02d}:{minutes:02d}" if hours <= 14 and minutes < 60 else match[0]


def _abbreviation(zone: str, name: str | None, offset: int | None) -> tzinfo | int | None:
    """dateutil's ``tzinfos``: the offset a zone abbreviation names on a page read in ``zone``.

    dateutil calls it for every offset it finds, written as a number too ("+01:00", no name): that one stands,
    also after a name that we do not know or that names several ("14:30 IST (GMT+5:30)", "14:30 WIB +07:00"):
    without it the time was read in the site's zone.
    """
    written = offset if offset is not None and abs(offset) <= 14 * 3600 else None  # dateutil takes "UTC+25" too
    if name is None:
        return written
    own = to_zone(zone) if zone else None
    if own is not None and name in {datetime(2024, month, 15, tzinfo=own).tzname() for month in (1, 7)}:
        return own
    return _ZONES.get(name, written)


def _epoch(value: str) -> datetime | None:
    """A Unix time in seconds or milliseconds (JSON-LD ``"datePublished": 1710081000``), if plausible."""
    match = _EPOCH.fullmatch(value)
    if match is None:
        return None
    parsed = datetime.fromtimestamp(int(match[1]), UTC)
    return parsed if EARLIEST <= parsed <= datetime.now(UTC) + timedelta(days=2) else None
_OFFSET = re.compile(r"^([+-])(\d\d):?(\d\d)$")


@lru_cache(maxsize=256)
def to_zone(zone: str) -> tzinfo | None:
    """An IANA zone name or a "+02:00" offset as a tzinfo; None for anything else."""
    zone = (zone or "").strip()
    if not zone:
        return None
    match = _OFFSET.match(zone)
    if match:
        sign = -1 if match[1] == "-" else 1
        return timezone(sign * timedelta(hours=int(match[2]), minutes=int(match[3])))
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@lru_cache(maxsize=4096)  # one URL is normalized by the spider, the index lookup and the index record
def normalize_url(url: str) -> str:
    try:
        parts = urlsplit(courlan.normalize_url(url))
    except ValueError:
        return url
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def page_key(url: str) -> str:
    """What two addresses of one page share: the scheme, a "www." and a trailing slash aside ("" for no address).

    JSON-LD written by a CMS often names the page as http:// or without "www." while the page is served
    over https from www.
    """
    normal = normalize_url(url) if url else ""
    try:
        parts = urlsplit(normal)
    except ValueError:
        return ""
    host = _bare_host(normal)
    return f"{host}{parts.path.rstrip('/')}?{parts.query}" if host else ""


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
    return host.removeprefix("www.")
