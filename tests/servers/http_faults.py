"""A hostile web on 127.0.0.1: good article pages mixed with every fault a crawler meets.

    python -m tests.servers.http_faults [--good N] [--delay SECONDS] [--port 0]

Good pages are the first ``N`` corpus articles (tests/fixtures/corpus),
served at ``/<host>/<path>`` like tests.servers.http_archive. Faults live at
``/fault/<name>``, one small handler each (see :data:`FAULTS`). ``/robots.txt``
disallows ``/private/``. ``/_requests`` answers with when each path was asked
for (seconds since the server started), so tests can check what the crawler
fetched, how often and how long it waited; ``/_agents`` the User-Agents it
sent; ``/_good`` lists the good pages.
``--delay`` slows every good page down (a slow site to kill a crawl in).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import socket
import struct
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from urllib.parse import unquote
from xml.sax.saxutils import escape

from tests.servers.base import serve
from tests.servers.http_archive import DEFAULT_WARC, Site, quote

HUGE_SIZE = 60 * 1024 * 1024  # bytes: three times the default DOWNLOAD_MAXSIZE
BOMB_SIZE = 1024 * 1024 * 1024  # bytes once decompressed; about 1 MB on the wire
LARGE_HTML_SIZE = 12 * 1024 * 1024  # bytes: under DOWNLOAD_MAXSIZE, over EXTRACT_MAX_BYTES
STALL_SECONDS = 60.0
CHUNK = 1024 * 1024
MISLABELLED = 19  # the spare corpus article served by mislabelled-charset: Portuguese, 150 accented letters

Fault = Callable[["Handler"], None]
FAULTS: dict[str, Fault] = {}


def fault(name: str) -> Callable[[Fault], Fault]:
    def register(function: Fault) -> Fault:
        FAULTS[name] = function
        return function

    return register


# --- retries ------------------------------------------------------------------------------


@fault("flaky-500")
def flaky_500(handler: Handler) -> None:
    """500 twice, then the article: retried with backoff, stored."""
    if handler.seen() <= 2:
        return handler.reply(500, b"<html><body>try again</body></html>")
    handler.article(0)


@fault("always-503")
def always_503(handler: Handler) -> None:
    handler.reply(503, b"<html><body>down for maintenance</body></html>")


@fault("retry-after-429")
def retry_after_429(handler: Handler) -> None:
    """429 asking for one second (delta seconds), then the article."""
    if handler.seen() == 1:
        return handler.reply(429, b"slow down", [("Retry-After", "1")])
    handler.article(1)


@fault("retry-after-503-date")
def retry_after_503_date(handler: Handler) -> None:
    """503 asking to come back at an HTTP date two seconds away, then the article."""
    if handler.seen() == 1:
        return handler.reply(503, b"back soon", [("Retry-After", formatdate(time.time() + 2, usegmt=True))])
    handler.article(2)


@fault("always-429")
def always_429(handler: Handler) -> None:
    handler.reply(429, b"slow down", [("Retry-After", "1")])


@fault("not-found")
def not_found(handler: Handler) -> None:
    handler.reply(404, b"<html><body>no such page</body></html>")


@fault("not-modified")
def not_modified(handler: Handler) -> None:
    """304 to a request that asked for no revalidation: no page, and no redirect either."""
    handler.reply(304, b"")


# --- broken connections -------------------------------------------------------------------


@fault("reset")
def reset(handler: Handler) -> None:
    """The connection is reset before any response."""
    handler.reset()


@fault("reset-mid-body")
def reset_mid_body(handler: Handler) -> None:
    """Headers promise 100 kB; the connection is reset after 1 kB."""
    handler.promise(100_000, b"<html><body><p>" + b"x" * 1000)
    handler.reset()


@fault("stall")
def stall(handler: Handler) -> None:
    """Accepts the request and never answers."""
    handler.stall()


@fault("stall-body")
def stall_body(handler: Handler) -> None:
    """Sends the headers and a little body, then nothing more."""
    handler.promise(100_000, b"<html><body><p>the rest never comes")
    handler.stall()


# --- sizes --------------------------------------------------------------------------------


@fault("huge")
def huge(handler: Handler) -> None:
    """A 60 MB page that says so in Content-Length."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", str(HUGE_SIZE))
    handler.end_headers()
    handler.stream(HUGE_SIZE)


