"""``scrapy replay <warc file | dir | s3://… | .wacz>``: re-extract archived pages, offline.

Documents are byte-identical to the live crawl's (``fetched`` comes from
WARC-Date); with the same store, unchanged articles write nothing and
changed ones become new revisions. ``--diff`` writes nothing and reports which
documents would change and how, with totals. ``--site``, ``--since``/``--until``
(fetch date), ``--published-since``/``--published-until`` and ``--url`` replay
only the records they select, read through the archive's indexes. With
``FRONTIER_URL`` and ``CRAWL_ID`` the process is one of many workers sharing
the replay (crawler.archive.work); ``--status CRAWL_ID`` shows one.
"""

from __future__ import annotations

import re
import sys
from functools import partial
from typing import Any

from scrapy import signals
from scrapy.exceptions import UsageError

from crawler.archive.replay import open_store_prefix
from crawler.archive.spider import ReplaySpider, source_store
from crawler.archive.work import ReplayWork
from crawler.cli import EXIT_FAILED, ProjectCommand
from crawler.commands.crawl import crawl_failed, crawler_process
from crawler.config import check_settings, check_store
from crawler.errors import ConfigError
from crawler.extensions.spool import flush_before
from crawler.frontier import FAILURES as FRONTIER_FAILURES
from crawler.frontier import check_frontier, check_frontier_settings, redact, redis_client
from crawler.frontier.units import SPIDER, replay_status
from crawler.quietlog import quiet_scrapy_startup
from crawler.shutdown import GracefulStop
from pipelines.archive.files import archive_files
from pipelines.archive.select import Selection, date_bound
from pipelines.document.render import SITE_KEY_RE
from pipelines.store import DiffPipeline, DiffReport
from pipelines.workers.pool import start_forkserver

REPLAY_SETTINGS = {
    "REPLAY_STREAM": True,
    "ARCHIVE_ENABLED": False,  # replayed responses are in the archive already
    "ROBOTSTXT_OBEY": False,  # the live crawl obeyed it; the archive has no other pages
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "CONCURRENT_REQUESTS": 64,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 64,
    "REVISIT_AFTER": 0,
}

LONG_DESC = """Re-extract archived pages (WARC files, a directory, a store's s3:// prefix or a WACZ) into documents,
offline, through the same pipelines as a crawl.

Only part of the archive (records left out are not read; dates are UTC):
  --site KEY                 the site's files (warc/<site>/ of a store); repeat for several sites
  --since DATE, --until DATE records fetched in [since, until] (WARC-Date; a day counts whole)
  --published-since DATE, --published-until DATE
                             articles published then (the date in the store's manifests)
  --url REGEX                records whose URL matches
Dates and URLs are looked up in the CDXJ index beside each WARC file; a file without one is indexed once
(read whole) and its index saved beside it.

Many workers, one replay: with FRONTIER_URL and CRAWL_ID, start `scrapy replay` with the same archive on any
number of machines; they share its units of work through Redis and stop when it is done. `scrapy replay
--status CRAWL_ID` shows one. See docs/archive.md and docs/workers.md.

Exit codes: 0 done, 1 the replay failed (nothing stored while every page failed; Redis was lost), 2 a
mistake in the command (one line on stderr)."""


