"""Meta refresh: the same redirects as Scrapy's middleware, without decoding pages that have none."""

from __future__ import annotations

import pytest
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware as ScrapyMetaRefreshMiddleware
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawler.middlewares.metarefresh import MetaRefreshMiddleware
from pipelines.extraction.quality import load_corpus
from tests.servers.http_archive import DEFAULT_WARC

URL = "https://news.example.com/story/1.html"


def middleware(cls=MetaRefreshMiddleware):
    return cls.from_crawler(get_crawler(settings_dict={"ROBOTSTXT_OBEY": False}))


def response(body: bytes, content_type: str = "text/html; charset=utf-8") -> HtmlResponse:
    return HtmlResponse(URL, body=body, headers={"Content-Type": content_type}, request=Request(URL))


REFRESHING = {
    "plain": b'<html><head><meta http-equiv="refresh" content="0; url=/moved/1.html"></head><body>x</body></html>',
    "upper case, single quotes": b"<HTML><HEAD><META HTTP-EQUIV='Refresh' CONTENT='0;URL=/moved/1.html'></HEAD></HTML>",
    "after a long head": b"<html><head>" + b"<meta name='x' content='y'>" * 100
    + b'<meta http-equiv="refresh" content="1;url=https://news.example.com/moved/1.html"></head></html>',
}


@pytest.mark.parametrize("body", REFRESHING.values(), ids=REFRESHING.keys())
def test_a_refresh_redirects_as_with_scrapy(body):
    ours = middleware().process_response(Request(URL), response(body))
    theirs = middleware(ScrapyMetaRefreshMiddleware).process_response(Request(URL), response(body))
    assert isinstance(ours, Request)
    assert ours.url == theirs.url == "https://news.example.com/moved/1.html"


def test_a_refresh_in_utf16_is_found():
    body = '<html><head><meta http-equiv="refresh" content="0; url=/moved/1.html"></head></html>'.encode("utf-16")
    result = middleware().process_response(Request(URL), response(body, "text/html; charset=utf-16"))
    assert isinstance(result, Request) and result.url.endswith("/moved/1.html")


NOT_REFRESHING = {
    "none": b"<html><head><title>Story</title></head><body><p>refresh the page</p></body></html>",
    "beyond the first 4096 characters": b"<html><head><title>" + b"a" * 5000 + b'</title>'
    b'<meta http-equiv="refresh" content="0; url=/moved/1.html"></head></html>',
}


@pytest.mark.parametrize("body", NOT_REFRESHING.values(), ids=NOT_REFRESHING.keys())
def test_no_refresh_no_redirect_as_with_scrapy(body):
    page = response(body)
    assert middleware().process_response(Request(URL), page) is page
    assert isinstance(middleware(ScrapyMetaRefreshMiddleware).process_response(Request(URL), response(body)), HtmlResponse)


SCRIPTED = (b"<html><head><script>document.write('<meta http-equiv=\"refresh\" content=\"0;url=/x\">')"
            b"</script></head><body>x</body></html>")


@pytest.mark.parametrize("ignore_tags", [[], ["script", "noscript"]])
def test_a_refresh_in_a_script_follows_the_ignore_tags_setting_as_with_scrapy(ignore_tags):
    settings = {"METAREFRESH_IGNORE_TAGS": ignore_tags}
    ours = MetaRefreshMiddleware.from_crawler(get_crawler(settings_dict=settings))
    theirs = ScrapyMetaRefreshMiddleware.from_crawler(get_crawler(settings_dict=settings))
    results = [m.process_response(Request(URL), response(SCRIPTED)) for m in (ours, theirs)]
    assert [getattr(r, "url", None) if isinstance(r, Request) else None for r in results] == (
        ["https://news.example.com/x"] * 2 if not ignore_tags else [None, None]
    )


def test_a_refresh_in_a_page_that_declares_no_encoding_redirects_as_with_scrapy():
    # windows-1252 bytes that are not UTF-8, and no charset anywhere: Scrapy guesses the encoding
    body = '<html><head><title>Café</title><meta http-equiv="refresh" content="0; url=/caf\xe9/1.html"></head></html>'
    results = [
        m.process_response(Request(URL), response(body.encode("cp1252"), "text/html"))
        for m in (middleware(), middleware(ScrapyMetaRefreshMiddleware))
    ]
    assert all(isinstance(r, Request) for r in results)
    assert results[0].url == results[1].url


def test_a_refresh_in_utf16_without_a_declared_encoding_is_found_as_with_scrapy():
    body = '<html><head><meta http-equiv="refresh" content="0; url=/moved/1.html"></head></html>'.encode("utf-16-le")
    results = [m.process_response(Request(URL), response(body, "text/html"))
               for m in (middleware(), middleware(ScrapyMetaRefreshMiddleware))]
    assert [type(r) for r in results] == [type(results[1])] * 2
    assert getattr(results[0], "url", None) == getattr(results[1], "url", None)


@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", "text/html"])
def test_real_pages_are_passed_through_without_being_decoded(content_type):
    pages = load_corpus(DEFAULT_WARC.parent)
    ours = middleware()
    for url, _, body in pages:
        page = HtmlResponse(url, body=body, headers={"Content-Type": content_type}, request=Request(url))
        assert ours.process_response(Request(url), page) is page
        # Scrapy's middleware decodes every page, and guesses the encoding of those that declare none
        assert page._cached_ubody is None and page._cached_benc is None, url
