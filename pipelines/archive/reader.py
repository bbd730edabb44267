"""Reading the web archive: :func:`iter_exchanges` streams a WARC (a local file, an S3 body, a WACZ member)
and yields each response with the metadata record written beside it.

A response's ``body`` is its payload as the server sent it: the transfer
coding (chunked) is undone, the content coding (gzip, br, zstd, …) is not, and
the ``Content-Encoding`` header stays. Whoever uses the page decodes it once,
the way the live crawl does (replay: Scrapy's HttpCompressionMiddleware).
warcio's ``content_stream()`` would decode gzip, deflate and br but not
x-gzip, zstd or stacked codings, keep the header either way, and fails on br
with the brotli package that Scrapy needs (warcio issue 73).

Archives other tools wrote are read too: warcio's ``capture_http`` and
``wget --warc-file`` (raw chunked bodies), Common Crawl's (decoded payloads
with ``X-Crawler-*`` headers, no request records, ``WARC-Truncated``), and
``revisit`` records, which are given the payload of the capture they refer to
when an earlier record of the same file holds it.

A response or revisit record without ``WARC-Target-URI`` (made by hand, or by
a tool that left it out) cannot be replayed: warcio raises AttributeError on
it, which ended the reading of the whole file (a traceback, or every later
record lost). :class:`WarcRecords` reads past it, and :func:`iter_exchanges`
tells its ``skipped`` callback, once per such record, so that callers log and
count it.
"""

from __future__ import annotations

import json
import logging
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import ChunkedDataReader
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecordLoader

from pipelines.report.runlog import printable

logger = logging.getLogger(__name__)

METADATA_TYPE = "application/warc-fields"  # WARC 1.1's type for metadata; indexers (pywb, cdxj-indexer) skip it
HINT_PREFIX = "hint-"
HTML_TYPES = ("text/html", "application/xhtml+xml")
# what reading a file that is no WARC raises (no WARC record, a broken gzip member): the file's fault, not ours
READ_ERRORS = (ArchiveLoadFailed, EOFError, OSError, zlib.error)


class RecordCutShort(ArchiveLoadFailed):
    """A record whose file ends before its Content-Length: a copy or upload cut short, a torn write.

    warcio hands out what is there without a word; a page cut short must not be taken for the page.
    """


ARTICLE_ROLE = "article"  # the role our metadata records give an article page (crawler.spiders.base)
CAPTURE_TYPES = ("response", "revisit")  # the records that are captures of a URL, and need it


class _RecordLoader(ArcWarcRecordLoader):
    """warcio's record loader, reading a record without a target URI as one without HTTP headers.

    warcio 1.8 calls ``uri.startswith`` on the missing header (AttributeError); the fix was offered
    upstream (webrecorder/warcio pull request 203) and closed unmerged.
    """

    def load_http_headers(self, rec_type, uri, stream, length):
        return super().load_http_headers(rec_type, uri or "", stream, length)


class WarcRecords(ArchiveIterator):
    """warcio's ArchiveIterator that reads on past a record without ``WARC-Target-URI`` (see
    :func:`missing_uri`)."""

    def __init__(self, stream: BinaryIO, *, verify_http: bool = False, arc2warc: bool = False, **options: Any):
        super().__init__(stream, verify_http=verify_http, arc2warc=arc2warc, **options)
        self.loader = _RecordLoader(verify_http=verify_http, arc2warc=arc2warc)


def missing_uri(record, kinds: tuple[str, ...] = CAPTURE_TYPES) -> str:
    """For a record of ``kinds`` (captures) without ``WARC-Target-URI``: what is wrong, naming the record; else ""."""
    headers = record.rec_headers
    if record.rec_type not in kinds or (headers.get_header("WARC-Target-URI") or "").strip():
        return ""
    named = headers.get_header("WARC-Record-ID") or f"of {headers.get_header('WARC-Date') or 'no date'}"
    return f"{record.rec_type} record {named} has no WARC-Target-URI"


def _log_skipped(problem: str) -> None:
    logger.warning("unreadable record skipped: %s", problem)


@dataclass
class ArchivedResponse:
    url: str
    fetched: datetime
    status: int
    headers: list[tuple[str, str]]
    body: bytes  # as sent: content-coded, transfer coding undone
    protocol: str = "HTTP/1.1"
    ip_address: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    record_id: str = ""
    truncated: str = ""  # WARC-Truncated: why the record holds less than was sent (length, time, …)
    revisit_of: str = ""  # for a revisit record: the WARC-Date of the capture whose payload it has

    def header(self, name: str) -> str:
        name = name.lower()
        return next((value for key, value in self.headers if key.lower() == name), "")