@fault("huge-stream")
def huge_stream(handler: Handler) -> None:
    """A 60 MB page with no Content-Length: the crawler learns its size only by reading it."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Connection", "close")
    handler.end_headers()
    handler.close_connection = True
    handler.stream(HUGE_SIZE)


@fault("bomb")
def bomb(handler: Handler) -> None:
    """About 1 MB of gzip that inflates to 1 GB."""
    body = gzip_bomb()
    handler.reply(200, body, [("Content-Encoding", "gzip")])


@fault("large-html")
def large_html(handler: Handler) -> None:
    """12 MB of HTML: fetched and archived, too large to extract."""
    paragraph = b"<p>" + b"All work and no play makes a dull page. " * 40 + b"</p>\n"
    body = b"<!DOCTYPE html><html><head><title>Large</title></head><body>"
    body += paragraph * (LARGE_HTML_SIZE // len(paragraph) + 1) + b"</body></html>"
    handler.reply(200, body)


# --- content ------------------------------------------------------------------------------


@fault("binary")
def binary(handler: Handler) -> None:
    handler.reply(200, os.urandom(64 * 1024), [("Content-Type", "application/octet-stream")], content_type=None)


@fault("binary-as-html")
def binary_as_html(handler: Handler) -> None:
    """A PNG sent as text/html."""
    handler.reply(200, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 64)


@fault("bad-encoding")
def bad_encoding(handler: Handler) -> None:
    """Declared UTF-8; the text is bytes that no UTF-8 decoder accepts."""
    words = b" ".join(bytes([0xC0 + i % 16, 0xC0 + i % 7, 0xFE - i % 3]) for i in range(3000))
    body = (
        b"<!DOCTYPE html><html><head><title>\xc3\x28\xa0\xa1</title></head><body><article><p>"
        + words
        + b"</p></article></body></html>"
    )
    handler.reply(200, body)


@fault("unknown-charset")
def unknown_charset(handler: Handler) -> None:
    """An article whose Content-Type names a charset that does not exist: read anyway, stored."""
    handler.article(4, content_type="text/html; charset=x-no-such-charset")


@fault("mislabelled-charset")
def mislabelled_charset(handler: Handler) -> None:
    """A Portuguese article in windows-1252, as its <meta> says, sent as charset=utf-8: stored, accents intact."""
    text = handler.site.pages[handler.spare()[MISLABELLED]].body.decode("utf-8")
    text = re.sub(r"<meta charset=[\"']?utf-8[\"']?>", "", text, flags=re.I)
    text = text.replace("<head>", '<head><meta charset="windows-1252">', 1)
    handler.reply(200, text.encode("cp1252", "xmlcharrefreplace"))


@fault("empty")
def empty(handler: Handler) -> None:
    handler.reply(200, b"")


# --- redirects ----------------------------------------------------------------------------


@fault("redirect-loop")
def redirect_loop(handler: Handler) -> None:
    handler.redirect("/fault/redirect-loop-back")


@fault("redirect-loop-back")
def redirect_loop_back(handler: Handler) -> None:
    handler.redirect("/fault/redirect-loop")


@fault("redirect-chain")
def redirect_chain(handler: Handler) -> None:
    """Each hop redirects to a new URL, forever."""
    step = int(handler.query().get("n", "0") or 0)
    handler.redirect(f"/fault/redirect-chain?n={step + 1}")


# Where pages may try to send the crawler: cloud metadata and link-local addresses (blocked even
# with ALLOW_PRIVATE_NETWORKS), spelled as IPv4, IPv6 and as a host name.
BLOCKED_REDIRECTS = {
    "redirect-metadata": "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "redirect-metadata-mapped": "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "redirect-metadata-ipv6": "http://[fd00:ec2::254]/latest/meta-data/",
    "redirect-link-local": "http://169.254.10.10:8080/admin",
    # a name the resolver turns into 169.254.169.254
    "redirect-metadata-decimal": "http://2852039166/latest/meta-data/",
}


def _blocked_redirect(target: str) -> Fault:
    return lambda handler: handler.redirect(target)


for _name, _target in BLOCKED_REDIRECTS.items():
    fault(_name)(_blocked_redirect(_target))


@fault("redirect-file")
def redirect_file(handler: Handler) -> None:
    handler.redirect("file:///etc/passwd")


# --- untrusted input ----------------------------------------------------------------------

# What a sitemap may list besides articles: no URL at all, other schemes, blocked addresses,
# impossible ports, a path climbing out of the site, a name that is not a host name.
HOSTILE_URLS = (
    "http://[bad/x",
    "http://ex\uff03ample.com/story",
    "javascript:alert(document.cookie)",
    "file:///etc/passwd",
    "ftp://example.com/story.html",
    "http://example.com:99999/story",
    "http://169.254.169.254/latest/meta-data/",
    "/../../../../etc/passwd",
)


def hostile_sitemap(base: str, good: list[str]) -> bytes:
    urls = [base + quote(path) for path in good] + [base + url if url.startswith("/") else url for url in HOSTILE_URLS]
    items = "".join(f"<url><loc>{escape(url)}</loc></url>" for url in urls)
    return (f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{items}</urlset>").encode()


# --- the server ---------------------------------------------------------------------------

def gzip_bomb() -> bytes:
    """Gzip members, each 1 MB of HTML-wrapped zeros: a gzip stream may hold many, and each inflates alone."""
    member = gzip.compress(b"<p>" + b"\0" * (CHUNK - 7) + b"</p>\n", compresslevel=9)
    return member * (BOMB_SIZE // CHUNK)


class Handler(BaseHTTPRequestHandler):
    site: Site
    good: list[str]
    delay: float = 0.0
    requests: dict[str, list[float]] = defaultdict(list)
    agents: set[str] = set()
    started = time.monotonic()
    lock = threading.Lock()
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # keep test output clean
        pass

    def do_GET(self):
        if self.path in ("/_requests", "/_good", "/_agents"):
            with self.lock:
                good = [quote(path) for path in self.good]
                data = {"/_requests": self.requests, "/_good": good, "/_agents": sorted(self.agents)}[self.path]
                return self.reply(200, json.dumps(data).encode(), content_type="application/json")
        self.seen(count=True)
        path = self.path.split("?", 1)[0]
        if path == "/robots.txt":
            return self.reply(200, b"User-agent: *\nDisallow: /private/\n", content_type="text/plain")
        if path == "/sitemap-hostile.xml":
            return self.reply(200, hostile_sitemap(f"http://{self.headers.get('Host')}", self.good[:2]),
                              content_type="application/xml")
        if path.startswith("/fault/") and path[7:] in FAULTS:
            return FAULTS[path[7:]](self)
        if path.startswith("/private/"):
            return self.article(3)
        key = self.path if self.path in self.site.pages else unquote(self.path)
        page = self.site.pages.get(key)
        if page is None or key not in self.good:
            return self.reply(404, b"<html><body>not found</body></html>")
        if self.delay:
            time.sleep(self.delay)
        return self.reply(200, page.body, content_type=_content_type(page.headers))

    def seen(self, count: bool = False) -> int:
        """How many times this path has been asked for, this request included."""
        path = self.path.split("?", 1)[0]
        with self.lock:
            if count:
                self.requests[path].append(round(time.monotonic() - self.started, 3))
                self.agents.add(self.headers.get("User-Agent", ""))
            return len(self.requests[path])

    def query(self) -> dict[str, str]:
        _, _, query = self.path.partition("?")
        return dict(part.partition("=")[::2] for part in query.split("&") if part)

    def spare(self) -> list[str]:
        """The corpus articles that are not among the good pages."""
        return [path for path, _ in self.site.articles() if path not in self.good]

    def article(self, index: int, content_type: str = "") -> None:
        """One of the spare corpus articles."""
        page = self.site.pages[self.spare()[index]]
        self.reply(200, page.body, content_type=content_type or _content_type(page.headers))

    def reply(self, status: int, body: bytes, headers: list[tuple[str, str]] = (),
              content_type: str | None = "text/html; charset=utf-8") -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def promise(self, length: int, start: bytes) -> None:
        """Headers announcing ``length`` bytes, and only ``start`` of them."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(start)
        self.wfile.flush()

    def redirect(self, location: str) -> None:
        self.reply(302, b"", [("Location", location)])

    def stream(self, size: int) -> None:
        block = b"<p>" + b"filler " * (CHUNK // 7) + b"</p>"
        block = block[:CHUNK]
        try:
            for start in range(0, size, CHUNK):
                self.wfile.write(block[: min(CHUNK, size - start)])
        except OSError:  # the crawler hung up, as it should
            self.close_connection = True

    def reset(self) -> None:
        """Close with RST instead of FIN."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def stall(self) -> None:
        deadline = time.monotonic() + STALL_SECONDS
        while time.monotonic() < deadline:
            time.sleep(0.2)
            try:  # stop once the crawler gave up on us
                if self.connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                    break
            except BlockingIOError:
                continue
            except OSError:
                break
        self.close_connection = True

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except OSError:  # a reset connection or a crawler that hung up
            self.close_connection = True

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass


def _content_type(headers: list[tuple[str, str]]) -> str:
    return next((value for name, value in headers if name.lower() == "content-type"), "text/html")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve good pages and faults on 127.0.0.1")
    parser.add_argument("--good", type=int, default=10, help="how many corpus articles to serve as good pages")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each good page is sent")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    Handler.site = Site(DEFAULT_WARC, None, False)
    Handler.good = [path for path, _ in Handler.site.articles()[: args.good]]
    Handler.delay = args.delay
    serve(Handler, args.port)


if __name__ == "__main__":
    sys.exit(main())
