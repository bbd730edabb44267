"""Standard tools read a crawl's archive as their own: pywb replays every page, ``warcio check`` passes,
cdxj-indexer lists one capture per response (tools: tests/servers/archive_tools.py)."""

from __future__ import annotations

import json
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from pipelines.archive.reader import iter_exchanges
from tests.helpers import Crawl, decoded_body
from tests.servers.archive_tools import Wayback, run_tool

# codings that pywb 2.10 (through warcio 1.8) does not decode: it sends such a payload on as archived
PYWB_UNDECODED = {"zstd", "x-gzip", "gzip, br"}


def warc_files(crawl: Crawl) -> list[Path]:
    return sorted((crawl.store / "warc").rglob("*.warc.gz"))


def responses(crawl: Crawl) -> list:
    found = []
    for path in warc_files(crawl):
        with open(path, "rb") as stream:
            found += list(iter_exchanges(stream))
    return found


def test_the_crawl_asks_for_the_codings_standard_readers_decode(sitemap_crawl):
    asked = set()
    for path in warc_files(sitemap_crawl):
        with open(path, "rb") as stream:
            asked |= {
                r.http_headers.get_header("Accept-Encoding") for r in ArchiveIterator(stream) if r.rec_type == "request"
            }
    assert asked == {"gzip, deflate, br"}  # not zstd: pywb cannot replay it (a server that sends it anyway: above)


def test_warcio_check_passes(sitemap_crawl):
    done = run_tool("warcio", "check", "-v", *map(str, warc_files(sitemap_crawl)))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    verdicts = [line.strip() for line in done.stdout.splitlines() if line.strip().startswith("digest")]
    assert verdicts and set(verdicts) == {"digest pass"}


def test_cdxj_indexer_lists_one_capture_per_response(sitemap_crawl):
    done = run_tool("cdxj-indexer", *map(str, warc_files(sitemap_crawl)))
    assert done.returncode == 0, done.stderr[-2000:]
    captures = [json.loads(line.split(" ", 2)[2]) for line in done.stdout.splitlines()]
    archived = responses(sitemap_crawl)
    assert sorted(c["url"] for c in captures) == sorted(r.url for r in archived)  # metadata records are no captures


def test_pywb_replays_every_archived_page_with_its_exact_bytes(sitemap_crawl, tmp_path):
    pages = [r for r in responses(sitemap_crawl) if r.status == 200]
    assert len(pages) > 90
    undecoded = 0
    with Wayback(tmp_path / "pywb", warc_files(sitemap_crawl)) as wayback:
        for page in pages:
            status, headers, body = wayback.raw(page.url, page.fetched.strftime("%Y%m%d%H%M%S"))
            assert status == 200, page.url
            if body != decoded_body(page):  # pywb could not decode this coding: the payload as archived, then
                assert headers.get("x-archive-orig-content-encoding") in PYWB_UNDECODED and body == page.body, page.url
                undecoded += 1
    assert undecoded < len(pages) // 2