def is_article(response: ArchivedResponse) -> bool:
    """Articles of our own archives are marked in their metadata; other WARCs: any 200 HTML page."""
    role = response.meta.get("role")
    if role is not None:
        return role == ARTICLE_ROLE and response.status == 200
    return response.status == 200 and response.header("Content-Type").split(";")[0].strip().lower() in HTML_TYPES


def iter_exchanges(stream: BinaryIO, skipped: Callable[[str], None] = _log_skipped) -> Iterator[ArchivedResponse]:
    """Responses (and resolved revisits) of a WARC stream, each with its metadata record's values.

    A capture record that cannot be replayed (no target URI) is left out, and ``skipped`` is called with
    what is wrong with it (by default, a warning in the log).
    """
    captures: dict[str, int] = {}  # payload digest, and "uri date", of each response -> its offset
    resumed = 0  # the last offset the reading resumed at, after damage
    pending: ArchivedResponse | None = None  # kept across a resumption: its metadata record may come after
    while True:
        iterator = WarcRecords(stream, check_digests=False)
        try:
            for record in iterator:
                kind = record.rec_type
                if kind in CAPTURE_TYPES and pending is not None:
                    yield pending
                    pending = None
                if problem := missing_uri(record):
                    skipped(problem)
                elif kind == "response" and record.http_headers is not None:
                    pending = archived_response(record)
                    offset = iterator.get_record_offset()  # after the payload: warcio reads the rest to know it
                    captures[f"{pending.url} {record.rec_headers.get_header('WARC-Date')}"] = offset
                    digest = record.rec_headers.get_header("WARC-Payload-Digest")
                    if digest:
                        captures[digest] = offset
                elif kind == "revisit":
                    pending = _resolve_revisit(record, captures, stream)
                elif (kind == "metadata" and pending is not None
                      and record.rec_headers.get_header("WARC-Concurrent-To") == pending.record_id):
                    pending.meta = read_metadata(record) or pending.meta
                iterator.read_to_end()  # so that its offset is where the next record starts
        except READ_ERRORS as exc:
            # a corrupt gzip member in the middle of the file: read on from the next member that holds a
            # record (else, at the end of the file or in a stream that cannot seek, the error stands).
            # warcio's offset: the end of the last record read whole, where the damaged one starts
            start = max(iterator.offset, resumed) + 1
            found = _next_member(stream, start)
            if found is None:
                raise
            problem = printable(str(exc) or type(exc).__name__, 120)
            skipped(f"bytes {start - 1}-{found} unreadable, read on after them: {problem}")
            stream.seek(found)
            resumed = found
            continue
        if pending is not None:
            yield pending
        return


def _next_member(stream: BinaryIO, start: int, chunk: int = 1 << 20) -> int | None:
    """The offset of the first gzip member at or after ``start`` that holds a WARC record, or None (a stream
    that cannot seek, an uncompressed file, none left)."""
    if not getattr(stream, "seekable", lambda: False)():
        return None
    position = start
    while True:
        stream.seek(position)
        data = stream.read(chunk + 64)
        if not data:
            return None
        at = data.find(GZIP_MAGIC)
        while 0 <= at < min(len(data), chunk):
            stream.seek(position + at)
            head = stream.read(4096)
            try:
                if zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head).startswith(b"WARC/"):
                    return position + at
            except zlib.error:
                pass
            at = data.find(GZIP_MAGIC, at + 1)
        if len(data) <= chunk:
            return None
        position += chunk


GZIP_MAGIC = b"\x1f\x8b\x08"


