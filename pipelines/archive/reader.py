"""Reading the web archive: :func:`iter_exchanges` streams a WARC (a local file or an S3 body)
and yields each response with the metadata record written beside it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from warcio.archiveiterator import ArchiveIterator

logger = logging.getLogger(__name__)


@dataclass
class ArchivedResponse:
    url: str
    fetched: datetime
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    protocol: str = "HTTP/1.1"
    ip_address: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    record_id: str = ""


def iter_exchanges(stream: BinaryIO) -> Iterator[ArchivedResponse]:
    """Responses of a WARC stream, each with its metadata record's values when there is one."""
    pending: ArchivedResponse | None = None
    for record in ArchiveIterator(stream, check_digests=False):
        if record.rec_type == "response" and record.http_headers is not None:
            if pending is not None:
                yield pending
            pending = _archived_response(record)
        elif record.rec_type == "metadata" and pending is not None:
            if record.rec_headers.get_header("WARC-Concurrent-To") == pending.record_id:
                try:
                    pending.meta = json.loads(record.content_stream().read())
                except ValueError:
                    logger.warning("unreadable metadata record for %s", pending.url)
    if pending is not None:
        yield pending


def _archived_response(record) -> ArchivedResponse:
    headers = record.rec_headers
    http = record.http_headers
    status_text = (http.get_statuscode() or "0").strip()
    return ArchivedResponse(
        url=headers.get_header("WARC-Target-URI"),
        fetched=parse_warc_date(headers.get_header("WARC-Date")),
        status=int(status_text) if status_text.isdigit() else 0,
        headers=list(http.headers),
        body=record.content_stream().read(),
        protocol=http.protocol or "HTTP/1.1",
        ip_address=headers.get_header("WARC-IP-Address") or "",
        record_id=headers.get_header("WARC-Record-ID") or "",
    )


def parse_warc_date(value: str) -> datetime:
    value = (value or "").strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return datetime.now(timezone.utc).replace(microsecond=0)
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc).replace(microsecond=0)


def warc_sources(location: str, storage_opener) -> Iterator[tuple[str, Any]]:
    """(name, opener) of each WARC file at a file, a directory or a store URI prefix."""
    path = Path(location)
    if "://" not in location or location.startswith("file://"):
        path = Path(location.removeprefix("file://"))
        if path.is_file():
            yield str(path), lambda p=path: open(p, "rb")
            return
        if path.is_dir():
            for file in sorted(path.rglob("*.warc.gz")) + sorted(path.rglob("*.warc")):
                yield str(file), lambda p=file: open(p, "rb")
            return
        raise FileNotFoundError(f"{location}: no such WARC file or directory")
    storage, prefix = storage_opener(location)
    keys = [prefix] if prefix.endswith((".warc.gz", ".warc")) else [
        key for key in storage.list(prefix) if key.endswith((".warc.gz", ".warc"))
    ]
    for key in sorted(keys):
        yield storage.describe(key), lambda k=key: storage.open_read(k)
