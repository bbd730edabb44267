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
from warcio.bufferedreaders import ChunkedDataReader, DecompressingBufferedReader
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecordLoader
from warcio.utils import BUFF_SIZE

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


class OneGzipStream(ArchiveLoadFailed):
    """A WARC compressed as one gzip stream, not one gzip member per record (``gzip file.warc``, some tools):
    sound, but warcio, pywb and `wacz validate` read no further than its first record, and a record's
    offset in it says nothing. No damage to cut out: the whole file is named, with its cure."""


ARTICLE_ROLE = "article"  # the role our metadata records give an article page (crawler.spiders.base)
CAPTURE_TYPES = ("response", "revisit")  # the records that are captures of a URL, and need it


class _RecordLoader(ArcWarcRecordLoader):
    """warcio's record loader, reading a record without a target URI as one without HTTP headers, and
    refusing a record that is not a WARC record.

    warcio 1.8 calls ``uri.startswith`` on the missing header (AttributeError); the fix was offered
    upstream (webrecorder/warcio pull request 203) and closed unmerged.
    """

    def load_http_headers(self, rec_type, uri, stream, length):
        return super().load_http_headers(rec_type, uri or "", stream, length)

    def parse_record_stream(self, stream, *args: Any, **kwargs: Any):
        record = super().parse_record_stream(stream, *args, **kwargs)
        if record.format != "warc":  # warcio takes any line of words for an ARC header: a file of text or HTML
            raise ArchiveLoadFailed(f"not a WARC record: {record.rec_headers.get_header('uri') or ''}…")
        return record


class _Decompressor(DecompressingBufferedReader):
    """warcio's gzip reader, raising the zlib error of a member that breaks off partway (corrupt bytes in it).

    warcio 1.8 writes it to stderr, once per block read (hundreds of "Error -3 while decompressing data"
    lines beside our one; it has no option to keep quiet), and hands out nothing more: the record reads as
    cut short. Raised, it is a read error like any other, which :func:`iter_exchanges` names in one line
    and reads on after. A stream whose first block is no gzip is still read as uncompressed, as warcio does.
    """

    def _decompress(self, data: bytes) -> bytes:
        if self.decompressor and data and self.num_block_read:
            return self.decompressor.decompress(data)
        return super()._decompress(data)


class WarcRecords(ArchiveIterator):
    """warcio's ArchiveIterator that reads on past a record without ``WARC-Target-URI`` (see
    :func:`missing_uri`), refuses a file that is not a WARC, raises on a corrupt gzip member
    (:class:`_Decompressor`), and keeps quiet about a record followed by no blank line."""

    # warcio writes three lines to stderr for a record of an uncompressed file not followed by its blank line:
    # a length that ran past the record is damage we name in one line (:func:`_overran`); a few bytes short,
    # that warcio reads past, is no loss (wget's)
    INC_RECORD = ""

    def __init__(self, stream: BinaryIO, *, verify_http: bool = False, arc2warc: bool = False,
                 block_size: int = BUFF_SIZE, **options: Any):
        super().__init__(stream, verify_http=verify_http, arc2warc=arc2warc, block_size=block_size, **options)
        self.loader = _RecordLoader(verify_http=verify_http, arc2warc=arc2warc)
        self.reader = _Decompressor(self.fh, block_size=block_size)  # before the first record: none read yet


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
    pending_at = -1  # the offset of pending's record
    last: tuple[int, int] | None = None  # (offset, length) of the last record read, if it was not gzip
    gzipped = False  # whether a record of the file was read from a gzip member
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
                    offset = pending_at = iterator.get_record_offset()  # after the payload: warcio reads the rest
                    captures[f"{pending.url} {record.rec_headers.get_header('WARC-Date')}"] = offset
                    digest = record.rec_headers.get_header("WARC-Payload-Digest")
                    if digest:
                        captures[digest] = offset
                elif kind == "revisit":
                    pending = _resolve_revisit(record, captures, stream)
                    pending_at = iterator.get_record_offset()
                elif (kind == "metadata" and pending is not None
                      and record.rec_headers.get_header("WARC-Concurrent-To") == pending.record_id):
                    pending.meta = read_metadata(record) or pending.meta
                iterator.read_to_end()  # so that its offset is where the next record starts
                gzipped = gzipped or iterator.reader.decompressor is not None
                last = None if iterator.reader.decompressor else (iterator.get_record_offset(),
                                                                   iterator.get_record_length())
        except READ_ERRORS as exc:
            start = max(iterator.offset, resumed)
            compressed = _compressed(stream, iterator, gzipped)
            if _overran(stream, last):  # the last record read is part of the damage
                start = max(last[0], resumed)  # type: ignore[index]
                pending = None if pending_at == start else pending
            found = _read_on(stream, start, exc, skipped, compressed)
            if found is None:
                raise
            resumed, last = found, None
            continue
        if pending is not None:
            yield pending
        _check_tail(stream, iterator.offset, skipped)
        return


