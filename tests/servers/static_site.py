"""A small news site served from a directory that tests change between crawls.

    python -m tests.servers.static_site DIR [--delay SECONDS] [--log FILE] [--port 0]

Files are read at each request, so a test rewrites an article (a new
revision) or the sitemap (a newer ``lastmod``) while the server runs.
``{base}`` in an ``.xml`` file becomes the server's URL. Pages go out
compressed as news sites send them (tests/servers/encodings.py): each
``.html`` in gzip, br, zstd or identity by its path, some chunked; XML gzipped. ``--delay`` slows
article pages (``.html``) down, to catch a crawl mid-way; ``--log`` appends
each requested path to a file, so a test sees exactly what was fetched.

:func:`write_article` and :func:`write_sitemap` build the site.
"""

from __future__ import annotations

import argparse
import html
import json
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tests.servers.base import serve
from tests.servers.encodings import send

PAGE_CODINGS = ("gzip", "br", "zstd", "identity")
TYPES = {".html": "text/html; charset=utf-8", ".xml": "application/xml", ".txt": "text/plain"}
WORDS = [
    "council",
    "budget",
    "vote",
    "parks",
    "libraries",
    "roads",
    "district",
    "residents",
    "funding",
    "meeting",
    "members",
    "mayor",
    "plan",
    "schools",
    "transport",
    "housing",
    "water",
    "energy",
    "report",
    "committee",
    "public",
    "hearing",
    "proposal",
    "tax",
    "city",
]


def article_html(title: str, paragraphs: list[str], published: str) -> str:
    data = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
            "datePublished": published, "author": {"@type": "Person", "name": "Sam Reporter"}}
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'<meta property="og:type" content="article"><meta property="og:title" content="{html.escape(title)}">'
            f'<meta property="og:site_name" content="Test Gazette">'
            f'<script type="application/ld+json">{json.dumps(data)}</script></head><body>'
            f'<nav><a href="/">Home</a></nav><article><h1>{html.escape(title)}</h1>{body}</article>'
            f"<footer>Test Gazette</footer></body></html>")


def paragraphs_for(number: int, count: int = 4) -> list[str]:
    """Distinct, readable-enough text for article ``number`` (at least 30 words per paragraph)."""
    result = []
    for p in range(count):
        words = [WORDS[(number * 7 + p * 3 + i * (p + 2)) % len(WORDS)] for i in range(36)]
        result.append(f"Story {number} part {p + 1}: " + " ".join(words).capitalize() + ".")
    return result


def write_article(root: Path, number: int, extra: str = "") -> str:
    """``news/story-<number>.html``; ``extra`` adds a paragraph (a changed body). Returns the path."""
    path = f"news/story-{number}.html"
    paragraphs = paragraphs_for(number) + ([extra] if extra else [])
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(article_html(f"Story number {number} on the council budget", paragraphs,
                                f"2024-05-{1 + number % 28:02d}T08:00:00Z"), encoding="utf-8")
    tmp.replace(target)  # the server never serves half a page
    return path


def write_sitemap(root: Path, paths: list[str], lastmod: dict[str, str] | None = None) -> None:
    """``sitemap.xml`` listing ``paths``; ``lastmod`` maps a path to its lastmod (default: an old date)."""
    entries = "".join(
        f"<url><loc>{{base}}/{path}</loc><lastmod>{(lastmod or {}).get(path, '2024-05-01T00:00:00Z')}</lastmod></url>"
        for path in paths
    )
    target = root / "sitemap.xml"
    tmp = target.with_suffix(".tmp")
    tmp.write_text('<?xml version="1.0" encoding="UTF-8"?>'
                   f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>', encoding="utf-8")
    tmp.replace(target)


class Handler(BaseHTTPRequestHandler):
    root: Path
    delay = 0.0
    log: Path | None = None
    log_lock = threading.Lock()
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        path = unquote(urlsplit(self.path).path).lstrip("/")
        if self.log:
            with self.log_lock, open(self.log, "a", encoding="utf-8") as handle:
                handle.write(f"/{path}\n")
        target = (self.root / path).resolve()
        if not target.is_relative_to(self.root) or not target.is_file():
            return self.reply(404, "text/html", b"<html><body>not found</body></html>")
        body = target.read_bytes()
        if target.suffix == ".xml":
            body = body.replace(b"{base}", f"http://{self.headers.get('Host')}".encode())
        if target.suffix == ".html" and self.delay:
            time.sleep(self.delay)
        self.reply(200, TYPES.get(target.suffix, "application/octet-stream"), body)

    def reply(self, status: int, content_type: str, body: bytes) -> None:
        coding, chunked = "identity", False
        if status == 200:
            number = zlib.crc32(self.path.encode())  # the same path is always sent the same way
            coding, chunked = PAGE_CODINGS[number % len(PAGE_CODINGS)], number % 3 == 0
            coding = "gzip" if content_type == TYPES[".xml"] else coding
        send(self, status, [("Content-Type", content_type)], body, coding, chunked)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a directory as a small news site on 127.0.0.1")
    parser.add_argument("root", type=Path)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each .html response")
    parser.add_argument("--log", type=Path, help="append each requested path to this file")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    Handler.root, Handler.delay, Handler.log = args.root.resolve(), args.delay, args.log
    serve(Handler, args.port)


if __name__ == "__main__":
    sys.exit(main())
