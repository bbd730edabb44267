"""Scheduled crawls: jobs from a ``schedules.toml``, each run its own ``scrapy crawl`` process.

A job runs ``every`` some interval (``30s``, ``15m``, ``2h``, ``1h30m``) or on
a ``cron`` expression (croniter) in its time zone. A job never overlaps
itself: a run still going when the next is due makes that run skipped, and
logged. Stopping (SIGTERM/SIGINT) starts no new run, passes the signal once
to each running crawl, which then shuts down as Scrapy does (requests in
flight finish, items are written, the run record is closed), and waits. A
second signal is passed on too, forcing the crawls to stop at once; the
runner then counts as forced (:attr:`JobRunner.forced`), and its command
fails as a forced crawl does.

Parsing and timing are plain functions; :class:`JobRunner` only keeps the
clock and the child processes.
"""

from __future__ import annotations

import logging
import re
import signal
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from crawler.errors import ConfigError, reject_unknown_fields

logger = logging.getLogger(__name__)

TOP_FIELDS = {"job", "settings", "timezone"}
JOB_FIELDS = {"name", "spider", "every", "cron", "timezone", "args", "settings"}
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
SETTING_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
ARG_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
INTERVAL_RE = re.compile(r"(\d+(?:\.\d+)?)([smh])")
UNITS = {"s": 1, "m": 60, "h": 3600}
POLL = 0.5  # seconds; how soon a finished run is noticed (and logged)


@dataclass(frozen=True)
class Job:
    name: str
    spider: str
    every: float = 0.0  # seconds; 0 when the job runs on ``cron``
    cron: str = ""
    timezone: str = "UTC"
    args: dict[str, str] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def when(self) -> str:
        return f"every {format_interval(self.every)}" if self.every else f"cron {self.cron!r} ({self.timezone})"


# --- parsing ---------------------------------------------------------------------------------


def parse_interval(text: str) -> float:
    """``"30s"``, ``"15m"``, ``"2h"``, ``"1h30m"`` -> seconds; ValueError for anything else."""
    compact = "".join(str(text).split()).lower()
    if not compact or INTERVAL_RE.sub("", compact):
        raise ValueError(f"{text!r} is not an interval like 30s, 15m, 2h or 1h30m")
    seconds = sum(float(number) * UNITS[unit] for number, unit in INTERVAL_RE.findall(compact))
    if seconds <= 0:
        raise ValueError(f"{text!r}: an interval must be longer than 0")
    return seconds


