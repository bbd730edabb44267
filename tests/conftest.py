"""Shared fixtures: the sample site server, and one sitemap crawl of it that several tests read."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import Crawl, scrapy
from tests.servers.base import ServerProcess


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


@pytest.fixture
def store(tmp_path) -> Path:
    return tmp_path / "store"
