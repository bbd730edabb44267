"""Archives other tools wrote replay into documents: warcio's capture_http, Debian's wget, Common Crawl's style
(revisits, WARC-Truncated, no request records), and WACZ (fixtures: tests/fixtures/foreign/make_foreign.py)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.helpers import read_documents, scrapy
from tests.servers.base import ServerProcess
from tests.test_archive_encodings import PAGES

FOREIGN = Path(__file__).parent / "fixtures" / "foreign"
EXPECTED = json.loads((FOREIGN / "expected.json").read_text())


def titles(store: Path) -> dict[str, str]:
    return {url: meta["title"] for url, (meta, _) in read_documents(store).items()}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_replay_gives_the_articles_of_an_archive_another_tool_wrote(name, tmp_path):
    replay = scrapy("replay", str(FOREIGN / name), store=tmp_path / "store")
    assert replay.returncode == 0, replay.stderr[-2000:]
    assert titles(tmp_path / "store") == EXPECTED[name]
    assert replay.run_record()["errors"] == {}


def test_common_crawl_revisits_and_cut_pages(tmp_path):
    replay = scrapy("replay", str(FOREIGN / "commoncrawl.warc.gz"), store=tmp_path / "store")
    documents = read_documents(tmp_path / "store")
    first, _ = documents["https://news.example.org/news/story-1.html"]
    assert first["fetched"].isoformat() == "2024-05-20T10:00:00+00:00"
    record = replay.run_record()  # the revisit a month later: the same payload again, so the same article unchanged
    assert record["articles_stored"] == 3 and record["articles_unchanged"] == 1
    _, cut = documents["https://news.example.org/news/story-3.html"]
    assert cut.startswith("Story 3 part 1:")  # what the record holds is kept; the log says it was cut
    assert "archived response cut short (WARC-Truncated: length)" in replay.stderr


def test_spiders_replay_foreign_archives_with_replay_warc(tmp_path):
    urls = sorted(EXPECTED["commoncrawl.warc.gz"])
    crawl = scrapy("crawl", "urls", "-a", "urls=" + ",".join(urls), store=tmp_path / "cc",
                   settings={"REPLAY_WARC": str(FOREIGN / "commoncrawl.warc.gz")})
    assert crawl.returncode == 0, crawl.stderr[-2000:]
    assert titles(tmp_path / "cc") == EXPECTED["commoncrawl.warc.gz"]
    assert read_documents(tmp_path / "cc")[urls[0]][0]["fetched"].isoformat() == "2024-06-20T10:00:00+00:00"
    urls = sorted(EXPECTED["capture_http.wacz"])
    crawl = scrapy("crawl", "urls", "-a", "urls=" + ",".join(urls), store=tmp_path / "wacz",
                   settings={"REPLAY_WARC": str(FOREIGN / "capture_http.wacz")})
    assert titles(tmp_path / "wacz") == EXPECTED["capture_http.wacz"]


def test_wget_archive_of_the_compressed_sample_site_replays_to_our_crawls_documents(tmp_path):
    paths = sorted(PAGES)[:4]  # gzip, x-gzip, deflate, deflate-raw: two of them chunked
    with ServerProcess("tests.servers.http_archive") as site:
        urls = [site.url(path) for path in paths]
        subprocess.run(["wget", "--quiet", "--compression=gzip", "--warc-file", str(tmp_path / "wget"),
                        "-O", "/dev/null", *urls], check=True, timeout=60)
        ours = scrapy("crawl", "urls", "-a", "urls=" + ",".join(urls), store=tmp_path / "ours")
    replay = scrapy("replay", str(tmp_path / "wget.warc.gz"), store=tmp_path / "replayed")
    assert ours.returncode == replay.returncode == 0, replay.stderr[-2000:]
    ours_docs, replayed = read_documents(tmp_path / "ours"), read_documents(tmp_path / "replayed")
    assert len(ours_docs) >= 3 and set(replayed) == set(ours_docs)
    for url, (meta, body) in ours_docs.items():
        other, other_body = replayed[url]
        assert body == other_body and {**meta, "fetched": None} == {**other, "fetched": None}
