"""Each spider type against the sample site on 127.0.0.1, run as users run it: `scrapy crawl ...`."""

from __future__ import annotations

import re

import pytest

from pipelines.evaluation.quality import score, shingle_counts
from tests.helpers import CORPUS_WARC, SAMPLE_SITES, corpus_truth, original_url, scrapy

INSERT_LINE = re.compile(r"(also read|read more|related|see also)\s*:|insert headline", re.I)


@pytest.mark.parametrize("feed", ["/rss.xml", "/atom.xml"])
def test_feed_spider(site, store, feed):
    crawl = scrapy("crawl", "feed", "-a", f"url={site.url(feed)}", "-a", "limit=12", store=store)
    assert crawl.returncode == 0, crawl.stderr[-2000:]
    assert len(crawl.documents()) == 12
    assert crawl.run_record()["skipped"].get("limit", 0) == 90 - 12


def test_urls_spider(site, store, tmp_path):
    truth = corpus_truth()
    urls = [site.url(f"/{u.split('://', 1)[1]}") for u in sorted(truth)[:5]]
    listing = tmp_path / "urls.txt"
    listing.write_text("# five corpus pages\n\n" + "\n".join(urls) + "\n" + urls[0] + "\n")
    crawl = scrapy("crawl", "urls", "-a", f"file={listing}", "-a", "site=sample", store=store,
                   settings={"SITES_DIRS": str(SAMPLE_SITES)})
    assert crawl.returncode == 0, crawl.stderr[-2000:]
    assert len(crawl.documents()) == 5  # the repeated line is fetched once
    assert crawl.run_record()["skipped"] == {"duplicate": 1}
    assert sorted(p.name for p in (store / "articles").iterdir()) == ["sample"]


def site_files(tmp_path, key: str, text: str):
    """A folder of site files (SITES_DIRS) holding one, ``<key>.toml``."""
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / f"{key}.toml").write_text(text)
    return sites


def test_site_spider_from_a_site_file(site, store, tmp_path):
    sites = site_files(
        tmp_path,
        "sample_news",
        f"""
name = "Sample News"
domains = ["127.0.0.1"]
feeds = ["{site.url('/rss.xml')}"]
sitemaps = ["{site.url('/sitemap.xml')}"]
pages = ["{site.url('/')}"]
article = '/www\\.[a-z]+\\.com/'
front_matter = {{ section = "world", categories = ["archive"], featured = false }}
""",
    )
    listed = scrapy("list", store=store, settings={"SITES_DIRS": str(sites)})
    assert "sample_news" in listed.stdout.split()
    crawl = scrapy("crawl", "sample_news", store=store, settings={"SITES_DIRS": str(sites)})
    assert crawl.returncode == 0, crawl.stderr[-2000:]
    documents = crawl.documents()
    expected = {u for u in corpus_truth() if re.search(r"//www\.[a-z]+\.com/", u)}
    assert len(documents) == len(expected)  # feeds, sitemaps and the front page agree: each fetched once
    for meta, _ in documents.values():
        assert meta["source"] == "Sample News"
        assert meta["section"] == "world" and meta["categories"] == ["archive"] and meta["featured"] is False
    assert {p.name for p in (store / "articles").iterdir()} == {"sample_news"}
    record = crawl.run_record()
    assert record["job"] == record["spider"] == "sample_news"
    assert record["skipped"]["duplicate"] > 0 and record["skipped"]["not_article_url"] > 0


def test_a_sitemap_index_that_lists_itself_is_read_once(site, store):
    # each listing of it requested it again (sources are not filtered as duplicates): the crawl never ended
    crawl = scrapy("crawl", "sitemap", "-a", f"url={site.url('/sitemaps/loop.xml')}", "-a", "limit=3", store=store,
                   timeout=60)
    assert crawl.returncode == 0, crawl.stderr[-2000:]
    assert len(crawl.documents()) == 3  # the news sitemap, listed by a relative <loc>, was read
    assert crawl.run_record()["skipped"]["duplicate"] == 2  # the index's two listings of itself


def test_an_article_that_redirects_off_the_sites_domains_is_counted(site, store, tmp_path):
    # Scrapy filters the redirect to another domain when it is scheduled: no errback ran, nothing was counted
    sites = site_files(tmp_path, "sample_away", f"""
name = "Sample Away"
domains = ["127.0.0.1"]
pages = ["{site.url('/away.html')}"]
article = '/away/'
""")
    crawl = scrapy("crawl", "sample_away", store=store, settings={"SITES_DIRS": str(sites)})
    record = crawl.run_record()
    assert record["skipped"].get("offsite") == 3 and not crawl.documents(), (record, crawl.stderr[-2000:])


def test_inserts_added_to_article_bodies_are_all_removed(site_with_inserts, store):
    crawl = scrapy("crawl", "sitemap", "-a", f"url={site_with_inserts.url('/sitemap.xml')}", store=store)
    assert crawl.returncode == 0, crawl.stderr[-2000:]
    truth = corpus_truth()
    documents = crawl.documents()
    assert len(documents) == 90
    leftovers = [line for _, body in documents.values() for line in body.split("\n\n") if INSERT_LINE.search(line)]
    inserted = sum(crawl.run_record()["cleaning"].get(k, 0) for k in ("insert", "trailing_insert", "promo_heading"))
    assert inserted >= 150  # the sample site put in one to five per page
    assert leftovers == []
    # the rest of the text survives (the pages were re-serialized to add the inserts, which moves a few points)
    shingle = [shingle_counts(truth[original_url(u, truth)], body, 4) for u, (_, body) in documents.items()]
    assert score(shingle).f1 >= 0.97


