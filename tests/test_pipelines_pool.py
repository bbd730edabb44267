"""Extraction off the reactor: pages go to worker processes, one task per page, and the event loop runs on meanwhile."""

from __future__ import annotations

import asyncio
import re

import pytest
from scrapy.utils.test import get_crawler

from pipelines.clean import CleanPipeline
from pipelines.extract import ExtractPipeline, extract_and_clean
from pipelines.item import Article
from tests.helpers import scrapy
from tests.test_pipelines_extract import PARAGRAPHS, article_html, page

SETTINGS = {
    "CLEAN_ENABLED": True, "EXTRACT_FAVOR_PRECISION": True, "EXTRACT_INCLUDE_COMMENTS": False,
    "EXTRACT_INCLUDE_TABLES": True, "EXTRACT_MAX_BYTES": 10 * 1024 * 1024, "EXTRACT_MIN_WORDS": 30,
    "EXTRACT_TIMEOUT": 60,
}
# "ALSO READ" and the headline repeated above the text: two blocks the clean stage removes
DIRTY = article_html(body="<p>Also read: Other story about the city</p>" + PARAGRAPHS)


def pipelines(workers: int) -> tuple[ExtractPipeline, CleanPipeline, object]:
    crawler = get_crawler(settings_dict={**SETTINGS, "EXTRACT_WORKERS": workers})
    return ExtractPipeline.from_crawler(crawler), CleanPipeline.from_crawler(crawler), crawler


@pytest.mark.parametrize("workers, order", [(1, ["loop ran", "extracted"]), (0, ["extracted", "loop ran"])])
def test_the_event_loop_runs_while_a_worker_extracts(workers, order):
    """With workers the pipeline awaits the pool and the loop serves other work; with 0 it extracts inline."""
    extract, _, _ = pipelines(workers)
    events: list[str] = []

    async def extract_one():
        article = await extract.process_item(page(DIRTY))
        assert isinstance(article, Article)
        events.append("extracted")

    async def other_work():
        events.append("loop ran")

    async def both():
        await asyncio.gather(extract_one(), other_work())

    try:
        asyncio.run(both())
    finally:
        extract.pool.close()
    assert events == order


def test_one_task_extracts_and_cleans_and_each_stage_keeps_its_stats():
    extract, clean, crawler = pipelines(1)

    async def run():
        article = await extract.process_item(page(DIRTY))
        return article, await clean.process_item(article)

    try:
        extracted, cleaned = asyncio.run(run())
    finally:
        extract.pool.close()
    assert cleaned is extracted  # cleaned in the extraction task: the clean stage sent nothing to the pool
    assert extracted.cleaned == {"insert": 1, "title": 1}
    assert not any("Also read" in text for text in cleaned.paragraphs)
    stats = crawler.stats.get_stats()
    assert stats["extract/articles"] == 1
    assert stats["clean/insert"] == 1 and stats["clean/title"] == 1


def test_the_clean_stage_cleans_an_article_not_cleaned_yet():
    _, clean, crawler = pipelines(0)
    article = extract_and_clean(page(DIRTY), cleaning=False)
    assert article.cleaned is None
    cleaned = asyncio.run(clean.process_item(article))
    assert cleaned.cleaned == {"insert": 1, "title": 1}
    assert crawler.stats.get_value("clean/insert") == 1


def test_pages_waiting_for_extraction_stay_bounded_when_extraction_lags(site, store):
    """One worker, downloads far faster: Scrapy stops fetching once SCRAPER_SLOT_MAX_ACTIVE_SIZE bytes wait.

    The pool never holds more pages than fit in that budget (counting each at
    the smallest page's size), plus those already downloading when the budget
    filled: without the limit, all 90 pages would be queued at once.
    """
    budget, concurrency, smallest_page = 400_000, 4, 20_000
    crawl = scrapy("crawl", "sitemap", "-a", f"url={site.url('/sitemaps/news.xml')}", store=store, settings={
        "EXTRACT_WORKERS": "1", "SCRAPER_SLOT_MAX_ACTIVE_SIZE": str(budget), "CONCURRENT_REQUESTS": str(concurrency),
        "CONCURRENT_REQUESTS_PER_DOMAIN": str(concurrency), "ROBOTSTXT_OBEY": "false", "ARCHIVE_ENABLED": "false",
    })
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    assert crawl.run_record()["articles_stored"] == 90
    in_flight = int(re.search(r"'extract/in_flight_max': (\d+)", crawl.stderr).group(1))
    assert 1 <= in_flight <= budget // smallest_page + concurrency + 1