def whole_records(stream: BinaryIO, skipped: Callable[[str], None] = _log_skipped) -> Iterator[tuple[int, int, Any]]:
    """(offset, length, record) of each record of a WARC stream that reads whole (the record's payload read
    already: its headers are there to see), reading on past damage as :func:`iter_exchanges` does
    (``skipped`` is told of each damaged part): what a copy of a damaged file keeps. A record cut short by
    the end of the file is not whole, nor one of an uncompressed file whose length ran past its end (it is
    given out when the next one reads). A file with no WARC record raises."""
    end, found = 0, 0  # where the last whole record ends; how many there were
    held = None  # the last whole record, given out once the one after it reads (or the file ends)
    plain = False  # whether it was read uncompressed
    gzipped = False  # whether a record of the file was read from a gzip member
    while True:
        iterator = WarcRecords(stream, check_digests=False, no_record_parse=True)
        try:
            for record in iterator:
                iterator.read_to_end()
                if iterator.reader.decompressor is not None and iterator.next_line:  # the member goes on
                    raise OneGzipStream("records share a gzip member (the whole file compressed at once?), where "
                                        "WARC readers need a member per record: recompress it (warcio recompress)")
                # warcio hands out what is there without a word: a record cut in its payload, or in its
                # headers (no Content-Length, which every WARC record has: warcio reads it to the end)
                if getattr(record.raw_stream, "limit", 0) > 0 or not record.rec_headers.get_header("Content-Length"):
                    raise RecordCutShort(f"a {record.rec_type} record is cut short")
                if held is not None:
                    yield held
                found += 1
                held = (iterator.get_record_offset(), iterator.get_record_length(), record)
                plain = iterator.reader.decompressor is None
                gzipped = gzipped or not plain
                end = held[0] + held[1]
        except READ_ERRORS as exc:
            if isinstance(exc, OneGzipStream):
                raise
            compressed = _compressed(stream, iterator, gzipped)
            if held is not None and plain and _overran(stream, held[:2]):
                end, found, held = held[0], found - 1, None
            at = _read_on(stream, end, exc, skipped, compressed)
            if at is None:
                if held is not None:
                    yield held
                if not found:
                    raise
                size = stream.seek(0, 2)
                skipped(f"bytes {end}-{size} unreadable: {read_error(exc, _gzipped(stream))}")
                return
            if held is not None:
                yield held
            end, held = at, None
            continue
        if held is not None:
            yield held
        if not found:
            raise EOFError("the file is empty" if not stream.tell() else "no WARC record in it")
        _check_tail(stream, iterator.offset, skipped)  # after the blank lines and stray bytes warcio reads past
        return


def _overran(stream: BinaryIO, record: tuple[int, int] | None) -> bool:
    """Whether the last record read before a read error, uncompressed, is damaged too: its
    Content-Length did not end at the CRLF CRLF that closes every record (a wrong length, bytes missing
    from it), so that it took in the start of the next record, or left its own end behind for the error.
    Asked only after an error: a length a few bytes short that warcio reads past is no damage (wget's)."""
    if record is None or not getattr(stream, "seekable", lambda: False)():
        return False
    stream.seek(record[0] + record[1])
    return stream.read(4) != b"\r\n\r\n"


def _compressed(stream: BinaryIO, iterator: Any, gzipped: bool) -> bool:
    """Whether a file met damage in is a gzip WARC: a member read before, the one being read, or its first
    bytes. warcio reads a member that does not decompress as uncompressed bytes; searched for record lines
    as an uncompressed file is, a gzip file cost a scan to its end at each damaged member (quadratic), and
    a member stored uncompressed (gzip level 0) that quotes a record gave that record out."""
    return gzipped or iterator.reader.decompressor is not None or _gzipped(stream)