def format_interval(seconds: float) -> str:
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def load_schedule(path: str | Path) -> list[Job]:
    """The jobs of a schedule file; any problem is a :class:`ConfigError` naming the job and field."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such schedule file (see settings/schedules.example.toml)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_schedule(data, str(path))


def parse_schedule(data: dict[str, Any], source: str = "schedule") -> list[Job]:
    reject_unknown_fields(data, TOP_FIELDS, source)
    zone = _zone(data.get("timezone", "UTC"), f"{source}: timezone")
    defaults = _settings(data.get("settings", {}), f"{source}: [settings]")
    tables = data.get("job")
    if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
        raise ConfigError(f"{source}: no jobs; add one or more [[job]] tables (name, spider, every or cron)")
    jobs: list[Job] = []
    for number, table in enumerate(tables, 1):
        job = parse_job(table, source, number, zone, defaults)
        if any(other.name == job.name for other in jobs):
            raise ConfigError(f"{source}: job {job.name!r}: name is used by another job")
        jobs.append(job)
    return jobs


def parse_job(table: dict[str, Any], source: str = "schedule", number: int = 1, zone: str = "UTC",
              defaults: dict[str, str] | None = None) -> Job:
    name = table.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ConfigError(f"{source}: job #{number}: name = {name!r}: expected letters, digits, '.', '_' or '-'")
    where = f"{source}: job {name!r}"
    reject_unknown_fields(table, JOB_FIELDS, where)
    spider = table.get("spider")
    if not isinstance(spider, str) or not spider.strip():
        raise ConfigError(f"{where}: spider: expected a spider name (`scrapy list` shows them)")
    if ("every" in table) == ("cron" in table):
        raise ConfigError(f"{where}: every / cron: give exactly one of them")
    every, cron = 0.0, ""
    if "every" in table:
        try:
            every = parse_interval(table["every"])
        except ValueError as exc:
            raise ConfigError(f"{where}: every: {exc}") from None
    else:
        cron = table["cron"]
        if not isinstance(cron, str) or not croniter.is_valid(cron):
            raise ConfigError(f"{where}: cron = {cron!r}: not a cron expression (e.g. '*/30 * * * *')")
    return Job(
        name=name,
        spider=spider.strip(),
        every=every,
        cron=cron,
        timezone=_zone(table.get("timezone", zone), f"{where}: timezone"),
        args=_arguments(table.get("args", {}), f"{where}: args"),
        settings={**(defaults or {}), **_settings(table.get("settings", {}), f"{where}: settings")},
    )


def _zone(value: Any, where: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, TypeError, ValueError):
        raise ConfigError(f"{where} = {value!r}: not a time zone name (e.g. 'UTC', 'Europe/Berlin')") from None
    return value


def _arguments(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a table, e.g. args = {{ url = \"https://…/sitemap.xml\" }}")
    for key, item in value.items():
        if not ARG_RE.match(key):
            raise ConfigError(f"{where}: {key!r} is not a spider argument name")
        if isinstance(item, (dict, list)):
            raise ConfigError(f"{where}: {key}: expected text or a number")
    return {key: _text(item) for key, item in value.items()}


def _settings(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a table of Scrapy settings, e.g. {{ STORE_URI = \"s3://…\" }}")
    result = {}
    for key, item in value.items():
        if not SETTING_RE.match(key):
            raise ConfigError(f"{where}: {key!r} is not a setting name (settings are UPPER_CASE)")
        if isinstance(item, dict):
            raise ConfigError(f"{where}: {key}: expected text, a number, true/false or a list")
        result[key] = ",".join(map(_text, item)) if isinstance(item, list) else _text(item)
    return result


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- timing ----------------------------------------------------------------------------------


def first_run(job: Job, now: datetime) -> datetime:
    """An interval job runs when the scheduler starts; a cron job at its next time."""
    return now if job.every else next_run(job, now)


def next_run(job: Job, after: datetime, due: datetime | None = None) -> datetime:
    """The first run time strictly after ``after``; interval jobs keep their phase from ``due``."""
    if job.every:
        due = due or after
        missed = max(0, int((after - due).total_seconds() // job.every))
        slot = due + timedelta(seconds=job.every * (missed + 1))
        while slot <= after:  # float rounding
            slot += timedelta(seconds=job.every)
        return slot
    local = after.astimezone(ZoneInfo(job.timezone))
    return croniter(job.cron, local).get_next(datetime).astimezone(UTC)


# --- running ---------------------------------------------------------------------------------


def crawl_command(job: Job, overrides: dict[str, str] | None = None, python: str = sys.executable) -> list[str]:
    """``scrapy crawl`` for one run of a job; the scheduler's own ``-s`` come last, so they win."""
    command = [python, "-m", "scrapy", "crawl", job.spider]
    for key, value in job.args.items():
        command += ["-a", f"{key}={value}"]
    for key, value in {**job.settings, **(overrides or {}), "JOB_NAME": job.name}.items():
        command += ["-s", f"{key}={value}"]
    return command


@dataclass
class Run:
    job: Job
    process: subprocess.Popen
    started: datetime
    number: int


