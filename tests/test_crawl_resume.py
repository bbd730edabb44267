"""kill -9 in the middle of a crawl: every file left is whole, and running the crawl again completes the set.

The site is slow (tests.servers.http_faults --delay), so the crawl is killed
while pages are in flight, documents are being written and the WARC grows.
It is killed twice, in the first run and in the rerun; a third run finishes.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import time
import urllib.request
from collections import Counter
from pathlib import Path

import psutil
import pytest
from warcio.archiveiterator import ArchiveIterator

from pipelines.document.render import parse_document
from tests.helpers import ROOT, Crawl, scrapy, scrapy_command
from tests.servers.base import ServerProcess

PAGES = 30
KILL_AFTER = 8  # documents stored by the run being killed


@pytest.fixture(scope="module")
def slow_site():
    with ServerProcess("tests.servers.http_faults", "--good", str(PAGES), "--delay", "0.25") as server:
        yield server


def urls_of(server: ServerProcess) -> list[str]:
    with urllib.request.urlopen(server.url("/_good"), timeout=10) as response:
        return [server.url(path) for path in json.load(response)]


def documents(store: Path) -> list[Path]:
    return sorted((store / "articles").rglob("*.txt")) if (store / "articles").is_dir() else []


def kill_when(command: list[str], store: Path, stored: int, timeout: float = 120) -> None:
    """Start a crawl and kill -9 it once ``stored`` documents are in the store; its workers must die with it."""
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while len(documents(store)) < stored:
            assert process.poll() is None, "the crawl ended before it could be killed; slow the site down"
            assert time.monotonic() < deadline, "the crawl stored too little in time"
            time.sleep(0.02)
        workers = psutil.Process(process.pid).children(recursive=True)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        _, alive = psutil.wait_procs(workers, timeout=15)
        assert not alive, f"extraction workers outlived the crawl: {alive}"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def assert_every_file_is_whole(store: Path) -> None:
    for path in documents(store):
        meta, body = parse_document(path.read_text(encoding="utf-8"))
        assert meta["url"] and body, path
    keys = set()
    for manifest in (store / "manifest").glob("*.jsonl"):
        text = manifest.read_text(encoding="utf-8")
        assert text.endswith("\n"), f"{manifest} ends in half a line"
        for line in text.splitlines():
            keys.add(json.loads(line)["key"])
    assert all((store / key).is_file() for key in keys), "a manifest line names a missing document"
    for path in (store / "warc").rglob("*.warc.gz"):
        data = path.read_bytes()
        gzip.decompress(data)  # raises on a gzip member cut short
        with open(path, "rb") as stream:
            types = Counter(record.rec_type for record in _read_all(stream))
        assert types["warcinfo"] == 1 and types["response"] == types["request"] >= 0, (path, types)
    for run in (store / "runs").glob("*.json"):
        json.loads(run.read_text())


def _read_all(stream):
    for record in ArchiveIterator(stream):
        record.raw_stream.read()  # the whole payload: a record cut short raises
        yield record


def manifest_lines(store: Path) -> list[dict]:
    return [json.loads(line) for path in (store / "manifest").glob("*.jsonl") for line in path.read_text().splitlines()]


@pytest.mark.parametrize("resume", ["incremental", "jobdir"])
def test_kill_9_leaves_whole_files_and_a_rerun_completes_the_set(slow_site, tmp_path, resume):
    urls = urls_of(slow_site)
    (tmp_path / "urls.txt").write_text("\n".join(urls) + "\n")
    store = tmp_path / "store"
    settings = {"CONCURRENT_REQUESTS_PER_DOMAIN": "4"}
    if resume == "jobdir":
        settings["JOBDIR"] = str(tmp_path / "job")
    args = ("crawl", "urls", "-a", f"file={tmp_path / 'urls.txt'}")

    kill_when(scrapy_command(*args, store=store, settings=settings), store, KILL_AFTER)
    assert_every_file_is_whole(store)
    first = len(documents(store))
    assert first < PAGES, "killed too late to test anything"

    kill_when(scrapy_command(*args, store=store, settings=settings), store, first + KILL_AFTER)
    assert_every_file_is_whole(store)

    crawl: Crawl = scrapy(*args, store=store, settings=settings)
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    assert_every_file_is_whole(store)
    lines = manifest_lines(store)
    fetched = Counter(line.get("fetched_url", line["url"]) for line in lines)
    assert set(fetched) == set(urls), f"missing: {set(urls) - set(fetched)}"
    assert max(fetched.values()) == 1, "an article is in the manifests twice"
    assert len(documents(store)) == PAGES == len(lines)
    assert not list((store / ".tmp").iterdir()), "temporary files left behind"
    finish = sorted(json.loads(p.read_text())["finish_reason"] for p in (store / "runs").glob("*.json"))
    assert finish == ["finished", "running", "running"]  # the killed runs show as such