def archived_response(record) -> ArchivedResponse:
    """A response record's status, headers and payload as sent (chunking undone, content coding kept)."""
    headers = record.rec_headers
    http = record.http_headers
    status_text = (http.get_statuscode() or "0").strip()
    http_headers = list(http.headers)
    payload = record.raw_stream
    if "chunked" in (http.get_header("Transfer-Encoding") or "").lower():
        # raw chunks as received (capture_http, wget); a body already de-chunked passes through unchanged
        payload = ChunkedDataReader(record.raw_stream)
        http_headers = [(k, v) for k, v in http_headers if k.lower() != "transfer-encoding"]
    body = payload.read()
    while record.raw_stream.read(65536):  # after the last chunk: a stray CRLF some servers send, not a loss
        pass
    missing = getattr(record.raw_stream, "limit", 0)  # bytes the record says it has and the file does not
    if missing > 0:
        raise RecordCutShort(f"the record of {headers.get_header('WARC-Target-URI')} is cut short "
                             f"({missing} bytes missing): the file ends early")
    return ArchivedResponse(
        url=headers.get_header("WARC-Target-URI"),
        fetched=parse_warc_date(headers.get_header("WARC-Date")),
        status=int(status_text) if status_text.isdigit() else 0,
        headers=http_headers,
        body=body,
        protocol=http.protocol or "HTTP/1.1",
        ip_address=headers.get_header("WARC-IP-Address") or "",
        record_id=headers.get_header("WARC-Record-ID") or "",
        truncated=headers.get_header("WARC-Truncated") or "",
    )


def _resolve_revisit(record, captures: dict[str, int], stream: BinaryIO) -> ArchivedResponse | None:
    """A revisit with the status, headers and payload of the capture it refers to, read again from the stream.

    The original's headers go with its payload (its Content-Encoding describes those bytes); the URL and
    the time are the revisit's. None when the original is not earlier in this stream (another file, an
    earlier crawl) or the stream cannot seek back.
    """
    headers = record.rec_headers
    url = headers.get_header("WARC-Target-URI")
    keys = [headers.get_header("WARC-Payload-Digest"),
            f"{headers.get_header('WARC-Refers-To-Target-URI') or url} {headers.get_header('WARC-Refers-To-Date')}"]
    offset = next((captures[key] for key in keys if key and key in captures), None)
    if offset is None or not getattr(stream, "seekable", lambda: False)():
        logger.warning("revisit of %s refers to a capture this file does not hold: skipped", url)
        return None
    position = stream.tell()  # the outer iterator reads on from here: put the stream back after
    try:
        stream.seek(offset)
        original = next(WarcRecords(stream, check_digests=False))
        response = archived_response(original)
    finally:
        stream.seek(position)
    response.revisit_of = original.rec_headers.get_header("WARC-Date") or ""
    response.url = url
    response.fetched = parse_warc_date(headers.get_header("WARC-Date"))
    response.record_id = headers.get_header("WARC-Record-ID") or ""
    return response


def metadata_fields(meta: dict[str, Any]) -> bytes:
    """The body of our metadata record: ``application/warc-fields``, one ``name: value`` per line.

    Hints become ``hint-<name>`` fields. Values are escaped so that one stays on one line and reads
    back exactly: backslash, CR and LF as ``\\\\``, ``\\r``, ``\\n``.
    """
    lines = []
    for name, value in meta.items():
        if isinstance(value, dict):
            lines += [(f"{HINT_PREFIX if name == 'hints' else name + '-'}{key}", item) for key, item in value.items()]
        else:
            lines.append((name, value))
    return "".join(f"{name}: {_escape(str(value))}\r\n" for name, value in lines).encode("utf-8")


def read_metadata(record) -> dict[str, Any]:
    """The values of a metadata record: ours as warc-fields, or as JSON (archives written before 2026-12)."""
    data = record.content_stream().read()
    if (record.rec_headers.get_header("Content-Type") or "").startswith("application/json"):
        try:
            value = json.loads(data)
        except ValueError:
            logger.warning("unreadable metadata record for %s", record.rec_headers.get_header("WARC-Target-URI"))
            return {}
        return value if isinstance(value, dict) else {}
    meta: dict[str, Any] = {}
    for line in data.decode("utf-8", "replace").splitlines():
        name, colon, value = line.partition(":")
        if not colon:
            continue
        name, value = name.strip(), _unescape(value.strip())
        if name.startswith(HINT_PREFIX):
            meta.setdefault("hints", {})[name.removeprefix(HINT_PREFIX)] = value
        else:
            meta[name] = value
    return meta


_ESCAPES = {"\\": "\\\\", "\r": "\\r", "\n": "\\n"}
_UNESCAPES = {"\\\\": "\\", "\\r": "\r", "\\n": "\n"}


def _escape(value: str) -> str:
    return re.sub(r"[\\\r\n]", lambda m: _ESCAPES[m.group()], value)


def _unescape(value: str) -> str:
    return re.sub(r"\\[\\rn]", lambda m: _UNESCAPES[m.group()], value)


def parse_warc_date(value: str) -> datetime:
    value = (value or "").strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return datetime.now(UTC).replace(microsecond=0)
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).replace(microsecond=0)
