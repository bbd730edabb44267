"""``scrapy crawl <spider>``: Scrapy's crawl, with site files, spider arguments and settings checked first.

The crawler process (and Scrapy's start-up log) comes only after the checks,
so a mistake prints one line and nothing else.
"""

from __future__ import annotations

from typing import Any

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.crawler import AsyncCrawlerProcess, CrawlerProcess
from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader

from crawler.cli import ProjectCommand
from crawler.config import check_settings, check_store
from crawler.errors import ConfigError
from crawler.frontier import FAILURES as FRONTIER_FAILURES, check_frontier
from crawler.shutdown import GracefulStop
from pipelines.workers.pool import start_forkserver

ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"


def load_spider(settings: Any, name: str) -> type:
    loader = get_spider_loader(settings)
    try:
        return loader.load(name)
    except KeyError:
        known = ", ".join(sorted(loader.list()))
        raise ConfigError(f"unknown spider {name!r}; `scrapy list` shows the spiders: {known}") from None


def checked_spider(settings: Any, name: str, spider_args: dict[str, str]) -> type:
    """The spider class, once site files, settings and ``-a`` arguments passed their checks."""
    spidercls = load_spider(settings, name)
    check_settings(settings)
    checker = getattr(spidercls, "check_arguments", None)
    if checker:
        checker(**spider_args)
    return spidercls


def crawler_process(settings: Any) -> AsyncCrawlerProcess | CrawlerProcess:
    if settings.get("TWISTED_REACTOR") == ASYNCIO_REACTOR or not settings.getbool("TWISTED_REACTOR_ENABLED"):
        return AsyncCrawlerProcess(settings)
    return CrawlerProcess(settings)


class Command(ProjectCommand, ScrapyCrawl):
    requires_crawler_process = False

    def run_checked(self, args: list[str], opts: Any) -> None:
        if len(args) != 1:
            raise UsageError("give one spider name")
        spidercls = checked_spider(self.settings, args[0], opts.spargs)
        if self.settings.getint("EXTRACT_WORKERS", -1):
            start_forkserver()  # loads the extraction modules while Scrapy sets up the crawl
        check_frontier(self.settings, spidercls.name)
        check_store(self.settings)
        self.crawler_process = crawler_process(self.settings)
        crawler = self._create_crawler(spidercls)
        GracefulStop(crawler).install()  # SIGTERM/SIGINT stop the crawl gracefully at any moment (a scheduler's stop)
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start(install_signal_handlers=False)
        if self.crawler_process.bootstrap_failed or crawler.stats.get_value("finish_reason") in FRONTIER_FAILURES:
            self.exitcode = 1
