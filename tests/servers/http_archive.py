"""Serve archived pages (a WARC) as a news site on 127.0.0.1: the sample site of tests and ``make demo``.

    python -m tests.servers.http_archive [--warc FILE] [--coding mixed|NAME] [--inserts] [--delay SECONDS] [--port 0]

Each archived response ``https://host/path`` is served at ``/host/path`` with
its archived status and headers (and ``/moved/host/path`` redirects there). Around them the server builds what a news
site announces its articles with: ``/robots.txt``, a sitemap index with a
Google News sitemap, RSS 2.0 and Atom feeds, a front page; and pages that are
not articles (a tag page, video pages, a gallery) listed beside them.

Pages go out compressed as news sites send them: by default each article in
one of the codings of tests/servers/encodings.py in turn (gzip, x-gzip,
deflate zlib and raw, br, zstd, gzip then br, identity), every third one
chunked (:func:`page_codings`); feeds, sitemaps and other pages gzipped.
Like a server of pre-compressed files it sends them whatever the request's
Accept-Encoding. ``--coding NAME`` serves every page in one coding
(``identity``: the plain site; ``gzip-liar``: says gzip, sends plain).

``--inserts`` adds "ALSO READ: <headline>"-style inserts into each article's
body, in the markups publishers use, to test that cleaning removes them all.
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import re
import sys
import threading
import time
from datetime import UTC
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import quote as _quote
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape

import lxml.html
from w3lib.encoding import html_to_unicode

from pipelines.archive.reader import ArchivedResponse, iter_exchanges
from tests.helpers import decoded_body
from tests.servers.base import serve
from tests.servers.encodings import ALL, CODINGS, send

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DEFAULT_WARC = FIXTURES / "corpus" / "corpus.warc.gz"
DEFAULT_TRUTH = FIXTURES / "corpus" / "truth.json.gz"

# (markup, marker) pairs: each insert is one of the shapes publishers use
INSERT_SHAPES = (
    '<p><strong>ALSO READ:</strong> <a href="/news/also-{n}.html">{headline}</a></p>',
    '<p><b>Read More:</b> <a href="/news/more-{n}.html">{headline}</a></p>',
    '<div class="related-promo"><p>Also Read: <a href="/news/promo-{n}.html">{headline}</a></p></div>',
    '<p><a href="/news/related-{n}.html"><strong>RELATED: {headline}</strong></a></p>',
    '<p>also read: <a href="/news/lower-{n}.html">{headline}</a></p>',
    '<p><em>See also:</em> <a href="/news/see-{n}.html">{headline}</a></p>',
)
TRAILING_SHAPE = ' <strong>ALSO READ: <a href="/news/trailing-{n}.html">{headline}</a></strong>'
HEADLINE = "Insert headline {n} on the council budget vote"
MIXED = "mixed"
ROTATION = tuple(CODINGS)  # every coding in turn, identity included


def page_codings(paths, coding: str = MIXED) -> dict[str, tuple[str, bool]]:
    """Served path -> (coding, chunked) of each archived page: the n-th path in order gets the n-th coding."""
    return {path: (ROTATION[n % len(ROTATION)] if coding == MIXED else coding, n % 3 == 2)
            for n, path in enumerate(sorted(paths))}


def insert_headlines(count: int) -> list[str]:
    return [HEADLINE.format(n=n) for n in range(count)]


class Site:
    def __init__(self, warc: Path, truth: Path | None, inserts: bool, copies: int = 1, coding: str = MIXED):
        self.pages: dict[str, ArchivedResponse] = {}
        with open(warc, "rb") as stream:
            originals = {served_path(response.url): response for response in iter_exchanges(stream)}
        for response in originals.values():  # the page itself, whatever coding the archive holds it in
            response.body = decoded_body(response)
            response.headers = [
                (k, v) for k, v in response.headers if k.lower() not in ("content-encoding", "content-length")
            ]
        # copies serve the same pages under /c<n>/…: a site of any size from a small archive (benchmarks)
        for copy in range(copies):
            prefix = f"/c{copy}" if copy else ""
            self.pages.update({prefix + path: response for path, response in originals.items()})
        self.codings = page_codings(self.pages, coding)
        self.other_coding = "identity" if coding == "identity" else "gzip"  # feeds, sitemaps, front page
        self.truth: dict[str, str] = {}
        if truth and truth.exists():
            with gzip.open(truth, "rt", encoding="utf-8") as handle:
                self.truth = json.load(handle)
        self.inserts = inserts
        self.generated: dict[str, dict[str, tuple[str, bytes]]] = {}
        self.insert_count = 0
        self.lock = threading.Lock()
        self.base = ""

    def articles(self) -> list[tuple[str, ArchivedResponse]]:
        return sorted((path, page) for path, page in self.pages.items() if page.status == 200)

    def page_body(self, response: ArchivedResponse) -> bytes:
        if not self.inserts:
            return response.body
        with self.lock:
            return add_inserts(response.body, self.truth.get(response.url, ""), self)


def quote(path: str) -> str:
    return _quote(path, safe="/?=&%:;,@+~!$'()*")


def served_path(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"/{parts.netloc}{path}" + (f"?{parts.query}" if parts.query else "")


def add_inserts(body: bytes, article_body: str, site: Site) -> bytes:
    """Put inserts after some paragraphs of the article text (and one trailing a paragraph)."""
    _, text = html_to_unicode(None, body)  # decode as the crawler would; the result is served as UTF-8
    tree = lxml.html.document_fromstring(re.sub(r"^\s*<\?xml[^>]*\?>", "", text))
    truth = " ".join(article_body.split())
    candidates = [
        p for p in tree.iter("p")
        if len(p.text_content().split()) >= 12 and " ".join(p.text_content().split())[:60] in truth
    ]
    for index, paragraph in enumerate(candidates[1:8:2]):
        shape = INSERT_SHAPES[(site.insert_count + index) % len(INSERT_SHAPES)]
        n = site.insert_count
        site.insert_count += 1
        fragment = lxml.html.fragment_fromstring(shape.format(n=n, headline=HEADLINE.format(n=n)))
        paragraph.addnext(fragment)
    if len(candidates) > 2:
        n = site.insert_count
        site.insert_count += 1
        trailing = lxml.html.fragment_fromstring(
            f"<span>{TRAILING_SHAPE.format(n=n, headline=HEADLINE.format(n=n))}</span>"
        )
        candidates[2].append(trailing)
    return lxml.html.tostring(tree, encoding="utf-8", doctype="<!DOCTYPE html>")


def non_article_pages(base: str, articles: list[str]) -> dict[str, bytes]:
    links = "".join(f'<li><a href="{base}{quote(path)}">Story {i}</a></li>' for i, path in enumerate(articles[:40]))
    tag = f"""<!DOCTYPE html><html lang="en"><head><title>News - Sample Site</title>
