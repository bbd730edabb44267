"""Pages served in every content coding, as news sites send them: archived as sent, stored as if served plain,
and rebuilt byte for byte by replay (sample site: tests/servers/http_archive.py, codings:
tests/servers/encodings.py)."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest

from pipelines.archive.reader import iter_exchanges
from tests.helpers import CORPUS_WARC, Crawl, decoded_body, scrapy
from tests.servers.base import ServerProcess
from tests.servers.encodings import CODINGS, LIAR
from tests.servers.http_archive import ROTATION, page_codings, served_path


def corpus_pages() -> dict[str, bytes]:
    """Served path -> the page's bytes, as the sample site has them before it encodes them."""
    with open(CORPUS_WARC, "rb") as stream:
        return {served_path(response.url): response.body for response in iter_exchanges(stream)}


PAGES = corpus_pages()
CODING_OF = {path: coding for path, (coding, _) in page_codings(PAGES).items()}


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def stored(crawl: Crawl) -> dict[str, bytes]:
    """Served path of the page fetched -> its stored document, from the store's manifest."""
    documents = {}
    for manifest in (crawl.store / "manifest").glob("*.jsonl"):
        for line in manifest.read_text().splitlines():
            entry = json.loads(line)
            documents[path_of(entry.get("fetched_url") or entry["url"])] = (crawl.store / entry["key"]).read_bytes()
    return documents


def without_fetched(document: bytes) -> bytes:
    """Two crawls fetch at two times, from servers on two ports: everything else of a document must be the same."""
    document = re.sub(rb"127\.0\.0\.1:\d+", b"127.0.0.1", document)
    return b"\n".join(line for line in document.split(b"\n") if not line.startswith(b"fetched: "))


def archived_responses(crawl: Crawl) -> dict[str, object]:
    responses = {}
    for path in sorted((crawl.store / "warc").rglob("*.warc.gz")):
        with open(path, "rb") as stream:
            responses.update({path_of(r.url): r for r in iter_exchanges(stream) if r.status == 200})
    return responses


@pytest.mark.parametrize("coding", ROTATION)
def test_a_coding_is_archived_as_sent_and_gives_the_plain_pages_documents_live_and_replayed(
        coding, sitemap_crawl, plain_crawl, replayed_crawl):
    paths = {path for path, value in CODING_OF.items() if value == coding}
    assert len(paths) >= 10
    live, plain, replayed = (
        {path: document for path, document in stored(crawl).items() if path in paths}
        for crawl in (sitemap_crawl, plain_crawl, replayed_crawl)
    )
    assert len(live) == len(plain) >= len(paths) - 2  # a page or two of the corpus is no article when plain either
    assert {path: without_fetched(d) for path, d in live.items()} == {
        path: without_fetched(d) for path, d in plain.items()
    }
    assert replayed == live  # byte for byte, fetched included (the WARC-Date)

    archived = archived_responses(sitemap_crawl)
    header = CODINGS[coding][0]
    for path in paths:
        response = archived[path]
        assert response.header("Content-Encoding") == header, path  # kept as sent
        assert not response.header("Transfer-Encoding")  # the payload is de-chunked (docs/archive.md)
        assert (response.body == PAGES[path]) == (coding == "identity")
        assert decoded_body(response) == PAGES[path]


def test_a_server_that_says_gzip_and_sends_plain_fails_alike_live_and_replayed(tmp_path):
    """Scrapy refuses such a body (as browsers do); replay must refuse it the same way, not store something else."""
    paths = sorted(PAGES)[:2]
    with ServerProcess("tests.servers.http_archive", "--coding", LIAR) as liar:
        live = scrapy("crawl", "urls", "-a", "urls=" + ",".join(liar.url(p) for p in paths), store=tmp_path / "live")
    replay = scrapy("replay", str(tmp_path / "live" / "warc"), store=tmp_path / "replayed")
    assert live.returncode == replay.returncode
    errors = live.run_record()["errors"]
    assert sum(errors.values()) == 2 and replay.run_record()["errors"] == errors
    assert not (tmp_path / "live" / "articles").exists() and not (tmp_path / "replayed" / "articles").exists()
    archived = archived_responses(live)  # archived all the same, as sent
    assert all(
        archived[path].body == PAGES[path] and archived[path].header("Content-Encoding") == "gzip" for path in paths
    )
