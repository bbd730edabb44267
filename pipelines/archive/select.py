"""Which records of an archive a replay reads, and the units of work it is cut into.

A :class:`Selection` (sites, fetch dates, publication dates, a URL pattern) is
answered from indexes, so that records it leaves out are never read: the site
from where a store keeps a file (``warc/<site>/``), the fetch date and the URL
from the CDXJ index beside each WARC file (built and saved there when a file
has none), the publication date from the store's manifests (each stored
article's ``date``, with the URL and time its response was archived at).

:func:`plan_units` turns the files into :class:`Unit` s: a whole file, or
spans of it (byte ranges that start at a response record and end where the
next one starts, so that each holds whole exchanges: response, request,
metadata). Spans come from the index, for the records a selection keeps and to
cut a large file into units of about ``unit_bytes``. A file that holds revisit
records is read whole: a revisit's payload is in an earlier record of the file.
Nothing here imports Scrapy.
"""

from __future__ import annotations

import builtins
import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipelines.archive.files import ArchiveFile, ReadCounter
from pipelines.archive.reader import ArchivedResponse
from pipelines.archive.wacz import cdxj_index, timestamp14
from pipelines.document.render import DATE_FORMAT, iso_utc

logger = logging.getLogger(__name__)

Span = tuple[int, "int | None"]  # bytes [start, end) of a file; end None: to its end


@dataclass(frozen=True)
class Capture:
    """One response (or revisit) record, as the file's CDXJ index lists it."""

    url: str
    timestamp: str  # 14 digits, UTC: the record's WARC-Date
    offset: int
    revisit: bool = False


def parse_cdxj(data: bytes) -> list[Capture]:
    """The captures of one WARC file's CDXJ index, in the order of the file (lines that are not CDXJ are skipped)."""
    captures = []
    for line in data.decode("utf-8", "replace").splitlines():
        parts = line.split(" ", 2)
        if len(parts) < 3:
            continue
        try:
            fields = json.loads(parts[2])
            captures.append(Capture(url=fields["url"], timestamp=parts[1], offset=int(fields["offset"]),
                                    revisit=fields.get("mime") == "warc/revisit"))
        except (ValueError, KeyError, TypeError):
            continue
    return sorted(captures, key=lambda capture: capture.offset)


def date_bound(text: str, upper: bool = False) -> datetime:
    """A ``--since`` / ``--until`` value: a day (``2026-01-31``: an upper bound takes the whole day) or an ISO time."""
    value = text.strip()
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r}: expected a date (2026-01-31) or a time (2026-01-31T12:00:00Z)") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if upper and len(value) == 10:  # a day: until its end
        moment += timedelta(days=1)
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class Selection:
    """What to replay; the default, everything. Date ranges are [since, until); a URL pattern is searched."""

    sites: frozenset[str] = frozenset()
    fetched_since: datetime | None = None
    fetched_until: datetime | None = None
    published_since: datetime | None = None
    published_until: datetime | None = None
    url: str = ""
    _pattern: re.Pattern | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_pattern", re.compile(self.url) if self.url else None)

    @property
    def everything(self) -> bool:
        return not self.sites and not self.by_record

    @property
    def by_record(self) -> bool:
        """True when records must be picked one by one (from an index), not only whole files by site."""
        return bool(self.fetched_since or self.fetched_until or self.published or self.url)

    @property
    def published(self) -> bool:
        return bool(self.published_since or self.published_until)

    def wants_site(self, site: str) -> bool:
        return not self.sites or site in self.sites

    def wants_capture(self, url: str, timestamp: str, published: set[tuple[str, str]] | None = None) -> bool:
        """A record, by its URL and 14-digit WARC-Date (and the pages published in range, when that is asked)."""
        if self.fetched_since and timestamp < _digits(self.fetched_since):
            return False
        if self.fetched_until and timestamp >= _digits(self.fetched_until):
            return False
        if self._pattern and not self._pattern.search(url):
            return False
        return published is None or (url, timestamp) in published

    def wants_response(self, response: ArchivedResponse, published: set[tuple[str, str]] | None = None) -> bool:
        """The same choice for a record as read (a file read whole: no index, a WACZ member, revisits)."""
        site = response.meta.get("site")
        if self.sites and site and site not in self.sites:
            return False
        return self.wants_capture(response.url, timestamp14(iso_utc(response.fetched)), published)

    def describe(self) -> str:
        parts = [f"site {', '.join(sorted(self.sites))}"] if self.sites else []
        for name, value in (("fetched since", self.fetched_since), ("fetched before", self.fetched_until),
                            ("published since", self.published_since), ("published before", self.published_until)):
            if value:
                parts.append(f"{name} {iso_utc(value)}")
        if self.url:
            parts.append(f"URL matching {self.url!r}")
        return "; ".join(parts) or "everything"