<meta property="og:type" content="website"><meta property="og:site_name" content="Sample Site"></head>
<body><nav><a href="/">Home</a></nav><h1>Tag: news</h1><ul>{links}</ul></body></html>"""
    video = """<!DOCTYPE html><html lang="en"><head><title>Watch: the budget vote in 90 seconds</title>
<meta property="og:type" content="video.other"><script type="application/ld+json">
{"@context": "https://schema.org", "@type": "VideoObject", "name": "The budget vote in 90 seconds",
 "uploadDate": "2019-11-19T10:00:00Z", "thumbnailUrl": "https://example.com/t.jpg"}</script></head>
<body><h1>The budget vote in 90 seconds</h1><video src="/clip.mp4"></video>
<p>Council members voted late into the night on the city budget, which includes new funding for parks,
libraries and road repairs across every district of the city. Watch the full recap of the session here,
with interviews from both sides of the debate and reaction from residents who attended the meeting.</p></body></html>"""
    gallery = """<!DOCTYPE html><html lang="en"><head><title>In pictures: the harvest festival</title>
<meta property="og:type" content="website"><script type="application/ld+json">
{"@context": "https://schema.org", "@type": "ImageGallery", "name": "In pictures: the harvest festival"}</script></head>
<body><h1>In pictures: the harvest festival</h1><figure><img src="/1.jpg"><figcaption>Crowds gathered early
on Saturday morning for the opening of the annual harvest festival in the town square.</figcaption></figure>
<figure><img src="/2.jpg"><figcaption>Children took part in the traditional parade through the old town, with
music, costumes and floats built by local schools over the past several weeks of preparation.</figcaption></figure>
</body></html>"""
    pages = {"/tag/news/": tag, "/video/budget-vote.html": video, "/gallery/harvest.html": gallery}
    # the same pages at URLs that say nothing: the crawler must tell them from articles by their content
    pages.update({"/extra/latest.html": tag, "/extra/budget-vote.html": video, "/extra/harvest.html": gallery})
    return {path: body.encode() for path, body in pages.items()}


class Handler(BaseHTTPRequestHandler):
    site: Site
    delay = 0.0  # seconds before each archived page is sent (a site with real-world latency)
    log: Path | None = None  # every path asked for, one a line (tests that check what a crawl requested)
    log_lock = threading.Lock()
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # keep test output clean
        pass

    def do_GET(self):
        base = f"http://{self.headers.get('Host') or self.server.server_address[0]}"
        path = self.path
        if self.log is not None:
            with self.log_lock, open(self.log, "a", encoding="utf-8") as log:
                log.write(path + "\n")
        generated = self.site.generated.get(base)
        if generated is None:  # built once per host name the site is reached by
            generated = self.site.generated[base] = self.generated(base)
        if path in generated:
            content_type, body = generated[path]
            coding = "identity" if path == "/robots.txt" else self.site.other_coding
            return self.reply(200, [("Content-Type", content_type)], body, coding, chunked=path.endswith(".xml"))
        if path.startswith("/moved/"):  # an old address that redirects to the article
            return self.reply(301, [("Location", base + path[len("/moved"):]), ("Content-Type", "text/html")], b"moved")
        if path.startswith("/away/"):  # an address that redirects to the article on another host name
            elsewhere = f"http://localhost:{self.server.server_address[1]}{path[len('/away'):]}"
            return self.reply(301, [("Location", elsewhere), ("Content-Type", "text/html")], b"moved away")
        if path == "/sitemaps/loop.xml":  # a sitemap index that lists itself (and, relatively, the news sitemap)
            items = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in (base + path, "news.xml", base + path))
            return self.reply(200, [("Content-Type", "application/xml")], (
                '<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/'
                f'sitemap/0.9">{items}</sitemapindex>').encode())
        if path == "/away.html":  # a section page listing three such addresses
            links = "".join(f"<a href='/away{path}'>{n}</a>" for n, (path, _) in enumerate(self.site.articles()[:3]))
            return self.reply(200, [("Content-Type", "text/html; charset=utf-8")],
                              f"<html><body>{links}</body></html>".encode())
        if path not in self.site.pages:
            path = unquote(path)
        page = self.site.pages.get(path)
        if page is not None and self.delay:
            time.sleep(self.delay)
        if page is None:
            return self.reply(404, [("Content-Type", "text/html")], b"<html><body>not found</body></html>")
        headers = [
            (k, v)
            for k, v in page.headers
            if k.lower() not in ("content-length", "transfer-encoding", "content-encoding")
        ]
        if self.site.inserts:  # the page was re-serialized as UTF-8: say so, whatever its meta tag says
            headers = [(k, v) for k, v in headers if k.lower() != "content-type"] + [
                ("Content-Type", "text/html; charset=utf-8")
            ]
        coding, chunked = self.site.codings[path]
        return self.reply(page.status, headers, self.site.page_body(page), coding, chunked)

    def generated(self, base: str) -> dict[str, tuple[str, bytes]]:
        articles = [path for path, _ in self.site.articles()]
        others = non_article_pages(base, articles)
        pages = {path: ("text/html; charset=utf-8", body) for path, body in others.items()}
        pages["/robots.txt"] = ("text/plain", f"User-agent: *\nAllow: /\nSitemap: {base}/sitemap.xml\n".encode())
        pages["/sitemap.xml"] = ("application/xml", sitemap_index(base))
        pages["/sitemaps/news.xml"] = ("application/xml", news_sitemap(base, self.site.articles()))
        pages["/sitemaps/pages.xml"] = ("application/xml", page_sitemap(base, list(others)))
        pages["/rss.xml"] = ("application/rss+xml", rss_feed(base, self.site.articles()))
        pages["/atom.xml"] = ("application/atom+xml", atom_feed(base, self.site.articles()))
        pages["/"] = ("text/html; charset=utf-8", front_page(base, articles))
        return pages

    def reply(self, status: int, headers: list[tuple[str, str]], body: bytes, coding: str = "identity",
              chunked: bool = False) -> None:
        send(self, status, headers, body, coding, chunked, same_body=not self.site.inserts)


def sitemap_index(base: str) -> bytes:
    items = "".join(f"<sitemap><loc>{base}/sitemaps/{name}.xml</loc></sitemap>" for name in ("news", "pages"))
    return f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</sitemapindex>'.encode()


def news_sitemap(base: str, articles: list[tuple[str, ArchivedResponse]]) -> bytes:
    items = []
    for path, page in articles:
        date = page.fetched.astimezone(UTC).isoformat()
        items.append(
            f"<url><loc>{escape(base + quote(path))}</loc><lastmod>{date}</lastmod><news:news><news:publication>"
            f"<news:name>Sample Site</news:name><news:language>en</news:language></news:publication>"
            f"<news:publication_date>{date}</news:publication_date></news:news></url>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">' + "".join(items) + "</urlset>"
    ).encode()


def page_sitemap(base: str, paths: list[str]) -> bytes:
    items = "".join(f"<url><loc>{escape(base + path)}</loc></url>" for path in paths)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</urlset>'.encode()


def rss_feed(base: str, articles: list[tuple[str, ArchivedResponse]]) -> bytes:
    items = "".join(
        f"<item><title>Story {i}</title><link>{escape(base + quote(path))}</link>"
        f"<pubDate>{format_datetime(page.fetched, usegmt=True)}</pubDate></item>"
        for i, (path, page) in enumerate(articles)
    )
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Sample Site</title>'
            f"<link>{base}/</link><description>Sample</description>{items}</channel></rss>").encode()


def atom_feed(base: str, articles: list[tuple[str, ArchivedResponse]]) -> bytes:
    entries = "".join(
        f'<entry><title>Story {i}</title><link href="{escape(base + quote(path))}"/>'
        f"<id>{escape(base + quote(path))}</id>"
        f"<updated>{page.fetched.isoformat()}</updated></entry>"
        for i, (path, page) in enumerate(articles)
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Sample Site</title>'
        f"<id>{base}/</id><updated>2019-11-20T00:00:00Z</updated>{entries}</feed>"
    ).encode()


def front_page(base: str, articles: list[str]) -> bytes:
    links = "".join(f'<li><a href="{html.escape(quote(path))}">Story {i}</a></li>' for i, path in enumerate(articles))
    return (
        f'<!DOCTYPE html><html lang="en"><head><title>Sample Site</title><meta property="og:type" content="website">'
        f"</head><body><h1>Sample Site</h1><ul>{links}</ul></body></html>"
    ).encode()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a WARC as a news site on 127.0.0.1")
    parser.add_argument("--warc", type=Path, default=DEFAULT_WARC)
    parser.add_argument("--truth", type=Path, default=DEFAULT_TRUTH)
    parser.add_argument("--inserts", action="store_true", help="add ALSO READ-style inserts to article bodies")
    parser.add_argument(
        "--copies", type=int, default=1, help="serve the pages this many times under /c<n>/ (benchmarks)"
    )
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each archived page is sent")
    parser.add_argument("--coding", default=MIXED, choices=(MIXED, *ALL), help="content coding of the articles")
    parser.add_argument("--log", type=Path, help="append every path asked for to this file")
    args = parser.parse_args(argv)
    Handler.site = Site(args.warc, args.truth, args.inserts, args.copies, args.coding)
    Handler.delay, Handler.log = args.delay, args.log
    serve(Handler, args.port)


if __name__ == "__main__":
    sys.exit(main())
