"""``scrapy replay <warc file | dir | s3://…>``: re-extract archived pages, offline.

Documents are byte-identical to the live crawl's (``fetched`` comes from
WARC-Date); with the same store, unchanged articles write nothing and changed
ones become new revisions. ``--diff`` writes nothing and reports which
documents would change and how, with totals.
"""

from __future__ import annotations

import sys
from functools import partial
from typing import Any

from scrapy.exceptions import UsageError

from crawler.cli import EXIT_FAILED, ProjectCommand
from crawler.commands.crawl import crawl_failed, crawler_process
from crawler.quietlog import quiet_scrapy_startup
from crawler.config import check_settings, check_store
from crawler.archive.replay import open_store_prefix
from crawler.archive.spider import ReplaySpider
from pipelines.workers.pool import start_forkserver
from pipelines.archive.reader import warc_sources

REPLAY_SETTINGS = {
    "REPLAY_STREAM": True,
    "ARCHIVE_ENABLED": False,  # replayed responses are in the archive already
    "ROBOTSTXT_OBEY": False,  # the live crawl obeyed it; the archive has no other pages
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "CONCURRENT_REQUESTS": 64,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 64,
    "REVISIT_AFTER": 0,
    "FRONTIER_URL": "",  # one process: its requests are answered from memory, never shared through Redis
}


class Command(ProjectCommand):
    requires_crawler_process = False  # made after the checks

    def syntax(self) -> str:
        return "[options] <warc file | directory | s3://bucket/prefix>"

    def short_desc(self) -> str:
        return "Re-extract archived pages (WARC) into documents, offline"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("--diff", action="store_true", help="write nothing; report what would change")
        parser.add_argument("-v", "--verbose", action="store_true",
                            help="log Scrapy's start-up report (versions, settings, components) and stats too")

    def run_checked(self, args: list[str], opts: Any) -> None:
        if len(args) != 1:
            raise UsageError("give one WARC file, directory or s3:// prefix")
        source = args[0]
        quiet_scrapy_startup(self.settings.get("LOG_LEVEL"), opts.verbose)
        if not any(True for _ in warc_sources(source, partial(open_store_prefix, settings=self.settings))):
            raise FileNotFoundError(f"{source}: no WARC files there")
        self.settings.setdict(REPLAY_SETTINGS, priority="cmdline")
        if opts.diff:
            pipelines = dict(self.settings.getdict("ITEM_PIPELINES"))
            pipelines.pop("pipelines.store.StorePipeline", None)
            pipelines["pipelines.store.DiffPipeline"] = 500
            self.settings.set("ITEM_PIPELINES", pipelines, priority="cmdline")
            self.settings.set("PROGRESS_SUMMARY", False, priority="cmdline")
            extensions = dict(self.settings.getdict("EXTENSIONS"))
            extensions["crawler.extensions.runrecord.RunRecord"] = None  # --diff leaves the store as it is
            extensions["crawler.extensions.spool.SpoolFlush"] = None
            self.settings.set("EXTENSIONS", extensions, priority="cmdline")
        check_settings(self.settings)
        if self.settings.getint("EXTRACT_WORKERS", -1):
            start_forkserver()  # see the crawl command
        check_store(self.settings)
        process = crawler_process(self.settings)
        crawler = process.create_crawler(ReplaySpider)
        process.crawl(crawler, source=source)
        process.start()
        if opts.diff:
            report = getattr(crawler, "diff_report", None)
            sys.stdout.write((report.render() if report else "nothing replayed") + "\n")
        if process.bootstrap_failed:
            self.exitcode = EXIT_FAILED
        elif not opts.diff and (failed := crawl_failed(crawler)):
            sys.stderr.write(f"error: the replay failed: {failed}\n")
            self.exitcode = EXIT_FAILED
