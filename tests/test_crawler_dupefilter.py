"""crawler.dupefilter: after a crash, JOBDIR's requests.seen must not hide requests that were never done."""

from __future__ import annotations

import subprocess
import sys

from scrapy import Request

from crawler.dupefilter import ResumableDupeFilter
from tests.helpers import ROOT

REQUESTS = 1000  # more than a file buffer of fingerprints: Scrapy's filter writes some of them to disk

# queue REQUESTS requests, finish the first 5, then crash (os._exit: no clean-up, no buffer flush) or close cleanly
RUN = """
import os, sys
from scrapy import Request
from scrapy.dupefilters import RFPDupeFilter
from scrapy.http import HtmlResponse
from crawler.dupefilter import ResumableDupeFilter

jobdir, kind, end = sys.argv[1:4]
dupefilter = {"resumable": ResumableDupeFilter, "scrapy": RFPDupeFilter}[kind](jobdir)
requests = [Request(f"https://example.com/news/{n}.html") for n in range(REQUESTS)]
for request in requests:
    assert not dupefilter.request_seen(request)
for request in requests[:5]:  # their items were stored
    if kind == "resumable":
        dupefilter.done(item={}, response=HtmlResponse(request.url, request=request))
if end == "crash":
    os._exit(0)
dupefilter.close("shutdown")
""".replace("REQUESTS", str(REQUESTS))


def seen_after(tmp_path, kind: str, end: str) -> int:
    jobdir = tmp_path / f"{kind}-{end}"
    jobdir.mkdir()
    subprocess.run([sys.executable, "-c", RUN, str(jobdir), kind, end], cwd=ROOT, check=True)
    resumed = ResumableDupeFilter(str(jobdir))
    try:
        return sum(resumed.request_seen(Request(f"https://example.com/news/{n}.html")) for n in range(REQUESTS))
    finally:
        resumed.close("finished")


def test_after_a_crash_only_finished_requests_count_as_seen(tmp_path):
    assert seen_after(tmp_path, "resumable", "crash") == 5
    # Scrapy's own filter: part of the queued requests (whose queue was lost) would be filtered out for good
    assert 5 < seen_after(tmp_path, "scrapy", "crash") < REQUESTS


def test_after_a_clean_stop_every_queued_request_counts_as_seen(tmp_path):
    # the queue that holds the unfinished ones is saved by Scrapy at a clean stop: none is requested twice
    assert seen_after(tmp_path, "resumable", "close") == REQUESTS


def test_without_jobdir_it_is_scrapys_filter():
    dupefilter = ResumableDupeFilter()
    request = Request("https://example.com/a.html")
    assert not dupefilter.request_seen(request)
    assert dupefilter.request_seen(request.replace())
    assert dupefilter.unsaved == set()
