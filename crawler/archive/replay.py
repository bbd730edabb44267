"""ReplayMiddleware: responses come from WARC files instead of the network.

Two uses, one middleware:

* ``REPLAY_WARC=<file|dir|s3://…>`` makes any spider, unchanged, crawl the
  archive: each request is answered from an index of the archive's responses
  (URL -> file and offset); a request the archive does not hold fails with a
  clear log line and never reaches the network.
* ``scrapy replay`` streams an archive and hands each response to this
  middleware under a token in ``request.meta["replay_token"]``.

It sits where the archive middleware records (order 950), so replayed
responses pass the same middlewares (decompression, redirects, errors) as
live ones. Responses are flagged ``replayed`` and never recorded again.
"""

from __future__ import annotations

import ipaddress
import logging
import tempfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Headers, Request, Response
from scrapy.responsetypes import responsetypes

from pipelines.archive.files import WARC_SUFFIXES, warc_sources
from pipelines.archive.reader import ArchivedResponse, WarcRecords, iter_exchanges, missing_uri, parse_warc_date
from pipelines.archive.writer import warc_date
from pipelines.extraction.values import normalize_url
from pipelines.report.runlog import count_failure
from pipelines.storage import storage_from_settings

logger = logging.getLogger(__name__)


class NotInArchive(IgnoreRequest):
    """A request that the archive being replayed does not hold."""


@dataclass
class IndexEntry:
    path: Path
    offset: int  # of the response record whose payload answers (for a revisit: the capture it refers to)
    date: str  # WARC-Date of the record found under the URL
    revisit: bool = False


class WarcIndex:
    """Where each URL's latest response lives in a set of local WARC files.

    A revisit record counts as a response of its own date, answered with the payload of the capture it
    refers to (found by payload digest, or by WARC-Refers-To-Target-URI and -Date, in any of the files).
    A record without a target URI is left out, and named in ``skipped``.
    """

    def __init__(self, files: list[Path], names: dict[Path, str] | None = None):
        self.files = files
        names = names or {}  # a copy's origin (S3 key, WACZ member), named in ``skipped`` instead of the copy
        self.entries: dict[str, IndexEntry] = {}
        self.skipped: list[str] = []  # "<file>: what is wrong with the record"
        captures: dict[str, tuple[Path, int]] = {}
        revisits: list[tuple[str, str, list[str]]] = []  # (url, date, keys of the capture referred to)
        for path in files:
            with open(path, "rb") as stream:
                iterator = WarcRecords(stream, check_digests=False)
                for record in iterator:
                    if problem := missing_uri(record):
                        self.skipped.append(f"{names.get(path, path)}: {problem}")
                        continue
                    headers = record.rec_headers
                    url = headers.get_header("WARC-Target-URI")
                    date = headers.get_header("WARC-Date") or ""
                    if record.rec_type == "response":
                        offset = iterator.get_record_offset()
                        captures[f"{url} {date}"] = (path, offset)
                        if headers.get_header("WARC-Payload-Digest"):
                            captures[headers.get_header("WARC-Payload-Digest")] = (path, offset)
                        self._add(url, IndexEntry(path, offset, date))
                    elif record.rec_type == "revisit":
                        referred = f"{headers.get_header('WARC-Refers-To-Target-URI') or url} "
                        referred += headers.get_header("WARC-Refers-To-Date") or ""
                        revisits.append((url, date, [headers.get_header("WARC-Payload-Digest") or "", referred]))
        for url, date, keys in revisits:
            capture = next((captures[key] for key in keys if key in captures), None)
            if capture is None:
                logger.warning("revisit of %s refers to a capture these files do not hold: skipped", url)
                continue
            self._add(url, IndexEntry(*capture, date, revisit=True))

    def _add(self, url: str, entry: IndexEntry) -> None:
        for key in {url, normalize_url(url)}:
            if key not in self.entries or self.entries[key].date <= entry.date:
                self.entries[key] = entry

    def get(self, url: str) -> ArchivedResponse | None:
        entry = self.entries.get(url) or self.entries.get(normalize_url(url))
        if entry is None:
            return None
        with open(entry.path, "rb") as stream:
            stream.seek(entry.offset)
            archived = next(iter_exchanges(stream), None)
        if archived is not None and entry.revisit:
            archived.revisit_of, archived.fetched, archived.url = (
                warc_date(archived.fetched),
                parse_warc_date(entry.date),
                url,
            )
        return archived

    def __len__(self) -> int:
        return len({id(entry) for entry in self.entries.values()})