@pytest.mark.parametrize(
    "args, message",
    [
        (["crawl", "nosuchspider"], "unknown spider 'nosuchspider'"),
        (["crawl", "urls"], "needs -a file=PATH"),
        (["crawl", "urls", "-a", "file=/no/such/list", "-a", "urls=http://127.0.0.1:9/x"],
         "spider 'urls' takes -a file=PATH or -a urls=URL,URL, not both"),
        (["crawl", "sitemap", "-a", "url=ftp://example.com/x.xml"], "not an http(s) URL"),
        # http(s) but no URL that can be fetched: refused before the engine meets it
        (["crawl", "sitemap", "-a", "url=http://127.0.0.1:abc/x"], "-a url='http://127.0.0.1:abc/x': not a valid URL"),
        (["crawl", "feed", "-a", "url=http://[::1]:99999/x"], "-a url='http://[::1]:99999/x': not a valid URL"),
        (["crawl", "sitemap", "-a", "url=http://[::1"], "-a url='http://[::1': not a valid URL"),
        (["crawl", "urls", "-a", "urls=http://127.0.0.1:9/a,http://127.0.0.1:0/b"], "-a urls='http://127.0.0.1:0/b'"),
        (["crawl", "feed", "-a", "url=https://example.com/rss", "-a", "bogus=1"], "takes no argument bogus"),
        (["crawl", "feed", "-a", "url=https://example.com/rss", "-a", "limit=-3"], "limit"),
        (["crawl", "feed", "-a", "url=https://example.com/rss", "-s", "OUTPUT_FORMAT=html"], "OUTPUT_FORMAT"),
        (["crawl", "feed", "-a", "url=https://example.com/rss", "-s", "REVISIT_AFTER=soon"], "REVISIT_AFTER"),
        (["crawl", "feed", "-a", "url=https://example.com/rss", "-s", "ARCHIVE_QUEUE_SIZE=0"], "ARCHIVE_QUEUE_SIZE"),
        (["crawl", "feed", "-a", "url=https://example.com/rss", "-s", "STORE_URI=ftp://x/y"], "STORE_URI"),
        (["replay", "/no/such/archive"], "no such WARC file or directory"),
        # an empty range of dates: the day given to --until ends where --since begins
        (["replay", str(CORPUS_WARC), "--since", "2026-02-01", "--until", "2026-01-31"],
         "--since 2026-02-01 is not before --until 2026-01-31: no record is in between"),
        (["replay", str(CORPUS_WARC), "--published-since", "2026-01-02T00:00Z", "--published-until", "2025-12-31"],
         "--published-since 2026-01-02T00:00Z is not before --published-until 2025-12-31"),
    ],
)
def test_bad_argument_or_setting_is_one_line_and_nothing_starts(store, args, message):
    crawl = scrapy(*args, store=store)
    assert crawl.returncode == 2
    assert crawl.stderr.startswith("error: ") and crawl.stderr.strip().count("\n") == 0, crawl.stderr
    assert message in crawl.stderr
    assert not store.exists()


@pytest.mark.parametrize(
    "lines, message",
    [
        (["http://127.0.0.1:abc/x", "http://[::1]:99999/y"], "line 1 is not a valid URL"),
        (["# a comment", "", "http://[::1"], "line 3 is not a valid URL"),
        (["http://127.0.0.1:9/a", "ftp://127.0.0.1/b"], "line 2 is not an http(s) URL"),
        # one bad line among good ones: the user's own list is checked as -a urls= is, line by line
        (["http://127.0.0.1:9/a", "http://127.0.0.1:99999/b"], "line 2 is not a valid URL"),
        (["# nothing but comments"], "no URLs in the file"),
    ],
)
def test_a_url_list_with_a_line_that_is_no_url_is_refused_naming_the_line(tmp_path, store, lines, message):
    listing = tmp_path / "urls.txt"
    listing.write_text("\n".join(lines) + "\n")
    crawl = scrapy("crawl", "urls", "-a", f"file={listing}", store=store)
    assert crawl.returncode == 2, crawl.stderr[-2000:]
    assert crawl.stderr.startswith(f"error: -a file={listing}: ") and crawl.stderr.strip().count("\n") == 0
    assert message in crawl.stderr
    assert not store.exists()


@pytest.mark.parametrize("jobdir", ["a-file", "a-file/job"])
def test_a_jobdir_that_cannot_be_a_directory_is_one_line_and_nothing_starts(tmp_path, store, jobdir):
    (tmp_path / "a-file").write_text("not a directory\n")
    crawl = scrapy("crawl", "feed", "-a", "url=http://127.0.0.1:9/rss", "-s", f"JOBDIR={tmp_path / jobdir}",
                   store=store)
    assert crawl.returncode == 2, crawl.stderr[-2000:]
    assert crawl.stderr == (f"error: setting JOBDIR={str(tmp_path / jobdir)!r}: expected a directory; "
                            f"{tmp_path / 'a-file'} is not one\n")
    assert not store.exists() and (tmp_path / "a-file").read_text() == "not a directory\n"
