"""Incremental crawls end to end: what the store holds is not fetched again, changes become revisions,
and a crawl killed mid-way resumes from JOBDIR without duplicates. A small site on 127.0.0.1 that the
tests change between runs (tests.servers.static_site)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from pipelines.document.render import parse_document, url_hash
from tests.conftest import ARTICLES
from tests.helpers import ROOT, read_documents, scrapy, scrapy_command
from tests.servers.base import ServerProcess
from tests.servers.static_site import write_article, write_sitemap

UPDATE = ("Update: the council approved the budget after a second vote late on Thursday night, "
          "officials said in a statement published on the city website.")


def crawl(news, store: Path, state: Path, **settings: str):
    result = scrapy("crawl", "sitemap", "-a", f"url={news.url('/sitemap.xml')}", store=store, state=state,
                    settings={"EXTRACT_WORKERS": "0", **settings})
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_a_new_machine_knows_what_the_store_holds(news, tmp_path):
    store = tmp_path / "store"
    first = crawl(news, store, tmp_path / "state-a")
    assert first.run_record()["articles_stored"] == ARTICLES
    assert len(news.requests()) == ARTICLES
    # same STORE_URI, empty STATE_DIR: the index is rebuilt from the store's manifests
    second = crawl(news, store, tmp_path / "state-b")
    record = second.run_record()
    assert news.requests() == []
    assert record["skipped"] == {"recently_fetched": ARTICLES}
    assert record["articles_stored"] == 0


def test_changed_article_becomes_a_revision_and_unchanged_ones_write_nothing(news, tmp_path):
    store, state = tmp_path / "store", tmp_path / "state"
    crawl(news, store, state)
    news.requests()
    changed = news.paths[2]
    url = news.url("/" + changed)
    before = read_documents(store)
    files = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (store / "articles").rglob("*.txt")}
    old_text = next(p.read_text() for p in files if p.name == f"{url_hash(url)}.txt")

    # the page changes and the sitemap says so (lastmod after our fetch): only that page is fetched again
    write_article(news.root, 2, extra=UPDATE)
    write_sitemap(news.root, news.paths, {changed: datetime.now(UTC).isoformat()})
    record = crawl(news, store, state).run_record()
    assert news.requests() == [f"/{changed}"]
    assert (record["articles_stored"], record["articles_revised"]) == (1, 1)
    assert record["skipped"] == {"recently_fetched": ARTICLES - 1}

    documents = read_documents(store)
    meta, body = documents[url]
    assert meta["revision"] == 2 and body.endswith(UPDATE)
    assert "revision" not in before[url][0]
    history = store / "revisions" / "site_127_0_0_1" / url_hash(url) / "1.txt"
    assert history.read_text() == old_text  # the earlier version, byte for byte
    assert len(list((store / "articles").rglob("*.txt"))) == ARTICLES
    for path, (data, mtime) in files.items():  # the other documents were not touched
        if path.name != f"{url_hash(url)}.txt":
            assert (path.read_bytes(), path.stat().st_mtime_ns) == (data, mtime)
    manifests = sorted((store / "manifest").glob("*.jsonl"), key=lambda p: p.stat().st_mtime)
    assert len(manifests) == 2
    lines = [json.loads(line) for line in manifests[-1].read_text().splitlines()]
    assert [(line["url"], line["revision"]) for line in lines] == [(url, 2)]

    # REVISIT_AFTER=0: everything is fetched again; same bodies, so nothing is written
    snapshot = sorted((p.relative_to(store), p.read_bytes()) for p in store.rglob("*.txt"))
    record = crawl(news, store, state, REVISIT_AFTER="0").run_record()
    assert sorted(news.requests()) == sorted(f"/{p}" for p in news.paths)
    assert (record["articles_stored"], record["articles_unchanged"]) == (0, ARTICLES)
    assert sorted((p.relative_to(store), p.read_bytes()) for p in store.rglob("*.txt")) == snapshot
    assert len(list((store / "manifest").glob("*.jsonl"))) == 2

    # a second change: revision 3, revision 2 joins the history
    write_article(news.root, 2, extra=UPDATE + " A third paragraph of news.")
    crawl(news, store, state, REVISIT_AFTER="0")
    meta, body = read_documents(store)[url]
    assert meta["revision"] == 3
    second = parse_document((history.parent / "2.txt").read_text())
    assert second[0]["revision"] == 2 and second[1].endswith(UPDATE)
    assert sorted(p.name for p in history.parent.iterdir()) == ["1.txt", "2.txt"]


def test_killed_crawl_resumes_from_jobdir_without_duplicates(tmp_path):
    """A crawl killed mid-way (SIGKILL: no clean-up at all), run again with the same JOBDIR and CRAWL_ID."""
    root, store, state, jobdir = tmp_path / "site", tmp_path / "store", tmp_path / "state", tmp_path / "job"
    count = 16
    paths = [write_article(root, n) for n in range(count)]
    write_sitemap(root, paths)
    settings = {"JOBDIR": str(jobdir), "CRAWL_ID": "nightly-1", "EXTRACT_WORKERS": "0",
                "CONCURRENT_REQUESTS": "2", "CONCURRENT_REQUESTS_PER_DOMAIN": "2"}
    with ServerProcess("tests.servers.static_site", str(root), "--delay", "0.25") as site:
        args = ("crawl", "sitemap", "-a", f"url={site.url('/sitemap.xml')}")
        command = scrapy_command(*args, store=store, state=state, settings=settings)
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        try:
            deadline = time.monotonic() + 120
            while len(list((store / "articles").rglob("*.txt"))) < 3:
                assert process.poll() is None and time.monotonic() < deadline, "the crawl ended before it was killed"
                time.sleep(0.05)
        finally:
            os.killpg(process.pid, signal.SIGKILL)  # the crawl and its extraction workers, mid-way
            process.wait()
        stored_before = len((store / "manifest" / "nightly-1.jsonl").read_text().splitlines())
        assert 3 <= len(list((store / "articles").rglob("*.txt"))) < count
        assert json.loads((store / "runs" / "nightly-1.json").read_text())["finish_reason"] == "running"

        resumed = scrapy(*args, store=store, state=state, settings=settings)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    record = resumed.run_record()
    assert record["finish_reason"] == "finished"
    documents = read_documents(store)
    assert sorted(documents) == sorted(site.url("/" + p) for p in paths)
    assert len(list((store / "articles").rglob("*.txt"))) == count
    manifest = [json.loads(line) for line in (store / "manifest" / "nightly-1.jsonl").read_text().splitlines()]
    assert len(manifest) == count == len({line["url"] for line in manifest})  # each article once
    assert record["articles_stored"] == count - stored_before
    # the killed run's WARC file is kept beside the resumed run's, not overwritten
    assert len(list((store / "warc").rglob("nightly-1-*.warc.gz"))) >= 2
