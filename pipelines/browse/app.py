"""The pages of ``scrapy browse``: search, one document, its archived page, its revisions. Read-only.

Plain HTML forms and links, no script: every page is served with a
Content-Security-Policy that allows none, and nothing outside this server is
ever requested. The archived page is served from its own address with
``sandbox`` in its policy and shown in an ``<iframe sandbox>``.
"""

from __future__ import annotations

import logging
import re
from html import escape
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from pipelines.browse.archived import WarcLocator, inert_html
from pipelines.browse.search import PAGE_SIZE, SearchIndex, document_body
from pipelines.document.render import url_hash

logger = logging.getLogger(__name__)

PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'self'; form-action 'self'"
ARCHIVED_POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:"
STYLE = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
header{background:#1b2a3a;color:#fff;padding:10px 24px}header a{color:#fff;text-decoration:none;font-weight:600}
main{padding:14px 24px;max-width:1100px}form.search{display:flex;flex-wrap:wrap;gap:8px;align-items:end}
label{display:flex;flex-direction:column;font-size:12px;color:#57606a}input,select{font:inherit;padding:4px 6px}
input[name=q]{min-width:320px}.hit{background:#fff;border:1px solid #dde2e8;border-radius:6px;padding:8px 12px;
margin:8px 0}.hit a{font-weight:600}.meta{color:#57606a;font-size:13px}mark{background:#fff1a8}
table.meta td{padding:2px 10px 2px 0;vertical-align:top}article p{max-width:46em}
iframe{width:100%;height:80vh;border:1px solid #dde2e8;background:#fff}.note{color:#57606a;font-size:13px}
nav.pages a{margin-right:10px}.url{word-break:break-all}
"""


class Browser:
    """What the pages read: the search index, the store, and the WARC locator."""

    def __init__(self, index: SearchIndex, storage):
        self.index = index
        self.storage = storage
        self.locator = WarcLocator(index.db, index.lock, storage)

    # --- pages ----------------------------------------------------------------------------

    def search_page(self, params: dict[str, str]) -> str:
        q, title, site = params.get("q", ""), params.get("title", ""), params.get("site", "")
        since, until = _day(params.get("from", "")), _day(params.get("to", ""))
        page = max(_int(params.get("page", "1")), 1)
        hits, total = self.index.search(q, site=site, since=since, until=until, title=title,
                                        offset=(page - 1) * PAGE_SIZE)
        options = "".join(
            f'<option value="{escape(name)}"{" selected" if name == site else ""}>{escape(name)} ({count:,})</option>'
            for name, count in self.index.sites()
        )
        form = (
            '<form class="search" method="get" action="/" role="search">'
            f'<label>words in title or text<input name="q" value="{escape(q)}" autofocus></label>'
            f'<label>title<input name="title" value="{escape(title)}"></label>'
            f'<label>site<select name="site"><option value="">all sites</option>{options}</select></label>'
            f'<label>published from<input type="date" name="from" value="{escape(since)}"></label>'
            f'<label>to<input type="date" name="to" value="{escape(until)}"></label>'
            "<button>Search</button></form>"
        )
        results = "".join(self._hit(hit) for hit in hits)
        shown = f"{(page - 1) * PAGE_SIZE + 1:,}–{(page - 1) * PAGE_SIZE + len(hits):,} of " if hits else ""
        pages = ""
        if page > 1:
            pages += f'<a href="/?{urlencode({**params, "page": page - 1})}">previous</a>'
        if page * PAGE_SIZE < total:
            pages += f'<a href="/?{urlencode({**params, "page": page + 1})}">next</a>'
        return _page(
            "Search the archive",
            form + f'<p class="meta" id="count">{shown}{total:,} document{"s" if total != 1 else ""}</p>'
            + f'<div id="results">{results}</div><nav class="pages">{pages}</nav>',
        )

    def _hit(self, hit) -> str:
        snippet = escape(hit.snippet).replace("\x02", "<mark>").replace("\x03", "</mark>")
        return (
            f'<div class="hit" data-id="{hit.id}"><a href="/doc/{hit.id}">{escape(hit.title or hit.url)}</a>'
            f'<div class="meta">{escape(hit.site)} · {escape(_date(hit.date))} · <span class="url">'
            f"{escape(hit.url)}</span>{f' · revision {hit.revision}' if hit.revision > 1 else ''}</div>"
            + (f"<div>{snippet}</div>" if snippet else "") + "</div>"
        )

    def document_page(self, doc_id: int) -> str | None:
        hit = self.index.document(doc_id)
        if hit is None:
            return None
        data = self.storage.get(hit.key)
        body = document_body(data) if data is not None else None
        meta = _front_matter(data)
        rows = "".join(f"<tr><td>{escape(str(k))}</td><td>{escape(_value(v))}</td></tr>" for k, v in meta.items())
        versions = self.index.versions(hit.url)
        revisions = "".join(
            f'<li><a href="/doc/{doc_id}/revision/{v["revision"]}">revision {v["revision"]}</a> fetched '
            f'{escape(v["fetched"])} (run {escape(v["run_id"])}) · '
            f'<a href="/doc/{doc_id}/archived?revision={v["revision"]}">archived page</a></li>'
            for v in versions
        )
        paragraphs = "".join(f"<p>{escape(p)}</p>" for p in (body or "").split("\n\n") if p.strip())
        missing = '<p class="note">The document file is not in the store any more.</p>' if data is None else ""
        return _page(
            hit.title or hit.url,
            f'<h1 id="title">{escape(hit.title or hit.url)}</h1>'
            f'<p class="meta"><a href="/doc/{doc_id}/archived">archived page</a> · '
            f'<a href="/doc/{doc_id}/file">stored file</a> · <span class="url">{escape(hit.url)}</span></p>'
            f'<table class="meta" id="front-matter">{rows}</table>{missing}'
            f'<h2>Revisions</h2><ul id="revisions">{revisions}</ul><article id="body">{paragraphs}</article>',
        )

    def archived_frame(self, doc_id: int, revision: int = 0) -> str | None:
        hit = self.index.document(doc_id)
        if hit is None:
            return None
        suffix = f"?revision={revision}" if revision else ""
        return _page(
            f"Archived: {hit.title or hit.url}",
            f'<p><a href="/doc/{doc_id}">← {escape(hit.title or hit.url)}</a></p>'
            '<p class="note">The page as archived (WARC), without its scripts, and without images, styles or '
            "anything else from the original site: nothing leaves this machine.</p>"
            f'<iframe id="archived" sandbox="" referrerpolicy="no-referrer" src="/raw/{doc_id}/archived{suffix}" '
            f'title="archived page"></iframe>',
        )

    def archived_html(self, doc_id: int, revision: int = 0) -> str | None:
        hit = self.index.document(doc_id)
        if hit is None:
            return None
        versions = self.index.versions(hit.url)
        version = next((v for v in versions if v["revision"] == revision), versions[-1] if versions else None)
        if version is None:
            return None
        site = hit.site
        page = self.locator.find(list(dict.fromkeys([version["fetched_url"], hit.url])), version["fetched"],
                                 site, version["run_id"])
        if page is None:
            return ("<!DOCTYPE html><p>This page is not in the store's WARC files (it may have been stored by a "
                    "replay of an archive kept elsewhere).</p>")
        banner = (f'<div style="font:13px sans-serif;background:#fff8c5;padding:4px 8px">Archived {escape(page.date)}'
                  f" · HTTP {page.status} · {escape(page.url)} · {escape(page.warc)}</div>")
        return re.sub(r"<body[^>]*>", lambda m: m.group(0) + banner, inert_html(page.html), count=1)

    def revision_text(self, doc_id: int, revision: int) -> str | None:
        hit = self.index.document(doc_id)
        if hit is None:
            return None
        if revision == hit.revision:
            data = self.storage.get(hit.key)
        else:
            data = self.storage.get(f"revisions/{hit.site}/{url_hash(hit.url)}/{revision}.txt")
        return None if data is None else data.decode("utf-8", "replace")


def make_server(browser: Browser, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        server_version = "newsarchive-browse"

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("%s %s", self.address_string(), format % args)

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            try:
                self.route()
            except Exception:  # one broken document must not stop the server
                logger.exception("browse: %s failed", self.path)
                self.send(HTTPStatus.INTERNAL_SERVER_ERROR, _page("Error", "<p>Something failed; see the log.</p>"))

        def do_POST(self) -> None:
            self.send(HTTPStatus.METHOD_NOT_ALLOWED, _page("Read-only", "<p>This archive browser is read-only.</p>"))

        do_PUT = do_DELETE = do_PATCH = do_POST

        def route(self) -> None:
            parts = urlsplit(self.path)
            params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            path = parts.path
            revision = _int(params.get("revision", "0"))
            if path == "/":
                return self.send(HTTPStatus.OK, browser.search_page(params))
            if m := re.fullmatch(r"/doc/(\d+)", path):
                return self.send_or_404(browser.document_page(int(m[1])))
            if m := re.fullmatch(r"/doc/(\d+)/archived", path):
                return self.send_or_404(browser.archived_frame(int(m[1]), revision))
            if m := re.fullmatch(r"/raw/(\d+)/archived", path):
                return self.send_or_404(browser.archived_html(int(m[1]), revision), policy=ARCHIVED_POLICY)
            if m := re.fullmatch(r"/doc/(\d+)/revision/(\d+)", path):
                return self.send_or_404(browser.revision_text(int(m[1]), int(m[2])), "text/plain; charset=utf-8")
            if m := re.fullmatch(r"/doc/(\d+)/file", path):
                hit = browser.index.document(int(m[1]))
                return self.send_or_404(browser.revision_text(hit.id, hit.revision) if hit else None,
                                        "text/plain; charset=utf-8")
            if path == "/favicon.ico":
                return self.send(HTTPStatus.NO_CONTENT, "")
            return self.send(HTTPStatus.NOT_FOUND, _page("Not found", "<p>No such page.</p>"))

        def send_or_404(self, text: str | None, content_type: str = "text/html; charset=utf-8",
                        policy: str = PAGE_POLICY) -> None:
            if text is None:
                return self.send(HTTPStatus.NOT_FOUND, _page("Not found", "<p>No such document.</p>"))
            self.send(HTTPStatus.OK, text, content_type, policy)

        def send(self, status: HTTPStatus, text: str, content_type: str = "text/html; charset=utf-8",
                 policy: str = PAGE_POLICY) -> None:
            data = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Content-Security-Policy", policy)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def _page(title: str, content: str) -> str:
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><title>{escape(title)}</title><style>{STYLE}</style>'
            f'</head><body><header><a href="/">newsarchive · browse</a></header><main>{content}</main></body></html>')


def _front_matter(data: bytes | None) -> dict[str, Any]:
    from pipelines.document.render import parse_document

    if data is None:
        return {}
    try:
        return parse_document(data.decode("utf-8", "replace"))[0]
    except ValueError:
        return {}


def _value(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def _date(date: str) -> str:
    return f"{date[:10]} {date[11:13]}:{date[14:16]}" if len(date) >= 16 else date or "no date"


def _day(value: str) -> str:
    return value if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value or "") else ""


def _int(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
