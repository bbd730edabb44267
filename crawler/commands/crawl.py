"""``scrapy crawl <spider>``: Scrapy's crawl, with site files, spider arguments and settings checked first.

The crawler process (and Scrapy's start-up log) comes only after the checks,
so a mistake prints one line and nothing else.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.crawler import AsyncCrawlerProcess, CrawlerProcess
from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader

from crawler.cli import EXIT_FAILED, ProjectCommand
from crawler.config import check_settings, check_store
from crawler.errors import ConfigError
from crawler.extensions.runrecord import RECORD_NOT_WRITTEN, run_record, work_failed
from crawler.extensions.spool import flush_before
from crawler.frontier import FAILURES as FRONTIER_FAILURES
from crawler.frontier import check_frontier
from crawler.quietlog import quiet_scrapy_startup
from crawler.shutdown import GracefulStop
from crawler.sites import check_site_argument, load_sites
from pipelines.workers.pool import start_forkserver

if TYPE_CHECKING:
    from scrapy import Spider

ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"


def load_spider(settings: Any, name: str) -> type[Spider]:
    loader = get_spider_loader(settings)
    try:
        return loader.load(name)
    except KeyError:
        known = ", ".join(sorted(loader.list()))
        raise ConfigError(f"unknown spider {name!r}; `scrapy list` shows the spiders: {known}") from None


def checked_spider(settings: Any, name: str, spider_args: dict[str, str]) -> type[Spider]:
    """The spider class, once site files, settings and ``-a`` arguments passed their checks."""
    spidercls = load_spider(settings, name)
    check_settings(settings)
    checker = getattr(spidercls, "check_arguments", None)
    if checker:
        checker(**spider_args)
    if spider_args.get("site"):
        check_site_argument(load_sites(settings.getlist("SITES_DIRS")), spider_args["site"])
    return spidercls


def crawler_process(settings: Any) -> AsyncCrawlerProcess | CrawlerProcess:
    if settings.get("TWISTED_REACTOR") == ASYNCIO_REACTOR or not settings.getbool("TWISTED_REACTOR_ENABLED"):
        return AsyncCrawlerProcess(settings)
    return CrawlerProcess(settings)


SPIDER_ARGUMENTS = """Spider arguments (-a NAME=VALUE):
  site=KEY          every spider: store each page under this site file's key, with its rules
                    (without it: the site file whose domains hold the page, else its host name)
  limit=N           every spider: stop after N article requests
  url=URL[,URL]     sitemap, feed: the sitemap(s) or RSS/Atom feed(s) to start from
  file=PATH         urls: a text file of article URLs, one per line (# comments, blank lines skipped)
  urls=URL[,URL]    urls: the article URLs themselves (instead of file=)
A site spider (`scrapy list`) takes only site and limit.

Exit codes: 0 done (also when nothing was new), 1 the crawl failed (nothing could be fetched,
or nothing stored because every page failed; the frontier was lost; a second SIGTERM or
Ctrl-C forced it to stop), 2 a mistake in the command (one line on stderr, nothing started).
See docs/commands.md."""


def crawl_failed(crawler: Any) -> str:
    """Why a finished crawl failed ("" when it did its work): :func:`work_failed` of its figures, or a run record
    that could not be written (it would say "running" for ever)."""
    stats = crawler.stats.get_stats()
    if stats.get(RECORD_NOT_WRITTEN):
        return f"its run record could not be written ({stats[RECORD_NOT_WRITTEN]})"
    return work_failed(run_record(stats, {}, datetime.now(UTC)))


class Command(ProjectCommand, ScrapyCrawl):
    requires_crawler_process = False

    def short_desc(self) -> str:
        return "Crawl a site (a site key) or run a generic spider: sitemap, feed, urls"

    def long_desc(self) -> str:
        return (
            "Crawl with one spider: a site file's key, or a generic spider (sitemap, feed, urls).\n\n"
            + SPIDER_ARGUMENTS
        )

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("-v", "--verbose", action="store_true",
                            help="log Scrapy's start-up report (versions, settings, components) and stats too")

    def run_checked(self, args: list[str], opts: Any) -> None:
        if len(args) != 1:
            raise UsageError("give one spider name")
        quiet_scrapy_startup(self.settings.get("LOG_LEVEL"), opts.verbose)
        spidercls = checked_spider(self.settings, args[0], opts.spargs)
        if self.settings.getint("EXTRACT_WORKERS", -1):
            start_forkserver()  # loads the extraction modules while Scrapy sets up the crawl
        check_frontier(self.settings, spidercls.name)
        check_store(self.settings)
        self.crawler_process = crawler_process(self.settings)
        crawler = self._create_crawler(spidercls)
        flush_before(self.settings, crawler)
        stop = GracefulStop(crawler).install()  # SIGTERM/SIGINT stop the crawl gracefully at any moment
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start(install_signal_handlers=False)
        if stop.forced:  # a second signal: the reactor stopped under the crawl, whose writes were not all done
            sys.stderr.write("error: the crawl was forced to stop (signalled twice): its last writes may be "
                             "unfinished and its run record says running\n")
            self.exitcode = EXIT_FAILED
        elif self.crawler_process.bootstrap_failed or crawler.stats.get_value("finish_reason") in FRONTIER_FAILURES:
            self.exitcode = EXIT_FAILED
        elif failed := crawl_failed(crawler):
            sys.stderr.write(f"error: the crawl failed: {failed}\n")
            self.exitcode = EXIT_FAILED
