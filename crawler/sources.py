"""Where article URLs come from: sitemaps (index, urlset, Google News) and feeds (RSS 2.0, Atom).

Plain functions of a response body, so that tests call them on bytes.
Scrapy's own ``Sitemap`` drops the nested ``<news:news>`` element, whose
publication date and title we keep as hints for extraction.
"""

from __future__ import annotations

import calendar
import gzip
import io
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin

import feedparser
from lxml import etree

logger = logging.getLogger(__name__)

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps protocol caps a file at 50 MB uncompressed


@dataclass(frozen=True)
class Entry:
    """One candidate article URL with what the source said about it."""

    url: str
    hints: dict[str, str] = field(default_factory=dict)  # date (publication), lastmod, title

    def __hash__(self) -> int:
        return hash(self.url)


@dataclass
class Sitemap:
    kind: str  # "index" (lists sitemaps) or "urlset" (lists pages)
    entries: list[Entry]


class SourceError(ValueError):
    """A sitemap or feed that cannot be read."""


def _absolute(base: str, url: str) -> str:
    """A listed URL resolved against the source's address (relative and protocol-relative ones occur)."""
    url = url.strip()
    scheme, colon, rest = url.partition(":")
    if colon and scheme.lower() in ("http", "https"):
        return scheme.lower() + colon + rest  # "HTTP://…" too
    if not base or not url:
        return url
    try:
        return urljoin(base, url)
    except ValueError:  # an unclosed IPv6 bracket: the spider counts it as a bad URL
        return url


def parse_sitemap(body: bytes, base: str = "") -> Sitemap:
    """A sitemap's entries, their URLs resolved against ``base`` (the sitemap's own address)."""
    body = maybe_gunzip(body)
    parser = etree.XMLParser(
        recover=True, remove_comments=True, resolve_entities=False, no_network=True, huge_tree=False
    )
    try:
        root = etree.fromstring(body.lstrip(), parser=parser)
    except etree.XMLSyntaxError as exc:
        raise SourceError(f"not a sitemap: {exc}") from exc
    if root is None:
        raise SourceError("not a sitemap: empty or not XML")
    kind = etree.QName(root).localname
    if kind not in ("sitemapindex", "urlset"):
        raise SourceError(f"not a sitemap: root element is <{kind}>")
    entries = []
    for node in root:
        if not isinstance(node.tag, str):
            continue
        values: dict[str, str] = {}
        for child in node.iter():
            if not isinstance(child.tag, str) or child is node:
                continue
            name = etree.QName(child).localname
            text = (child.text or "").strip()
            if text and name not in values:
                values[name] = text
        url = _absolute(base, values.get("loc", ""))
        if not url.startswith(("http://", "https://")):
            continue
        hints = {}
        if values.get("publication_date"):
            hints["date"] = values["publication_date"]
        if values.get("lastmod"):
            hints["lastmod"] = values["lastmod"]
        if values.get("title"):
            hints["title"] = values["title"]
        entries.append(Entry(url=url, hints=hints))
    return Sitemap(kind="index" if kind == "sitemapindex" else "urlset", entries=entries)


def sitemaps_in_robots(body: bytes, base: str = "") -> list[str]:
    """The ``Sitemap:`` lines of a robots.txt, resolved against ``base`` (its address) as Scrapy's own reader does."""
    urls = []
    for line in body.decode("utf-8", "replace").splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() == "sitemap" and (url := _absolute(base, value)).startswith(("http://", "https://")):
            urls.append(url)
    return urls


def parse_feed(body: bytes, base: str = "") -> list[Entry]:
    """Entries of an RSS 2.0, RSS 1.0 or Atom feed, newest information first as the feed gives it; their URLs
    resolved against ``xml:base``, else ``base`` (the feed's own address)."""
    parsed = feedparser.parse(io.BytesIO(body), sanitize_html=False, resolve_relative_uris=False,
                              # with a content-type: feedparser flags a feed without one as broken (bozo)
                              response_headers={"content-location": base, "content-type": "application/xml"}
                              if base else None)
    if not parsed.entries and (parsed.bozo or not parsed.version):
        reason = getattr(parsed, "bozo_exception", None) or "no entries and no feed version"
        raise SourceError(f"not a feed: {reason}")
    entries = []
    for item in parsed.entries:
        url = _absolute(base, item.get("link") or item.get("id") or "")
        if not url.startswith(("http://", "https://")):
            continue
        hints = {}
        # dict.get: feedparser's own get() maps a missing "updated" to "published", with a warning
        updated = _feed_date(dict.get(item, "updated_parsed"))
        date = _feed_date(dict.get(item, "published_parsed")) or updated
        if date:
            hints["date"] = date
        if updated:
            hints["lastmod"] = updated
        if item.get("title"):
            hints["title"] = " ".join(item["title"].split())
        entries.append(Entry(url=url, hints=hints))
    return entries


def _feed_date(value) -> str:
    if not value:
        return ""
    return datetime.fromtimestamp(calendar.timegm(value), tz=UTC).isoformat()


def maybe_gunzip(body: bytes, limit: int = MAX_SITEMAP_BYTES) -> bytes:
    if body[:2] != b"\x1f\x8b":
        return body
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as handle:
            data = handle.read(limit + 1)
    except (OSError, EOFError) as exc:
        raise SourceError(f"broken gzip: {exc}") from exc
    if len(data) > limit:
        raise SourceError(f"uncompressed sitemap exceeds {limit} bytes")
    return data
