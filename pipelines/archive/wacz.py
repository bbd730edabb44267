"""Packing the archive as WACZ 1.1.1 (https://specs.webrecorder.net/wacz/1.1.1/), and CDXJ indexes.

A WACZ is a zip that ReplayWeb.page and pywb open as they are:

    archive/<name>.warc.gz       the WARC files, stored (not deflated: readers seek into them)
    indexes/index.cdx.gz, .idx   the CDXJ index of every capture, compressed in blocks, with its block index
    pages/pages.jsonl            the pages a reader lists: here every stored article (url, ts, title)
    datapackage.json             every file with its size and sha256; datapackage-digest.json its hash

The index comes from cdxj-indexer (Webrecorder's). The package is written here
rather than by py-wacz because py-wacz's indexer reads every payload through
warcio's content_stream(), which raises on br-coded responses with the brotli
package that Scrapy needs (warcio issue 73): a crawl of real news sites would
not pack. Nothing here imports Scrapy.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import shutil
import warnings
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, partial
from pathlib import Path
from typing import Any, BinaryIO

from pipelines.archive.files import index_name
from pipelines.archive.reader import (
    GZIP_MAGIC,
    WarcRecords,
    is_article,
    iter_exchanges,
    missing_uri,
    whole_records,
)
from pipelines.document.render import iso_utc
from pipelines.storage import Storage

logger = logging.getLogger(__name__)

WACZ_VERSION = "1.1.1"
SOFTWARE = "newsarchive (cdxj-indexer)"
INDEX_BLOCK_LINES = 1024  # CDXJ lines per gzip block of index.cdx.gz, as ArchiveWeb.page writes them
# what a reader may replay: no metadata records (ours before 2026-12 were JSON, which indexers took for captures)
INDEXED_TYPES = ("response", "revisit", "resource")
CAPTURE_RECORDS = ",".join(INDEXED_TYPES)


@dataclass
class Page:
    """One entry of pages.jsonl: a stored article, at the URL and time its response was archived."""

    url: str
    ts: str  # ISO 8601 UTC, the response's WARC-Date
    title: str = ""

    def line(self) -> dict[str, Any]:
        return {"id": hashlib.sha256(f"{self.ts} {self.url}".encode()).hexdigest()[:16], "url": self.url,
                "ts": self.ts, **({"title": self.title} if self.title else {})}


@cache
def _indexer():
    with warnings.catch_warnings():  # py3amf, which cdxj-indexer loads, warns about pkg_resources on import
        warnings.simplefilter("ignore")
        from cdxj_indexer.main import CDXJIndexer

    class Indexer(CDXJIndexer):
        """cdxj-indexer reading through :class:`WarcRecords`: a capture without a target URI is left out of
        the index, in one log line, instead of warcio's AttributeError ending the index."""

        def _create_record_iter(self, input_):
            return WarcRecords(input_, no_record_parse=not self.record_parse, arc2warc=True,
                               verify_http=self.verify_http)

        def filter_record(self, record) -> bool:
            if problem := missing_uri(record, INDEXED_TYPES):  # a resource too: each line is keyed by its URI
                logger.warning("unreadable record not indexed: %s: %s", self.curr_filename, problem)
                return False
            return super().filter_record(record)

    return Indexer


def cdxj_index(warc: Path | BinaryIO, filename: str = "") -> str:
    """The CDXJ lines of one WARC file, sorted (what pywb and ReplayWeb.page look captures up in).

    ``warc`` is a path, or a stream read once from start to end (a download: no copy to disk first); the
    index names the WARC ``filename``, else the path's file name.
    """
    if not isinstance(warc, Path) and not filename:
        raise ValueError("a WARC read from a stream needs the file name its index gives")
    output = io.StringIO()
    _indexer()(output=output, inputs=[str(warc) if isinstance(warc, Path) else warc], sort=True,
               filename=filename or None, records=CAPTURE_RECORDS).process_all()
    return output.getvalue()


def write_cdxj_beside(storage: Storage, key: str) -> str:
    """Index the WARC file at ``key`` into ``<name>.cdxj`` beside it; returns the index's key."""
    with storage.open_read(key) as source:
        lines = cdxj_index(source, filename=Path(key).name)
    index_key = index_name(key)
    storage.put(index_key, lines.encode("utf-8"), "text/plain; charset=utf-8")
    return index_key


def keep_whole_records(warc: Path, captured: set[tuple[str, str]] | None = None) -> str:
    """What is wrong with a local WARC file (in one line), having rewritten it with only the records that
    read whole, each byte for byte, when it is damaged; "" for a sound file, left as it is. ``captured``
    gets (url, 14-digit WARC-Date) of each response and revisit record kept, what a reader of the package can
    open: the file is read once for both (a second pass cost 2.5 s per 90 MB of gzip WARC).

    A package holds what replay reads of a damaged file (a corrupt gzip member costs its record, a file
    cut short its last one), and no damaged bytes: pywb and `wacz validate` index every WARC in a package
    and stop at the first broken record. The damaged original stays where it was. Raises a read error
    (:data:`pipelines.archive.reader.READ_ERRORS`) when not one record reads: an empty file, no WARC.
    """
    problems: list[str] = []
    with open(warc, "rb") as stream:
        spans, captures = [], []
        for start, length, record in whole_records(stream, problems.append):
            spans.append((start, length))
            captures.append(_capture(record))
        if captured is not None:  # not before: a file that raises is left out
            captured.update(capture for capture in captures if capture)
        if not problems:
            return ""
        kept = warc.with_name(f".{warc.name}.kept")
        with open(kept, "wb") as out:
            for start, length in spans:
                stream.seek(start)
                # a gzip member holds its record's closing CRLF CRLF; warcio leaves it out of an uncompressed
                # record. Asked of each record, not of the file's first bytes: those may be the damaged ones
                ending = b"" if stream.read(2) == GZIP_MAGIC[:2] else b"\r\n\r\n"
                stream.seek(start)
                while length > 0 and (chunk := stream.read(min(length, 1 << 20))):
                    out.write(chunk)
                    length -= len(chunk)
                out.write(ending)
    kept.replace(warc)
    return f"{len(spans)} whole records packed, " + "; ".join(problems)