def local_warc_files(location: str, target: Path, settings: Any = None,
                     names: dict[Path, str] | None = None) -> list[Path]:
    """The WARC files of a location; S3 objects and the WARCs of a WACZ are copied into ``target`` first
    (random access needs a file of its own); ``names`` gets each copy's origin, for log lines."""
    files = []
    for number, (name, opener) in enumerate(warc_sources(location, partial(open_store_prefix, settings=settings))):
        if "://" not in name and name.endswith(WARC_SUFFIXES) and Path(name).is_file():
            files.append(Path(name))
            continue
        path = target / f"{number:06d}.warc.gz"  # the name does not matter to readers: they look at the bytes
        with opener() as source, open(path, "wb") as handle:
            while chunk := source.read(1024 * 1024):
                handle.write(chunk)
        files.append(path)
        if names is not None:
            names[path] = name
    return files


def open_store_prefix(location: str, settings: Any) -> tuple[Any, str]:
    """``s3://bucket/some/prefix`` -> (storage for the bucket, ``some/prefix``), with the S3 settings."""
    parts = urlsplit(location)
    return storage_from_settings(settings, f"{parts.scheme}://{parts.netloc}"), parts.path.strip("/")


def build_response(archived: ArchivedResponse, request: Request) -> Response:
    headers = Headers(archived.headers)
    cls = responsetypes.from_args(headers=headers, url=archived.url, body=archived.body)
    try:
        ip_address = ipaddress.ip_address(archived.ip_address) if archived.ip_address else None
    except ValueError:
        ip_address = None
    return cls(
        url=archived.url,
        status=archived.status,
        headers=headers,
        body=archived.body,
        flags=["replayed"],
        request=request,
        ip_address=ip_address,
        protocol=archived.protocol,
    )


class ReplayMiddleware:
    """Answers requests from the archive: ``REPLAY_WARC``'s index, or the response ``scrapy replay``'s spider
    put in the request (``request.meta["archived"]``, with ``REPLAY_STREAM``)."""

    def __init__(self, stats: Any, index: WarcIndex | None = None, streaming: bool = False):
        if index is None and not streaming:
            raise NotConfigured  # not replaying
        self.stats = stats
        self.index = index
        self.streaming = streaming

    @classmethod
    def from_crawler(cls, crawler: Any) -> ReplayMiddleware:
        settings = crawler.settings
        location = settings.get("REPLAY_WARC") or ""
        index = None
        if location:
            state = Path(settings.get("STATE_DIR")).expanduser()
            state.mkdir(parents=True, exist_ok=True)
            # downloaded copies of S3 objects live as long as the crawl
            downloads = tempfile.TemporaryDirectory(prefix="replay-", dir=state)
            crawler.signals.connect(downloads.cleanup, signal=signals.engine_stopped, weak=False)
            names: dict[Path, str] = {}
            files = local_warc_files(location, Path(downloads.name), settings, names)
            if not files:
                raise RuntimeError(f"REPLAY_WARC={location}: no WARC files there")  # fail closed: never go online
            index = WarcIndex(files, names)
            for problem in index.skipped:  # counted as a replay counts them
                count_failure(crawler.stats, "errors", "unreadable_warc", "", keep=settings.getint("RUN_RECORD_URLS"),
                              archive=problem)
                logger.warning("unreadable record skipped: %s", problem)
            logger.info("replaying %d responses from %d WARC file(s) at %s", len(index), len(files), location)
        return cls(crawler.stats, index, settings.getbool("REPLAY_STREAM"))

    def process_request(self, request: Request) -> Response:
        archived = request.meta.pop("archived", None)
        if archived is None and self.index is not None:
            archived = self.index.get(request.url)
        if archived is None:
            if urlsplit(request.url).path == "/robots.txt":
                # an archive without robots.txt: answer as a server without one would
                return Response(url=request.url, status=404, flags=["replayed"], request=request)
            self.stats.inc_value("replay/missing")
            raise NotInArchive(f"not in archive, not fetched: {request.url}")
        request.meta["fetched"] = archived.fetched
        self.stats.inc_value("replay/responses")
        if archived.truncated:  # the archive holds less than was sent (Common Crawl cuts pages at 1 MB)
            self.stats.inc_value("replay/truncated")
            logger.warning("archived response cut short (WARC-Truncated: %s): %s", archived.truncated, archived.url)
        return build_response(archived, request)