def _gzipped(stream: BinaryIO) -> bool:
    stream.seek(0)
    return stream.read(2) == GZIP_MAGIC[:2]


def _read_on(stream: BinaryIO, start: int, exc: BaseException, skipped: Callable[[str], None],
             compressed: bool = True) -> int | None:
    """Where to read on after a read error at ``start`` (where the damaged record starts), the stream put
    there; None when there is nowhere (the end of the file, a stream that cannot seek): the error stands.

    A corrupt gzip member in the middle of the file costs its record: the reading goes on at the next
    member that holds one. In an uncompressed file (``compressed`` false: what warcio read last was not
    gzip), damage costs the record it is in: the reading goes on at the next line that starts a record.
    Sought only here, after damage: a payload may hold such a line (an archived WARC, a page quoting one).
    """
    found = None if compressed else _next_record_line(stream, start + 1)
    member = found is None
    if member:
        found = _next_member(stream, start + 1)
    if found is None:
        return None
    # bytes read as uncompressed before a gzip member: a member that did not decompress, its header too
    skipped(f"bytes {start}-{found} unreadable, read on after them: {read_error(exc, member)}")
    stream.seek(found)
    return found


def read_error(exc: BaseException, corrupt_member: bool = False) -> str:
    """A read error in one short line. warcio reads a gzip member that fails at its first block as
    uncompressed, and quotes its raw bytes as the "first line" of a record: it is a corrupt member (said
    so when the caller knows the bytes lie among gzip members, or the gzip magic is in them)."""
    text = str(exc) or type(exc).__name__
    if "record, first line: " in text and (corrupt_member or GZIP_MAGIC.decode("latin-1")[:2] in text):
        return "a corrupt gzip member (it does not decompress)"
    return printable(text, 120)


def _check_tail(stream: BinaryIO, end: int, skipped: Callable[[str], None]) -> None:
    """Tell ``skipped`` of bytes after the last record (from ``end``) that hold none: a file cut short in a
    record's headers, which warcio takes for the end of the file without a word."""
    if not getattr(stream, "seekable", lambda: False)():
        return
    size = stream.seek(0, 2)
    if size > end:
        stream.seek(end)
        if stream.read(64).strip():  # blank lines after the last record of an uncompressed file are no loss
            skipped(f"bytes {end}-{size} unreadable: the file ends inside a record")


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
# a line that starts a WARC record, and the header lines after it up to the blank line that ends them
WARC_LINE = re.compile(rb"(?<=\n)WARC/1\.[01]\r\n")
HEADER_LINE = re.compile(rb"[!#-'*+.0-9A-Z^-z|~-]+:[^\r\n]*(?:\r\n[ \t][^\r\n]*)*")
RECORD_HEAD = re.compile(rb"(?:" + HEADER_LINE.pattern + rb"\r\n)+\r\n")
RECORD_HEAD_MAX = 1 << 16  # the most a record's header lines are looked at for


def _next_record_line(stream: BinaryIO, start: int, chunk: int = 1 << 20) -> int | None:
    """The offset of the first line at or after ``start`` of an uncompressed file that starts a WARC record
    (``WARC/1.0`` or ``WARC/1.1``, then header lines that parse, with a WARC-Type and a Content-Length),
    or None (a stream that cannot seek, none left). Each candidate's header lines are matched in the block
    read, stopping at the first that is no header: linear, even through a payload of "WARC/1.1" lines."""
    if not getattr(stream, "seekable", lambda: False)() or start < 1:
        return None
    position = start - 1  # the newline before
    while True:
        stream.seek(position)
        data = stream.read(chunk + 16 + RECORD_HEAD_MAX)
        for match in WARC_LINE.finditer(data, 0, chunk + 16):  # the last few may come again in the next block
            head = RECORD_HEAD.match(data, match.end())
            if head and re.search(rb"(?im)^warc-type:", head[0]) and re.search(rb"(?im)^content-length:", head[0]):
                return position + match.start()
        if len(data) < chunk + 16:
            return None
        position += chunk


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
