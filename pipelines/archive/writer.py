"""Writing the web archive: every fetched response, with its request, in gzipped WARC 1.1 files.

Writing: :class:`WarcRecorder` takes exchanges from the reactor thread into a
bounded queue; a writer thread builds the records with warcio and appends
each exchange (response, request, metadata) with a single write, so a killed
process leaves only whole gzip members and every earlier record readable.
Files rotate by size and go to the store as ``warc/<site>/<run-id>-<n>.warc.gz``.
"""

from __future__ import annotations

import io
import logging
import queue
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from isal import isal_zlib
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipelines.archive.reader import METADATA_TYPE, metadata_fields
from pipelines.document.render import SITE_KEY_RE, iso_utc
from pipelines.storage import AppendLog, Storage, StorageError

logger = logging.getLogger(__name__)
WARC_VERSION = "1.1"
SOFTWARE = "newsarchive (Scrapy, warcio)"
# The payload is stored as Scrapy's downloader hands it over: content coding (gzip, br, zstd …) as sent,
# transfer coding (chunked) already undone. The header that would say otherwise goes (docs/archive.md).
DROPPED_HEADERS = {"transfer-encoding"}
DEFAULT_GZIP_LEVEL = 2  # ISA-L's levels run from 0 (fastest) to 3 (smallest)


@dataclass
class Exchange:
    """One HTTP exchange as fetched: what the archive middleware hands to the recorder."""

    url: str
    site: str
    fetched: datetime
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    method: str = "GET"
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    protocol: str = "HTTP/1.1"
    ip_address: str = ""
    meta: dict[str, Any] = field(default_factory=dict)  # role, hints: what replay needs to rebuild the page


def warc_date(value: datetime) -> str:
    return iso_utc(value)  # the same string as the document's `fetched`: replay depends on it


