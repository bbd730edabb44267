"""A crawl killed with SIGKILL and resumed from JOBDIR requests every URL it was given that is not stored.

The list is the sample site's pages and ten old addresses that redirect to some of them (/moved/…),
as a crawl of a real site meets them. The crawl is killed at several points and resumed with the same
command; over both runs, every URL of the list is asked for (or stored), and every page is stored once.
Without the fix in crawler/dupefilter.py, the kills at 5 and 25 documents lose URLs.
"""

from __future__ import annotations

import json

import pytest

from tests.helpers import scrapy, scrapy_command
from tests.servers.base import ServerProcess
from tests.servers.http_archive import DEFAULT_WARC, Site, quote
from tests.test_crawl_resume import documents, kill_when

COPIES = 1


@pytest.fixture(scope="module")
def copies_site(tmp_path_factory):
    log = tmp_path_factory.mktemp("resume-every-url") / "requests.log"
    log.touch()
    with ServerProcess(
        "tests.servers.http_archive", "--copies", str(COPIES), "--delay", "0.02", "--log", str(log)
    ) as server:
        server.log = log
        yield server


def url_list(server) -> list[str]:
    """The site's article URLs (both copies) and ten old addresses that redirect to some of them."""
    base = server.url("").rstrip("/")
    urls = [base + quote(path) for path, _ in Site(DEFAULT_WARC, None, False, COPIES).articles()]
    return urls + [base + "/moved" + url[len(base):] for url in urls[:10]]


@pytest.mark.parametrize("kill_after", [5, 25, 50])
def test_a_resumed_crawl_requests_every_url_it_was_given(copies_site, tmp_path, kill_after):
    urls = url_list(copies_site)
    (tmp_path / "urls.txt").write_text("\n".join(urls) + "\n")
    store = tmp_path / "store"
    settings = {"JOBDIR": str(tmp_path / "job"), "CONCURRENT_REQUESTS_PER_DOMAIN": "8"}
    args = ("crawl", "urls", "-a", f"file={tmp_path / 'urls.txt'}")
    start = len(copies_site.log.read_text().splitlines())

    kill_when(scrapy_command(*args, store=store, settings=settings), store, kill_after, timeout=240)
    crawl = scrapy(*args, store=store, settings=settings, timeout=600)
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    # the site logs each request before it answers: every request of the finished crawl is in the log already
    requested = set(copies_site.log.read_text().splitlines()[start:])
    base = copies_site.url("").rstrip("/")
    stored_urls = set()
    for path in (store / "manifest").glob("*.jsonl"):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            stored_urls.update({record["url"], record.get("fetched_url", record["url"])})
    missing = [url for url in urls if url[len(base):] not in requested and url not in stored_urls]
    assert not missing, f"never requested nor stored after a kill at {kill_after}: {missing[:5]}"
    assert len(documents(store)) == len(urls) - 10  # every page once: the /moved/ addresses lead to pages of the list