class Command(ProjectCommand):
    requires_crawler_process = False  # made after the checks

    def syntax(self) -> str:
        return "[options] <warc file | directory | s3://bucket/prefix | .wacz>"

    def short_desc(self) -> str:
        return "Re-extract archived pages (WARC) into documents, offline"

    def long_desc(self) -> str:
        return LONG_DESC

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("--diff", action="store_true", help="write nothing; report what would change")
        parser.add_argument("--site", action="append", default=[], metavar="KEY",
                            help="replay only this site's files (repeat for several)")
        parser.add_argument("--since", metavar="DATE", help="only records fetched at or after DATE (UTC)")
        parser.add_argument("--until", metavar="DATE", help="only records fetched up to DATE (a day counts whole)")
        parser.add_argument("--published-since", metavar="DATE", help="only articles published at or after DATE")
        parser.add_argument("--published-until", metavar="DATE", help="only articles published up to DATE")
        parser.add_argument("--url", metavar="REGEX", help="only records whose URL matches REGEX")
        parser.add_argument("--status", metavar="CRAWL_ID",
                            help="print the state of a shared replay (FRONTIER_URL) and exit")
        parser.add_argument("-v", "--verbose", action="store_true",
                            help="log Scrapy's start-up report (versions, settings, components) and stats too")

    def run_checked(self, args: list[str], opts: Any) -> None:
        if opts.status:
            if args:
                raise UsageError("--status takes a CRAWL_ID and no archive")
            self.print_status(opts.status)
            return
        if len(args) != 1:
            raise UsageError("give one WARC file, directory or s3:// prefix")
        source = args[0]
        quiet_scrapy_startup(self.settings.get("LOG_LEVEL"), opts.verbose)
        selection = selection_from(opts)
        files = list(archive_files(source, partial(open_store_prefix, settings=self.settings)))
        if not files:
            raise FileNotFoundError(f"{source}: no WARC files there")
        check_sites(source, files, selection)
        if selection.published:
            check_manifests(source, self.settings)
        self.settings.setdict(REPLAY_SETTINGS, priority="cmdline")
        if opts.diff:
            pipelines = dict(self.settings.getdict("ITEM_PIPELINES"))
            pipelines.pop("pipelines.dedup.DedupPipeline", None)
            pipelines.pop("pipelines.store.StorePipeline", None)
            pipelines["pipelines.store.DiffPipeline"] = 500
            self.settings.set("REPLAY_DIFF", True, priority="cmdline")
            self.settings.set("ITEM_PIPELINES", pipelines, priority="cmdline")
            self.settings.set("PROGRESS_SUMMARY", False, priority="cmdline")
            extensions = dict(self.settings.getdict("EXTENSIONS"))
            extensions["crawler.extensions.runrecord.RunRecord"] = None  # --diff leaves the store as it is
            extensions["crawler.extensions.spool.SpoolFlush"] = None
            self.settings.set("EXTENSIONS", extensions, priority="cmdline")
        check_settings(self.settings)
        check_frontier(self.settings, SPIDER)
        if self.settings.getint("EXTRACT_WORKERS", -1):
            start_forkserver()  # see the crawl command
        check_store(self.settings)
        process = crawler_process(self.settings)
        crawler = process.create_crawler(ReplaySpider)
        if not opts.diff:  # --diff leaves the store as it is
            flush_before(self.settings, crawler)
        ended: dict[str, Any] = {}  # what the --diff report needs, taken while the engine is still there

        def spider_closed(spider: Any) -> None:
            ended["work"] = spider.work
            ended["report"] = getattr(crawler.get_item_pipeline(DiffPipeline), "report", None)

        crawler.signals.connect(spider_closed, signal=signals.spider_closed, weak=False)
        stop = GracefulStop(crawler).install()  # as a crawl: a second signal is a failure, not a finished replay
        process.crawl(crawler, source=source, selection=selection)
        process.start(install_signal_handlers=False)
        if opts.diff:
            self.print_diff(ended.get("report"), ended.get("work"))
        reason = crawler.stats.get_value("finish_reason")
        if stop.forced:
            sys.stderr.write("error: the replay was forced to stop (signalled twice): its last writes may be "
                             "unfinished and its run record says running\n")
            self.exitcode = EXIT_FAILED
        elif process.bootstrap_failed or reason in FRONTIER_FAILURES:
            self.exitcode = EXIT_FAILED
        elif reason == "start_error":  # the reading of the archive broke off: some of it was never replayed
            sys.stderr.write("error: the replay failed: reading the archive broke off (see the log)\n")
            self.exitcode = EXIT_FAILED
        elif not opts.diff and (failed := crawl_failed(crawler)):
            sys.stderr.write(f"error: the replay failed: {failed}\n")
            self.exitcode = EXIT_FAILED

    def print_diff(self, report: DiffReport | None, work: ReplayWork | None) -> None:
        sys.stdout.write((report.render() if report else "nothing replayed") + "\n")
        if not self.settings.get("FRONTIER_URL") or work is None:
            return
        if work.whole_diff is not None:  # this worker finished the replay: the whole of it, summed over units
            sys.stdout.write(f"whole replay {work.crawl} (every worker):\n{work.whole_diff.render()}\n")
        else:
            sys.stdout.write(f"(this worker's part; the whole replay's report goes to diffs/{work.crawl}.json "
                             "when its last unit is done)\n")

    def print_status(self, crawl: str) -> None:
        check_frontier_settings(self.settings, needs_crawl_id=False)
        if not self.settings.get("FRONTIER_URL"):
            raise ConfigError("--status needs FRONTIER_URL: the Redis that the replay's workers share")
        import redis

        url = self.settings.get("FRONTIER_URL")
        try:
            status = replay_status(redis_client(self.settings), crawl)
        except redis.RedisError as exc:
            raise ConfigError(f"setting FRONTIER_URL={redact(url)}: cannot use Redis there: {exc}") from None
        if status is None:
            raise ConfigError(f"no replay {crawl!r} on {redact(url)} (or it finished longer ago than FRONTIER_EXPIRE)")
        sys.stdout.write(status_text(status) + "\n")


