"""Sitemaps (index, news, gzip, robots.txt) and feeds (RSS 2.0, Atom) into candidate article URLs."""

from __future__ import annotations

import gzip

import pytest

from crawler.sources import SourceError, parse_feed, parse_sitemap, sitemaps_in_robots

INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://news.example.com/sitemap-news.xml</loc><lastmod>2026-11-21</lastmod></sitemap>
  <sitemap><loc>https://news.example.com/sitemap-2026-11.xml.gz</loc></sitemap>
</sitemapindex>"""
NEWS = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url><loc>https://news.example.com/2026/11/21/budget/</loc><lastmod>2026-11-21T10:05:00+00:00</lastmod>
    <news:news><news:publication><news:name>Example</news:name><news:language>en</news:language></news:publication>
      <news:publication_date>2026-11-21T09:00:00+00:00</news:publication_date>
      <news:title>Budget passes</news:title></news:news>
    <image:image><image:loc>https://img.example.com/1.jpg</image:loc></image:image></url>
  <url><loc>https://news.example.com/2026/11/20/roads/</loc></url>
  <url><loc>javascript:alert(1)</loc></url>
</urlset>"""


def test_sitemap_index_lists_sitemaps():
    sitemap = parse_sitemap(INDEX)
    assert sitemap.kind == "index"
    assert [e.url for e in sitemap.entries] == [
        "https://news.example.com/sitemap-news.xml", "https://news.example.com/sitemap-2026-11.xml.gz"]


def test_news_sitemap_gives_dates_and_titles_as_hints():
    sitemap = parse_sitemap(NEWS)
    assert sitemap.kind == "urlset"
    first, second = sitemap.entries
    assert first.url == "https://news.example.com/2026/11/21/budget/"
    assert first.hints == {
        "date": "2026-11-21T09:00:00+00:00",
        "lastmod": "2026-11-21T10:05:00+00:00",
        "title": "Budget passes",
    }
    assert second.hints == {}


def test_gzipped_sitemap_is_read():
    assert len(parse_sitemap(gzip.compress(NEWS)).entries) == 2


@pytest.mark.parametrize("body", [b"<html><body>not a sitemap</body></html>", b"", b"\x1f\x8bbroken"])
def test_a_page_that_is_not_a_sitemap_is_an_error(body):
    with pytest.raises(SourceError):
        parse_sitemap(body)


def test_entities_are_not_expanded():
    hostile = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
    <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://a.example/&e;</loc></url></urlset>"""
    entries = parse_sitemap(hostile).entries
    assert all("root:" not in e.url for e in entries)


def test_relative_urls_in_sources_are_resolved_against_the_sources_address():
    # they were dropped without a word
    base = "https://news.example.com/sitemaps/news.xml"
    urlset = (b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>/2026/a.html</loc></url>'
              b"<url><loc>//news.example.com/2026/b.html</loc></url><url><loc>HTTP://news.example.com/c</loc></url>"
              b"</urlset>")
    assert [e.url for e in parse_sitemap(urlset, base).entries] == [
        "https://news.example.com/2026/a.html", "https://news.example.com/2026/b.html", "http://news.example.com/c"]
    rss = b"<rss version='2.0'><channel><title>T</title><item><link>/2026/d.html</link></item></channel></rss>"
    assert [e.url for e in parse_feed(rss, "https://news.example.com/rss.xml")] == [
        "https://news.example.com/2026/d.html"]
    assert sitemaps_in_robots(b"Sitemap: /sitemap.xml\n", "https://news.example.com/robots.txt") == [
        "https://news.example.com/sitemap.xml"]
    # a feed with no items, read with its address, is still a feed (not "no Content-type specified")
    assert parse_feed(b"<rss version='2.0'><channel><title>T</title></channel></rss>",
                      "https://news.example.com/rss.xml") == []


def test_robots_txt_sitemap_lines():
    robots = b"User-agent: *\nDisallow: /search\nSitemap: https://news.example.com/sitemap.xml\nsitemap:https://news.example.com/news.xml\n"
    assert sitemaps_in_robots(robots) == ["https://news.example.com/sitemap.xml", "https://news.example.com/news.xml"]


def test_rss_feed():
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
    <item><title>Budget  passes</title><link>https://news.example.com/a</link>
      <pubDate>Sat, 21 Nov 2026 09:00:00 +0100</pubDate></item>
    <item><title>No link</title></item></channel></rss>"""
    entries = parse_feed(rss)
    assert [e.url for e in entries] == ["https://news.example.com/a"]
    assert entries[0].hints["date"] == "2026-11-21T08:00:00+00:00"
    assert entries[0].hints["title"] == "Budget passes"


def test_atom_feed():
    atom = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>
    <entry><title>Roads</title><link href="https://news.example.com/b"/><id>urn:b</id>
    <published>2026-11-20T12:00:00Z</published><updated>2026-11-21T12:00:00Z</updated></entry></feed>"""
    entry = parse_feed(atom)[0]
    assert entry.url == "https://news.example.com/b"
    assert entry.hints["date"] == "2026-11-20T12:00:00+00:00" and entry.hints["lastmod"] == "2026-11-21T12:00:00+00:00"


def test_a_page_that_is_not_a_feed_is_an_error():
    with pytest.raises(SourceError):
        parse_feed(b"<html><body><p>hello</p></body></html>")
