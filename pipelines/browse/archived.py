"""An archived page for ``scrapy browse``: found in the store's WARC files, made inert before it is shown.

A document's manifest line names the run that wrote it, its site and the URL
fetched; the WARC files of that run and site hold the response. Each WARC
file is read once and the place of every response in it kept in the search
index's database, so a page opens at once the second time.

What is shown never runs a script and never loads anything from the network:
scripts, frames, embeds, forms' targets, ``<link>`` and ``<base>`` elements
are removed, image and media addresses are taken out (kept as ``data-``
attributes), and ``url(...)`` in styles is emptied. The server adds a
Content-Security-Policy with ``sandbox`` and ``default-src 'none'`` and the
page is shown in an ``<iframe sandbox>``: each layer alone would keep the
page inert.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import sys
import threading
import zlib
from dataclasses import dataclass
from typing import Any

import lxml.html
from lxml_html_clean import Cleaner
from w3lib.encoding import html_to_unicode

from pipelines.archive.reader import WarcRecords, archived_response, missing_uri

SCHEMA = """
CREATE TABLE IF NOT EXISTS warc_files (key TEXT PRIMARY KEY, size INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS warc_responses (
    url TEXT NOT NULL, date TEXT NOT NULL, key TEXT NOT NULL, offset INTEGER NOT NULL, status INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS warc_responses_url ON warc_responses (url, date);
"""
CLEANER = Cleaner(scripts=True, javascript=True, comments=True, style=False, inline_style=False, links=True,
                  meta=True, page_structure=False, processing_instructions=True, embedded=True, frames=True,
                  forms=True, annoying_tags=False, remove_unknown_tags=False, safe_attrs_only=False)
MEDIA_ATTRIBUTES = ("src", "srcset", "data-src", "poster", "background", "lowsrc", "dynsrc", "href")
logger = logging.getLogger(__name__)
CSS_URL = re.compile(r"url\s*\([^)]*\)|@import[^;]*;?", re.IGNORECASE)


@dataclass
class ArchivedPage:
    url: str
    date: str
    status: int
    html: str
    warc: str


class WarcLocator:
    """Finds a response in the store's WARC files by URL (and fetch time), reading each file once."""

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock, storage):
        self.db = db
        self.lock = lock
        self.storage = storage
        with self.lock:
            self.db.executescript(SCHEMA)

    def find(self, urls: list[str], fetched: str, site: str, run_id: str) -> ArchivedPage | None:
        """The response for one of ``urls`` fetched at ``fetched``, looked for in the run's files first."""
        keys = [k for k in self.storage.list(f"warc/{site}") if k.endswith((".warc.gz", ".warc"))]
        own = [k for k in keys if k.rsplit("/", 1)[-1].startswith(f"{run_id}-")]
        for group in (own, keys):
            for key in group:
                self._index(key)
            hit = self._lookup(urls, fetched, group)
            if hit:
                return self._read(*hit)
        return None

    def _lookup(self, urls: list[str], fetched: str, keys: list[str]) -> tuple[str, int] | None:
        if not keys:
            return None
        marks = ",".join("?" * len(urls))
        files = ",".join("?" * len(keys))
        with self.lock:
            rows = self.db.execute(
                f"SELECT key, offset, date, status FROM warc_responses WHERE url IN ({marks}) AND key IN ({files})",
                [*urls, *keys]).fetchall()
        if not rows:
            return None
        # the response of that fetch; else the last good one before it, else the first after it
        exact = [r for r in rows if r[2] == fetched]
        before = sorted((r for r in rows if r[3] == 200 and r[2] <= fetched), key=lambda r: r[2], reverse=True)
        after = sorted((r for r in rows if r[3] == 200), key=lambda r: r[2])
        best = (exact or before or after or rows)[0]
        return best[0], best[1]

    def _index(self, key: str) -> None:
        size = self.storage.size(key)
        with self.lock:
            known = self.db.execute("SELECT size FROM warc_files WHERE key = ?", (key,)).fetchone()
        if known and known[0] == size:
            return
        rows = []
        with self.storage.open_read(key) as stream:
            iterator = WarcRecords(stream, check_digests=False)
            for record in iterator:  # a response without a target URI cannot be shown: left out
                if record.rec_type == "response" and record.http_headers is not None and not missing_uri(record):
                    status = (record.http_headers.get_statuscode() or "0").strip()
                    rows.append((record.rec_headers.get_header("WARC-Target-URI"),
                                 record.rec_headers.get_header("WARC-Date") or "", key,
                                 iterator.get_record_offset(), int(status) if status.isdigit() else 0))
        with self.lock:
            self.db.execute("BEGIN")
            self.db.execute("DELETE FROM warc_responses WHERE key = ?", (key,))
            self.db.executemany("INSERT INTO warc_responses VALUES (?, ?, ?, ?, ?)", rows)
            self.db.execute("INSERT OR REPLACE INTO warc_files VALUES (?, ?)", (key, size))
            self.db.execute("COMMIT")

    def _read(self, key: str, offset: int) -> ArchivedPage | None:
        with self.storage.open_read(key) as stream:
            _skip(stream, offset)
            for record in WarcRecords(stream, check_digests=False):
                if record.rec_type != "response":
                    return None
                # the payload as sent, decoded once here: warcio's content_stream() fails on br with the brotli
                # package (warcio issue 73) and leaves zstd coded
                response = archived_response(record)
                content_type = next((v for k, v in response.headers if k.lower() == "content-type"), "")
                _, text = html_to_unicode(content_type, _decoded(response.body, response.headers))
                return ArchivedPage(url=response.url, date=record.rec_headers.get_header("WARC-Date") or "",
                                    status=response.status, html=text, warc=self.storage.describe(key))
        return None


def inert_html(text: str) -> str:
    """The page without anything that runs or loads: what the browse page puts in its sandboxed frame."""
    try:
        tree = lxml.html.document_fromstring(re.sub(r"^\s*<\?xml[^>]*\?>", "", text))
    except (lxml.etree.ParserError, ValueError):
        return "<p>(the archived page could not be parsed)</p>"
    tree = CLEANER.clean_html(tree)
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        for name in MEDIA_ATTRIBUTES:
            value = element.get(name)
            if value is None or (name == "href" and element.tag == "a"):
                continue
            del element.attrib[name]
            element.set(f"data-archived-{name}", value)
        style = element.get("style")
        if style and CSS_URL.search(style):
            element.set("style", CSS_URL.sub("none", style))
        if element.tag == "style" and element.text:
            element.text = CSS_URL.sub("none", element.text)
        if element.tag == "a" and element.get("href"):
            element.set("target", "_blank")  # a click leaves the sandbox (and the archive) on purpose, never the frame
            element.set("rel", "noopener noreferrer")
    return lxml.html.tostring(tree, encoding="unicode", doctype="<!DOCTYPE html>")


MAX_DECODED = 64 * 1024 * 1024  # an archived body inflating past this is shown cut (a decompression bomb)


def _decoded(body: bytes, headers: list[tuple[str, Any]]) -> bytes:
    """The body as the browser would read it: the archive keeps bodies as they came off the wire, in the
    codings the server listed, applied in that order ("gzip, br"): undone last first."""
    codings = [coding.strip().lower() for name, value in headers if name.lower() == "content-encoding"
               for coding in str(value).split(",") if coding.strip()]
    for coding in reversed(codings):
        try:
            body = _decode(body, coding)
        except (ImportError, zlib.error, ValueError, OSError) as exc:  # shown as it is, said in the log
            logger.warning("archived body not decoded (%s): %s", coding, exc)
            break
    return body


def _decode(body: bytes, coding: str) -> bytes:
    if coding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body, MAX_DECODED)
    if coding == "deflate":
        try:
            return zlib.decompressobj().decompress(body, MAX_DECODED)
        except zlib.error:  # raw deflate, as some servers send it
            return zlib.decompressobj(-zlib.MAX_WBITS).decompress(body, MAX_DECODED)
    if coding == "br":
        import brotli  # Scrapy's own brotli support brings it

        return brotli.decompress(body)[:MAX_DECODED]
    if coding == "zstd":  # Scrapy's own zstd support brings the backport (the standard library's from 3.14)
        if sys.version_info >= (3, 14):
            from compression import zstd
        else:
            from backports import zstd

        return zstd.ZstdDecompressor().decompress(body, max_length=MAX_DECODED)
    return body  # identity, or a coding no browser knows


def _skip(stream, offset: int) -> None:
    try:
        stream.seek(offset)
        return
    except (AttributeError, OSError, ValueError):
        pass
    left = offset
    while left > 0:
        chunk = stream.read(min(left, 1024 * 1024))
        if not chunk:
            break
        left -= len(chunk)