def status_text(status: dict[str, Any]) -> str:
    """What ``--status`` prints: the whole replay, then one line per worker."""
    head = f"replay {status['crawl_id']}: {status['state']}"
    if status["state"] == "finished":
        head += f" at {status['finished']}"
    units = (f"units: {status['done']} done, {status['left']} left, {status['leased']} leased, of {status['units']} "
             f"({status['reclaimed']} handed on after their lease ran out)")
    lines = [head, units]
    for worker, info in sorted(status["workers"].items()):
        beat = f"last beat {info['beat_age']} s ago" if info["beat_age"] is not None else "no heartbeat"
        holds = f"; holds {len(info['holds'])} unit(s)" if info["holds"] else ""
        lines.append(f"  {worker}: {info['state']} ({beat}{holds}) {info['progress']}".rstrip())
    return "\n".join(lines)


def selection_from(opts: Any) -> Selection:
    """The selection the options ask for; a bad value is a one-line ConfigError."""
    sites = {site.strip() for value in opts.site for site in value.split(",") if site.strip()}
    for site in sites:
        if not SITE_KEY_RE.match(site):
            raise ConfigError(f"--site {site!r}: a site key is lower-case letters, digits and _")
    bounds = {}
    for name, upper in (("since", False), ("until", True), ("published_since", False), ("published_until", True)):
        value = getattr(opts, name)
        if value:
            try:
                bounds[name] = date_bound(value, upper)
            except ValueError as exc:
                raise ConfigError(f"--{name.replace('_', '-')} {exc}") from None
    for since, until in (("since", "until"), ("published_since", "published_until")):
        if since in bounds and until in bounds and bounds[since] >= bounds[until]:  # [since, until): empty
            since_option, until_option = (f"--{name.replace('_', '-')}" for name in (since, until))
            raise ConfigError(f"{since_option} {getattr(opts, since)} is not before {until_option} "
                              f"{getattr(opts, until)}: no record is in between")
    if opts.url:
        try:
            re.compile(opts.url)
        except re.error as exc:
            raise ConfigError(f"--url {opts.url!r}: not a regular expression ({exc})") from None
    return Selection(sites=frozenset(sites), fetched_since=bounds.get("since"), fetched_until=bounds.get("until"),
                     published_since=bounds.get("published_since"), published_until=bounds.get("published_until"),
                     url=opts.url or "")


def check_sites(source: str, files: list[Any], selection: Selection) -> None:
    """``--site`` names a site the archive has, when its files are kept by site (a store's warc/<site>/)."""
    known = {file.site for file in files if file.site}
    if not selection.sites or not known or selection.sites & known:
        return
    raise ConfigError(f"--site {', '.join(sorted(selection.sites))}: no such site in {source} "
                      f"(its sites: {', '.join(sorted(known))})")


def check_manifests(source: str, settings: Any) -> None:
    """A selection by publication date needs the manifests of the store the archive belongs to."""
    storage, prefix = source_store(source, settings)
    manifests = f"{prefix}/manifest".strip("/")
    if not any(key.endswith(".jsonl") for key in storage.list(manifests)):
        raise ConfigError(f"--published-since/--published-until need the store's manifests: none at "
                          f"{storage.describe(manifests)} (give the store's warc/ folder)")