def _digits(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def published_pages(lines: Iterable[dict[str, Any]], since: datetime | None,
                    until: datetime | None) -> set[tuple[str, str]]:
    """(URL as archived, 14-digit fetch time) of each stored article published in [since, until), from manifests."""
    pages = set()
    for line in lines:
        try:
            published = datetime.strptime(line.get("date") or "", DATE_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            continue  # no publication date known: left out of a selection by publication date
        if (since and published < since) or (until and published >= until):
            continue
        url = line.get("fetched_url") or line.get("url", "")
        pages.add((url, timestamp14(line.get("fetched", ""))))
    return pages


@dataclass(frozen=True)
class Unit:
    """A piece of work for one replay worker: a whole WARC file, or spans of it."""

    file: str  # ArchiveFile.name
    spans: tuple[Span, ...] = ()  # empty: the whole file
    records: int = 0  # the captures it holds, when an index told (0: not known)

    @property
    def id(self) -> str:
        return f"{self.file}@{self.spans[0][0]}" if self.spans else self.file

    def bytes(self, file_size: int | None = None) -> int | None:
        if not self.spans:
            return file_size
        if any(end is None for _, end in self.spans) and file_size is None:
            return None
        return sum((end if end is not None else file_size or 0) - start for start, end in self.spans)

    def as_json(self) -> str:
        return json.dumps({"file": self.file, "spans": [list(span) for span in self.spans], "records": self.records})

    @classmethod
    def from_json(cls, text: str | builtins.bytes) -> Unit:
        data = json.loads(text)
        return cls(file=data["file"], spans=tuple((start, end) for start, end in data["spans"]),
                   records=data.get("records", 0))


def plan_units(files: Iterable[ArchiveFile], selection: Selection, unit_bytes: int | None,
               captures_of: Callable[[ArchiveFile], list[Capture] | None],
               published: set[tuple[str, str]] | None = None) -> list[Unit]:
    """The units of a replay, in the order of the files.

    ``unit_bytes`` cuts a file larger than that into units (when its index is at hand; None: one unit per file).
    ``captures_of`` gives a file's index (None when it has none; it may build one).
    """
    units: list[Unit] = []
    for file in files:
        if file.site and not selection.wants_site(file.site):
            continue
        size = file.size() if unit_bytes and file.ranger and file.indexed else None  # a file is cut by its index
        split = bool(unit_bytes and size and size > unit_bytes)
        captures = captures_of(file) if file.ranger and (selection.by_record or split) else None
        if captures is None or any(capture.revisit for capture in captures):
            if captures is not None and selection.by_record and not any(
                    selection.wants_capture(c.url, c.timestamp, published) for c in captures):
                continue  # nothing this file holds is wanted
            units.append(Unit(file.name, records=len(captures or ())))
            continue
        units += file_units(file.name, captures, selection, unit_bytes if split else None, published)
    return units


def file_units(name: str, captures: list[Capture], selection: Selection, unit_bytes: int | None,
               published: set[tuple[str, str]] | None = None) -> list[Unit]:
    """Units of one indexed file: the spans of the captures a selection keeps, about ``unit_bytes`` each."""
    wanted = [selection.wants_capture(c.url, c.timestamp, published) for c in captures]
    if all(wanted) and not unit_bytes:
        return [Unit(name, records=len(captures))]
    units: list[Unit] = []
    spans: list[list[Any]] = []
    records = size = 0
    for number, capture in enumerate(captures):
        if not wanted[number]:
            continue
        start = 0 if number == 0 and all(wanted) else capture.offset  # a whole file's first unit: from its start
        end = captures[number + 1].offset if number + 1 < len(captures) else None
        length = end - start if end is not None else 0
        if unit_bytes and records and size + length > unit_bytes:
            units.append(Unit(name, tuple(tuple(span) for span in spans), records))
            spans, records, size = [], 0, 0
        if spans and spans[-1][1] == start:
            spans[-1][1] = end  # the span before ends where this one starts: one read
        else:
            spans.append([start, end])
        records += 1
        size += length
    if spans:
        units.append(Unit(name, tuple(tuple(span) for span in spans), records))
    return units


def file_captures(file: ArchiveFile, build: bool, counter: ReadCounter | None = None) -> list[Capture] | None:
    """A file's captures from the CDXJ index beside it; with ``build``, one that has none is indexed now
    (read whole once) and the index saved beside it, so that the next selection reads only the index."""
    data = file.index(counter)
    if data is not None or not build:
        return parse_cdxj(data) if data is not None else None
    with file.open(counter) as source:
        data = cdxj_index(source, filename=Path(file.name.split("#")[-1]).name).encode("utf-8")
    if file.index_saver is not None:
        try:
            logger.info("indexed %s (it had no CDXJ index): %s", file.name, file.index_saver(data))
        except Exception as exc:  # a read-only archive: the index serves this replay only
            logger.warning("indexed %s but could not save its index beside it: %s", file.name, exc)
    return parse_cdxj(data)