def timestamp14(iso: str) -> str:
    return "".join(ch for ch in iso if ch.isdigit())[:14]


def _capture(record) -> tuple[str, str] | None:
    if record.rec_type in ("response", "revisit") and not missing_uri(record):
        headers = record.rec_headers
        return headers.get_header("WARC-Target-URI"), timestamp14(headers.get_header("WARC-Date") or "")
    return None


def manifest_pages(lines: list[dict[str, Any]], captured: set[tuple[str, str]]) -> tuple[list[Page], int]:
    """The pages of the store's manifest lines (one per stored article revision) whose response is archived,
    and how many are not."""
    pages, seen, missing = [], set(), 0
    for line in lines:
        url, fetched = line.get("fetched_url") or line.get("url", ""), line.get("fetched", "")
        if (url, timestamp14(fetched)) not in captured:
            missing += 1
        elif (url, fetched) not in seen:
            seen.add((url, fetched))
            pages.append(Page(url=url, ts=fetched, title=line.get("title", "")))
    return pages, missing


def archive_pages(warcs: list[Path]) -> list[Page]:
    """Without a store: the archived articles (ours marked in their metadata; other tools': 200 HTML pages)."""
    pages = []
    for warc in warcs:
        with open(warc, "rb") as stream:
            for response in iter_exchanges(stream, partial(_skipped, warc.name)):
                if is_article(response):
                    pages.append(Page(url=response.url, ts=iso_utc(response.fetched)))
    return pages


def _skipped(file: str, problem: str) -> None:
    logger.warning("unreadable record not listed as a page: %s: %s", file, problem)


def write_wacz(target: BinaryIO, warcs: list[Path], pages: list[Page], title: str = "") -> None:
    """A WACZ of ``warcs`` (local files, named as they will be in archive/) listing ``pages``."""
    with zipfile.ZipFile(target, "w") as package:
        resources: list[dict[str, Any]] = []
        block_index = io.StringIO()
        with _Member(package, "indexes/index.cdx.gz", resources, zipfile.ZIP_STORED) as blocks:
            _indexer()(output=block_index, inputs=[str(p) for p in warcs], sort=True, compress=blocks,
                       lines=INDEX_BLOCK_LINES, data_out_name="index.cdx.gz", records=CAPTURE_RECORDS).process_all()
        _write(package, "indexes/index.idx", block_index.getvalue().encode(), resources)
        for warc in warcs:
            large = warc.stat().st_size > 2**31 - 2**24  # zip64 past 2 GB
            with open(warc, "rb") as source, _Member(package, f"archive/{warc.name}", resources, zipfile.ZIP_STORED,
                                                     large) as out:
                shutil.copyfileobj(source, out, 1024 * 1024)
        header = {"format": "json-pages-1.0", "id": "pages", "title": "Stored articles"}
        lines = [header] + [page.line() for page in pages]
        _write(package, "pages/pages.jsonl", "".join(json.dumps(line) + "\n" for line in lines).encode(), resources)
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        datapackage = json.dumps({"profile": "data-package", "resources": resources, "wacz_version": WACZ_VERSION,
                                  "software": SOFTWARE, "created": created, **({"title": title} if title else {})},
                                 indent=2).encode()
        package.writestr(_entry("datapackage.json"), datapackage)
        digest = {"path": "datapackage.json", "hash": "sha256:" + hashlib.sha256(datapackage).hexdigest()}
        package.writestr(_entry("datapackage-digest.json"), json.dumps(digest, indent=2))


class _Member:
    """A file of the package being written, counted and hashed for datapackage.json as it goes."""

    def __init__(self, package: zipfile.ZipFile, name: str, resources: list[dict[str, Any]],
                 compression: int = zipfile.ZIP_DEFLATED, large: bool = False):
        self.stream = package.open(_entry(name, compression), "w", force_zip64=large)
        self.name, self.resources = name, resources
        self.digest, self.size = hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.stream.write(data)

    def __enter__(self) -> _Member:
        return self

    def __exit__(self, *exc) -> None:
        self.stream.close()
        self.resources.append({"name": Path(self.name).name.lower(), "path": self.name,
                               "hash": f"sha256:{self.digest.hexdigest()}", "bytes": self.size})


def _write(package: zipfile.ZipFile, name: str, data: bytes, resources: list[dict[str, Any]]) -> None:
    with _Member(package, name, resources) as member:
        member.write(data)


def _entry(name: str, compression: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, datetime.now(UTC).timetuple()[:6])
    info.compress_type = compression
    return info