class JobRunner:
    """Starts each job's runs on time, never two of one job at once; stops cleanly on request."""

    def __init__(self, jobs: list[Job], command: Callable[[Job], list[str]] = crawl_command,
                 cwd: str | Path | None = None, clock: Callable[[], datetime] | None = None):
        self.jobs = jobs
        self.command = command
        self.cwd = cwd
        self.clock = clock or (lambda: datetime.now(UTC))
        self.running: dict[str, Run] = {}
        self.runs: dict[str, int] = {job.name: 0 for job in jobs}
        self.skipped: dict[str, int] = {job.name: 0 for job in jobs}
        self.stopping = threading.Event()
        self.stop_signal = 0
        self.forced = False  # a second signal came while crawls were still going: they were cut short
        self.cut_short = False  # a crawl being stopped exited 1 (forced, by whoever signalled it twice)

    def run(self) -> None:
        """Run jobs until :meth:`stop`; then wait for the crawls still going."""
        now = self.clock()
        due = {job.name: first_run(job, now) for job in self.jobs}
        for job in self.jobs:
            logger.info(
                "job %s: %s, spider %s; first run %s", job.name, job.when, job.spider, _local(due[job.name], job)
            )
        while not self.stopping.is_set():
            self.reap()
            now = self.clock()
            for job in self.jobs:
                if due[job.name] <= now and not self.stopping.is_set():
                    self.start(job, due[job.name])
                    due[job.name] = next_run(job, now, due[job.name])
            wait = min(due.values()) - self.clock()
            self.stopping.wait(max(0.0, min(wait.total_seconds(), POLL)))
        self.wait_for_runs()

    def start(self, job: Job, due: datetime) -> None:
        current = self.running.get(job.name)
        if current and current.process.poll() is None:
            self.skipped[job.name] += 1
            logger.warning(
                "job %s: run due at %s skipped: run %d (pid %d, started %s) is still going",
                job.name,
                _local(due, job),
                current.number,
                current.process.pid,
                _local(current.started, job),
            )
            return
        self.runs[job.name] += 1
        try:
            # a session of its own: a Ctrl-C in the terminal reaches the scheduler only, which passes on one signal
            process = subprocess.Popen(self.command(job), cwd=self.cwd, start_new_session=True)
        except OSError as exc:  # e.g. out of processes: this run is lost, the schedule goes on
            logger.error("job %s: run %d could not start: %s", job.name, self.runs[job.name], exc)
            return
        self.running[job.name] = Run(job, process, self.clock(), self.runs[job.name])
        logger.info("job %s: run %d started (pid %d)", job.name, self.runs[job.name], process.pid)
        if self.stop_signal:  # the stop came while this run was being started
            process.send_signal(self.stop_signal)

    def reap(self) -> None:
        for name, run in list(self.running.items()):
            code = run.process.poll()
            if code is None:
                continue
            del self.running[name]
            seconds = (self.clock() - run.started).total_seconds()
            if code == 0:
                logger.info("job %s: run %d finished in %.1f s", name, run.number, seconds)
            elif self.stop_signal and code == 1:  # what a crawl forced to stop exits with (docs/commands.md)
                # by our second signal, or by one it got besides ours: a service manager's stop signals every
                # process of the unit (systemd's KillMode=control-group), and we pass the signal on once more
                self.cut_short = True
                logger.error("job %s: run %d failed: forced to stop after %.1f s (exit code 1)", name, run.number,
                             seconds)
            elif self.stop_signal and code == -self.stop_signal:  # signalled before its crawl had begun
                logger.info("job %s: run %d stopped while starting, after %.1f s", name, run.number, seconds)
            else:
                logger.error("job %s: run %d failed (exit code %d) after %.1f s", name, run.number, code, seconds)

    def stop(self, signum: int = signal.SIGTERM) -> None:
        """Start no new run; pass the signal on to running crawls (a second one makes them hurry, as in Scrapy)."""
        if self.stopping.is_set() and any(run.process.poll() is None for run in list(self.running.values())):
            self.forced = True  # a second signal, with crawls still going (called from a handler: no logging)
        self.stop_signal = signum
        self.stopping.set()
        for run in list(self.running.values()):
            if run.process.poll() is None:
                run.process.send_signal(signum)

    def wait_for_runs(self) -> None:
        if self.running:
            logger.info("stopping: waiting for %d running crawl(s) to finish their writes", len(self.running))
        while self.running:
            self.reap()
            time.sleep(0.1)
        logger.info("scheduler stopped" + (" (forced)" if self.forced else ""))

    def install_signal_handlers(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda number, frame: self.stop(number))


def _local(moment: datetime, job: Job) -> str:
    return moment.astimezone(ZoneInfo(job.timezone)).strftime("%Y-%m-%d %H:%M:%S %Z")