def exchange_records(exchange: Exchange, gzip_level: int = DEFAULT_GZIP_LEVEL) -> bytes:
    """The response, request and metadata records of one exchange, gzipped, as one byte string."""
    buffer = io.BytesIO()
    writer = _writer(buffer, gzip_level)
    date = warc_date(exchange.fetched)
    reason = _reason(exchange.status)
    headers = [(k, v) for k, v in exchange.headers if k.lower() not in DROPPED_HEADERS]
    warc_headers = {"WARC-Date": date}
    if exchange.ip_address:
        warc_headers["WARC-IP-Address"] = exchange.ip_address
    response = writer.create_warc_record(
        exchange.url,
        "response",
        payload=io.BytesIO(exchange.body),
        length=len(exchange.body),
        http_headers=StatusAndHeaders(f"{exchange.status} {reason}", headers, protocol=_protocol(exchange.protocol)),
        warc_headers_dict=warc_headers,
    )
    parts = urlsplit(exchange.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request_headers = list(exchange.request_headers)
    if not any(k.lower() == "host" for k, _ in request_headers):
        request_headers.insert(0, ("Host", parts.netloc))
    request = writer.create_warc_record(
        exchange.url,
        "request",
        http_headers=StatusAndHeaders(f"{exchange.method} {target} HTTP/1.1", request_headers, is_http_request=True),
        warc_headers_dict={"WARC-Date": date},
    )
    writer.write_request_response_pair(request, response)
    if exchange.meta:
        # warc-fields, not JSON: pywb and cdxj-indexer skip such metadata records, so the record never
        # shadows the response that has the same URI and date (JSON ones are still read, pipelines.archive.reader)
        payload = metadata_fields({"site": exchange.site, **exchange.meta})
        metadata = writer.create_warc_record(
            exchange.url,
            "metadata",
            payload=io.BytesIO(payload),
            length=len(payload),
            warc_content_type=METADATA_TYPE,
            warc_headers_dict={
                "WARC-Date": date,
                "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
            },
        )
        writer.write_record(metadata)
    return buffer.getvalue()


def warcinfo_record(filename: str, info: dict[str, Any], gzip_level: int = DEFAULT_GZIP_LEVEL) -> bytes:
    buffer = io.BytesIO()
    writer = _writer(buffer, gzip_level)
    writer.write_record(writer.create_warcinfo_record(filename, info))
    return buffer.getvalue()


def _writer(buffer: BinaryIO, gzip_level: int) -> WARCWriter:
    return WARCWriter(GzipMembers(buffer, gzip_level), gzip=False, warc_version=WARC_VERSION)


class GzipMembers:
    """A stream that gzips each WARC record as its own member, with ISA-L.

    warcio gzips with zlib at level 9: an exchange of a 150 KB page costs 5 ms
    of CPU, in a crawl process that shares the cores with extraction (a page's
    extraction costs a few times that: docs/performance.md). With ISA-L at
    level 2 it costs 0.8 ms, for files 15% larger (23.8% of the HTML's size
    against 20.6%); level 3 writes files 3% smaller than level 2 for half
    again the CPU. Any gzip or WARC reader reads the result; ``warcio
    recompress`` shrinks an archive later. warcio's writer ends every record
    with ``flush()``: that closes the member, so that a reader can start at
    any record.
    """

    def __init__(self, out: BinaryIO, level: int):
        self.out = out
        self.level = level
        self._compressor: Any = None  # an ISA-L compressor for the record being written

    def write(self, data: bytes) -> None:
        if self._compressor is None:
            self._compressor = isal_zlib.compressobj(self.level, isal_zlib.DEFLATED, isal_zlib.MAX_WBITS + 16)
        self.out.write(self._compressor.compress(data))

    def flush(self) -> None:
        if self._compressor is not None:
            self.out.write(self._compressor.flush())
            self._compressor = None


class WarcRecorder:
    """Appends exchanges to per-site WARC files through a writer thread; rotates by size.

    One thread records (the crawl's reactor); the writer thread starts with the first exchange, and an
    exchange recorded after :meth:`close` is refused, not left in the queue unwritten.
    """

    def __init__(self, storage: Storage, run_id: str, max_size: int = 100 * 1024 * 1024,
                 queue_size: int = 256, info: dict[str, Any] | None = None, gzip_level: int = DEFAULT_GZIP_LEVEL,
                 queue_bytes: int = 32 * 1024 * 1024):
        self.storage = storage
        self.run_id = run_id
        self.max_size = max_size
        self.gzip_level = gzip_level
        self.info = {"software": SOFTWARE, "format": f"WARC File Format {WARC_VERSION}", **(info or {})}
        self.queue: queue.Queue[Exchange | None] = queue.Queue(maxsize=queue_size)
        # bodies waiting for the writer: 256 responses of 20 MB each would be 5 GB
        self.queue_bytes = queue_bytes
        self.queued_bytes = 0
        self._room = threading.Condition()
        self.files: dict[str, WarcFile] = {}
        self.exchanges = 0  # responses archived, each with its request (and metadata) record
        self.records = 0  # WARC records written: warcinfo, response, request, metadata
        self.bytes = 0
        self.failures = 0
        self.closed_files: list[str] = []
        self._closer = ThreadPoolExecutor(1, thread_name_prefix="warc-closer")
        self._closed = False  # once closed, an exchange is refused (record)
        # started by the first exchange: building the recorder (from_crawler) starts nothing
        self._thread = threading.Thread(target=self._run, name="warc-writer", daemon=True)

    def record(self, exchange: Exchange) -> None:
        """Queue an exchange; blocks only when the writer is ``queue_size`` exchanges or ``queue_bytes`` behind."""
        if not SITE_KEY_RE.match(exchange.site):
            raise ValueError(f"unsafe site key {exchange.site!r}")
        size = len(exchange.body)
        with self._room:
            if self._closed:  # queued behind the writer's last item, it would never be written
                raise RuntimeError(f"the WARC recorder is closed: {exchange.url} not archived")
            # one exchange larger than the budget still goes, alone
            self._room.wait_for(lambda: not self.queued_bytes or self.queued_bytes + size <= self.queue_bytes)
            self.queued_bytes += size
            if self._thread.ident is None:
                self._thread.start()
        self.queue.put(exchange)

    def close(self) -> None:
        with self._room:
            self._closed = True
            started = self._thread.ident is not None
        if started:
            self.queue.put(None)
            self._thread.join()
        self._closer.shutdown(wait=True)  # the last uploads of rotated and final files

    def _run(self) -> None:
        while True:
            exchange = self.queue.get()
            if exchange is None:
                break
            try:
                self._write(exchange)
            except OSError as exc:  # a full disk must not kill the writer: log, count, go on
                self.failures += 1
                logger.error("could not archive %s: %s", exchange.url, exc)
            except Exception:
                self.failures += 1
                logger.exception("could not archive %s", exchange.url)
            finally:
                with self._room:
                    self.queued_bytes -= len(exchange.body)
                    self._room.notify_all()
        for site in list(self.files):
            self._close_file(site)

    def _write(self, exchange: Exchange) -> None:
        data = exchange_records(exchange, self.gzip_level)
        current = self.files.get(exchange.site) or self._open_file(exchange.site, self._next_number(exchange.site))
        if current.exchanges and current.log.size + len(data) > self.max_size:
            self._close_file(exchange.site)
            current = self._open_file(exchange.site, current.number + 1)
        current.log.write(data)
        current.exchanges += 1
        self.exchanges += 1
        self.records += 3 if exchange.meta else 2  # response and request, and metadata when there is any
        self.bytes += len(data)

    def _open_file(self, site: str, number: int) -> WarcFile:
        key = f"warc/{site}/{self.run_id}-{number:05d}.warc.gz"
        log = self.storage.open_append(key)
        if log.size == 0:
            info = warcinfo_record(key.rsplit("/", 1)[-1], self.info, self.gzip_level)
            log.write(info)
            self.records += 1
            self.bytes += len(info)
        self.files[site] = WarcFile(log, number)
        return self.files[site]

    def _next_number(self, site: str) -> int:
        """After the files this run id already has (a resumed crawl keeps its id)."""
        pattern = re.compile(rf"^warc/{site}/{re.escape(self.run_id)}-(\d+)\.warc\.gz$")
        try:
            keys = list(self.storage.list(f"warc/{site}"))
        except StorageError as exc:  # S3 down: a file this number already has is continued when the spool is flushed
            logger.warning("cannot list the WARC files of %s, numbering from 0: %s", site, exc)
            keys = []
        numbers = [int(m.group(1)) for key in keys if (m := pattern.match(key))]
        return max(numbers) + 1 if numbers else 0

    def _close_file(self, site: str) -> None:
        """Close a rotated file in the background: on S3 closing uploads it, and the writer must go on."""
        current = self.files.pop(site)
        self._closer.submit(self._close_log, current.log)

    def _close_log(self, log: AppendLog) -> None:
        try:
            log.close()
        except Exception:  # the file stays where the storage keeps failed uploads (the spool)
            self.failures += 1
            logger.exception("could not close %s", log.key)
        self.closed_files.append(log.key)


@dataclass
class WarcFile:
    log: AppendLog
    number: int
    exchanges: int = 0


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _protocol(protocol: str) -> str:
    return "HTTP/2" if protocol.lower() in ("h2", "http/2", "http/2.0") else "HTTP/1.1"
