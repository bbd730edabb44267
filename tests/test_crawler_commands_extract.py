"""``scrapy extract`` on archived input: a WARC or WACZ (its one article, or --url), a saved .html.gz (its own URL)."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

from pipelines.archive.reader import iter_exchanges
from pipelines.document.render import parse_document
from tests.helpers import CORPUS_WARC, scrapy
from tests.record import PAGES
from tests.test_pipelines_extraction_page import article_html

FOREIGN = Path(__file__).parent / "fixtures" / "foreign"


def extract(*args: str, tmp: Path):
    return scrapy("extract", *args, store=tmp / "store")


def test_a_warc_of_one_page_prints_that_pages_document(tmp_path):
    folder = sorted(PAGES.glob("*/*/page.warc.gz"))[0].parent
    expected = json.loads((folder / "expected.json").read_text())
    done = extract(str(folder / "page.warc.gz"), tmp=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    meta, body = parse_document(done.stdout)
    assert (meta["url"], meta["title"], body) == (expected["url"], expected["title"], expected["body"])
    assert not (tmp_path / "store").exists()  # nothing stored


def test_an_archive_of_many_pages_asks_for_url_then_gives_the_one_named(tmp_path):
    many = extract(str(FOREIGN / "commoncrawl.warc.gz"), tmp=tmp_path)
    assert many.returncode == 2 and "holds 3 pages: pick one with --url" in many.stderr.strip().splitlines()[-1]
    url = "https://news.example.org/news/story-2.html"
    one = extract(str(FOREIGN / "commoncrawl.warc.gz"), "--url", url, tmp=tmp_path)
    assert one.returncode == 0, one.stderr[-2000:]
    meta, body = parse_document(one.stdout)
    assert meta["url"] == url and meta["title"] == "Foreign archive story 2" and body.startswith("Story 2 part 1:")
    missing = extract(str(FOREIGN / "commoncrawl.warc.gz"), "--url", "https://news.example.org/no.html", tmp=tmp_path)
    assert missing.returncode == 2 and "no archived response for https://news.example.org/no.html" in missing.stderr


def test_a_wacz_page_is_decoded_as_the_crawl_decodes_it(tmp_path):
    expected = json.loads((FOREIGN / "expected.json").read_text())["capture_http.wacz"]
    url = sorted(expected)[1]  # br, chunked as received
    done = extract(str(FOREIGN / "capture_http.wacz"), "--url", url, tmp=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert parse_document(done.stdout)[0]["title"] == expected[url]


def test_a_saved_html_gz_takes_the_pages_own_canonical_url(tmp_path):
    with open(CORPUS_WARC, "rb") as stream:
        for response in iter_exchanges(stream):
            found = re.search(rb'<link[^>]*rel="canonical"[^>]*href="(https://[^"]+)"', response.body)
            if found:
                break
    saved = tmp_path / "page.html.gz"
    saved.write_bytes(gzip.compress(response.body))
    done = extract(str(saved), tmp=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    meta, body = parse_document(done.stdout)
    assert meta["url"] == found.group(1).decode() and "localhost" not in done.stdout and body
    broken = tmp_path / "broken.html.gz"
    broken.write_bytes(b"<html>not gzip</html>")
    failed = extract(str(broken), tmp=tmp_path)
    assert failed.returncode == 2 and failed.stderr.strip().startswith(f"error: {broken}: ")


def test_a_saved_page_with_a_base_takes_its_relative_canonical_url(tmp_path):
    # a browser reads the relative link against the page's <base href>; without the base it names no address
    head = "<base href='https://news.example.com/en/'><link rel='canonical' href='2026/11/21/budget.html'>"
    saved = tmp_path / "page.html"
    saved.write_text(article_html(head))
    done = extract(str(saved), tmp=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert parse_document(done.stdout)[0]["url"] == "https://news.example.com/en/2026/11/21/budget.html"


def test_an_archive_that_is_no_warc_is_named_in_one_line(tmp_path):
    for name in ("corrupt.warc.gz", "corrupt.warc"):
        corrupt = tmp_path / name
        corrupt.write_bytes(b"garbage\n")
        failed = extract(str(corrupt), tmp=tmp_path)
        assert failed.returncode == 2, failed.stderr[-2000:]
        assert failed.stderr.startswith(f"error: {corrupt}: not a readable WARC file")
        assert failed.stderr.count("\n") == 1


def test_a_fetched_page_with_no_article_is_its_reason_in_one_line_and_exit_code_1(site, tmp_path):
    url = site.url("/")  # the sample site's front page: a listing
    done = scrapy("extract", url, store=tmp_path / "store")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.strip().splitlines()[-1] == f"error: not an article (listing): {url}"
    assert "nothing fetched" not in done.stderr  # it was fetched: the reason is the page's, said once
