"""``scrapy schedule [--config schedules.toml]``: run crawls on their schedules until stopped.

Every job is checked first (spider, arguments, settings), so a mistake is one
line naming the job and field and nothing starts. Each run is its own
``scrapy crawl`` process with ``-s JOB_NAME=<job>``; ``-s`` options given to
``schedule`` reach every run and win over the file's. SIGTERM or Ctrl-C stops
the scheduler once the running crawls have finished their writes (exit code
0); a second one forces them to stop at once, and the scheduler exits 1, as a
crawl forced to stop does (docs/commands.md).
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from functools import partial
from typing import Any

from scrapy.exceptions import UsageError
from scrapy.utils.conf import arglist_to_dict
from scrapy.utils.log import configure_logging

from crawler.cli import EXIT_FAILED, ProjectCommand
from crawler.commands.crawl import checked_spider
from crawler.config import check_setting_names
from crawler.errors import ConfigError
from crawler.schedules import Job, JobRunner, crawl_command, first_run, load_schedule

DEFAULT_CONFIG = "schedules.toml"


def check_job(job: Job, settings: Any, source: str) -> None:
    """The checks of ``scrapy crawl``, on the settings a run of this job will have."""
    run_settings = settings.copy()
    run_settings.setdict(job.settings, priority="spider")  # below the command line's -s, as in a crawl
    try:
        check_setting_names(run_settings, job.settings)
        checked_spider(run_settings, job.spider, job.args)
    except ConfigError as exc:
        raise ConfigError(f"{source}: job {job.name!r}: {exc}") from None


class Command(ProjectCommand):
    requires_crawler_process = False

    def syntax(self) -> str:
        return f"[--config {DEFAULT_CONFIG}] [--check] [-s NAME=VALUE ...]"

    def short_desc(self) -> str:
        return "Run crawls on their schedules (a TOML file of jobs) until stopped"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("--config", default=DEFAULT_CONFIG, metavar="FILE",
                            help=f"schedule file (default: {DEFAULT_CONFIG}; example: settings/schedules.example.toml)")
        parser.add_argument("--check", action="store_true", help="check the file, print each job's next run, exit")

    def run_checked(self, args: list[str], opts: Any) -> None:
        if args:
            raise UsageError("schedule takes no arguments; give the file with --config")
        jobs = load_schedule(opts.config)
        for job in jobs:
            check_job(job, self.settings, opts.config)
        if opts.check:
            self.print_jobs(jobs)
            return
        configure_logging(self.settings)
        overrides = arglist_to_dict(opts.set)
        runner = JobRunner(jobs, command=partial(crawl_command, overrides=overrides), cwd=os.getcwd())
        runner.install_signal_handlers()
        runner.run()
        if runner.forced:  # the crawls it passed the second signal on to left their last writes unfinished
            sys.stderr.write("error: the schedule was forced to stop (signalled twice): the crawls it was running "
                             "were forced to stop too, their last writes may be unfinished\n")
            self.exitcode = EXIT_FAILED
        elif runner.cut_short:  # one signal here, but a crawl got two (ours and its own) and was forced
            sys.stderr.write("error: a crawl the schedule was stopping was forced to stop (exit code 1): its last "
                             "writes may be unfinished; signal the scheduler only (systemd: KillMode=mixed)\n")
            self.exitcode = EXIT_FAILED

    @staticmethod
    def print_jobs(jobs: list[Job]) -> None:
        now = datetime.now(UTC)
        for job in jobs:
            start = first_run(job, now).strftime("%Y-%m-%dT%H:%M:%SZ")
            sys.stdout.write(f"{job.name}: spider {job.spider}, {job.when}, first run {start}\n")
