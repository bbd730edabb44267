"""pipelines.browse: the search index over a store, and archived pages made inert before they are shown."""

from __future__ import annotations

import gzip
import io
import re
import sqlite3
import threading
from datetime import UTC, datetime

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipelines.browse.archived import WarcLocator, _decoded, inert_html
from pipelines.browse.search import SearchIndex, fts_query
from pipelines.document.render import to_document
from pipelines.item import Article, Block, SiteProfile
from pipelines.storage.index import ArchiveIndex
from pipelines.storage.local import LocalStorage
from pipelines.store import ArticleStore
from tests.servers.encodings import CODINGS, encode

FETCHED = datetime(2026, 11, 21, 8, tzinfo=UTC)


def store_articles(storage, run: str, articles: list[tuple[str, str, str, list[str], datetime]]) -> None:
    index = ArchiveIndex(":memory:")
    store = ArticleStore(storage, index, f"manifest/{run}.jsonl")
    for site, url, title, paragraphs, date in articles:
        article = Article(url=url, site=SiteProfile(key=site), fetched=FETCHED, blocks=[Block(p) for p in paragraphs],
                          title=title, date=date)
        store.save(to_document(article))
    store.close()


def test_search_by_words_title_site_and_dates(tmp_path):
    storage = LocalStorage(tmp_path / "store")
    store_articles(storage, "run-1", [
        ("gazette", "https://g.example/a", "Council passes the budget: 7-4", ["Parks and libraries get more money."],
         datetime(2026, 11, 2, tzinfo=UTC)),
        ("gazette", "https://g.example/b", "Flood warning for the valley", ["Rivers rose overnight in the valley."],
         datetime(2026, 11, 5, tzinfo=UTC)),
        ("herald", "https://h.example/c", "Café reopens", ["The café on Main Street reopened with a new menu."],
         datetime(2026, 11, 5, tzinfo=UTC)),
    ])
    index = SearchIndex(tmp_path / "search.sqlite")
    assert index.sync(storage) == 3
    def titles(hits):
        return [h.title for h in hits[0]]
    assert titles(index.search("libraries")) == ["Council passes the budget: 7-4"]
    assert titles(index.search("valley", site="herald")) == []
    assert titles(index.search("cafe")) == ["Café reopens"]  # diacritics folded
    assert titles(index.search("libr")) == ["Council passes the budget: 7-4"]  # the last word may be a prefix
    assert titles(index.search('budget: "7-4" AND (')) == ["Council passes the budget: 7-4"]  # no query syntax errors
    assert sorted(titles(index.search(since="2026-11-05", until="2026-11-05"))) == ["Café reopens",
                                                                                   "Flood warning for the valley"]
    assert titles(index.search(title="flood")) == ["Flood warning for the valley"]
    assert (
        "<mark>" not in index.search("rivers")[0][0].snippet
        and "\x02Rivers\x03" in index.search("rivers")[0][0].snippet
    )
    assert index.sync(storage) == 0  # a manifest read once is not read again


def test_a_revision_replaces_the_text_and_keeps_the_history(tmp_path):
    storage = LocalStorage(tmp_path / "store")
    url = "https://g.example/a"
    store_articles(storage, "run-1", [("gazette", url, "Budget", ["First text about trams."], FETCHED)])
    index = SearchIndex(tmp_path / "search.sqlite")
    index.sync(storage)
    later = FETCHED.replace(day=22)
    index_db = ArchiveIndex(":memory:")
    index_db.sync(storage)
    store = ArticleStore(storage, index_db, "manifest/run-2.jsonl")
    article = Article(
        url=url,
        site=SiteProfile(key="gazette"),
        fetched=later,
        blocks=[Block("Second text about buses.")],
        title="Budget",
        date=FETCHED,
    )
    assert store.save(to_document(article)) == "revised"
    store.close()
    assert index.sync(storage) == 1
    assert index.search("trams")[1] == 0 and index.search("buses")[1] == 1
    assert [v["revision"] for v in index.versions(url)] == [1, 2]
    assert len(index) == 1


def test_fts_query_quotes_every_word():
    assert fts_query('title: NEAR("x" y) -z') == '"title" "NEAR x" "y" "z"*'
    assert fts_query('"exact phrase" more') == '"exact phrase" "more"*'
    assert fts_query("   ") == ""


def test_archived_pages_are_made_inert():
    page = ('<html><head><script>alert(1)</script><link rel="stylesheet" href="https://cdn.example/s.css">'
            '<meta http-equiv="refresh" content="0;url=https://evil.example/"></head>'
            '<body onload="alert(2)" style="background:url(https://cdn.example/b.png)"><h1>Title</h1>'
            '<img src="https://cdn.example/a.png" srcset="https://cdn.example/b.png 2x"><iframe src="https://x.example">'
            '</iframe><video poster="https://cdn.example/p.jpg"><source src="https://cdn.example/v.mp4"></video>'
            '<a href="https://example.com/next">next</a><style>@import url(https://cdn.example/c.css);</style>'
            '<form action="https://evil.example/post"><input name=q></form></body></html>')
    inert = inert_html(page)
    assert "Title" in inert and "next" in inert
    for gone in ("<script", "onload", "<iframe", "<link", "http-equiv", "<form", "@import"):
        assert gone not in inert
    assert not re.search(r'\s(src|srcset|poster|href)="https://cdn|url\(http', inert)  # kept only as data-archived-*


def test_archived_bodies_are_decoded_as_sent():
    assert _decoded(gzip.compress(b"<p>hi</p>"), [("Content-Encoding", "gzip")]) == b"<p>hi</p>"
    bomb = gzip.compress(b"\0" * (80 * 1024 * 1024))
    assert len(_decoded(bomb, [("Content-Encoding", "gzip")])) == 64 * 1024 * 1024


def test_an_archived_page_is_shown_in_every_coding_a_site_sends(tmp_path):
    # the browse page shows a stored article's archived page; the WARC keeps each body as it came off the wire
    storage = LocalStorage(tmp_path)
    path = tmp_path / "warc" / "news" / "run1-000.warc.gz"
    path.parent.mkdir(parents=True)
    urls = {}
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        for coding in CODINGS:
            header, body = encode(f"<html><body><p>Texte archivé, {coding}.</p></body></html>".encode(), coding)
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                               *([("Content-Encoding", header)] if header else [])],
                                    protocol="HTTP/1.1")
            urls[coding] = f"https://news.example.com/{coding}.html"
            writer.write_record(writer.create_warc_record(urls[coding], "response", payload=io.BytesIO(body),
                                                          http_headers=http,
                                                          warc_headers_dict={"WARC-Date": "2026-11-21T08:00:00Z"}))
    locator = WarcLocator(sqlite3.connect(":memory:", check_same_thread=False), threading.Lock(), storage)
    for coding, url in urls.items():
        page = locator.find([url], "2026-11-21T08:00:00Z", "news", "run1")
        assert page is not None and page.status == 200, coding
        assert f"Texte archivé, {coding}." in page.html, coding
