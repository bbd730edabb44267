"""crawler.schedules: schedule files, intervals, cron times, and the run loop (with small stand-in commands)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
import time
import tomllib
from datetime import UTC, datetime

import pytest

from crawler.errors import ConfigError
from crawler.schedules import (
    Job,
    JobRunner,
    crawl_command,
    first_run,
    load_schedule,
    next_run,
    parse_interval,
    parse_schedule,
)
from tests.helpers import ROOT

UTC = UTC


@pytest.mark.parametrize("text, seconds", [
    ("30s", 30), ("15m", 900), ("2h", 7200), ("1h30m", 5400), (" 90 S ", 90), ("0.5h", 1800), ("3s", 3),
])
def test_interval(text, seconds):
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["15x", "", "m", "0s", "-5m", "15", "15 minutes", "1d", "h2"])
def test_bad_interval(text):
    with pytest.raises(ValueError):
        parse_interval(text)


def test_interval_job_runs_at_start_then_keeps_its_phase():
    job = Job(name="j", spider="s", every=900)
    start = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert first_run(job, start) == start
    # a run that ended late (or was skipped) does not shift the schedule: the next slot of the grid comes
    assert next_run(job, datetime(2025, 1, 1, 12, 31, 5, tzinfo=UTC), start) == datetime(2025, 1, 1, 12, 45, tzinfo=UTC)
    assert next_run(job, start, start) == datetime(2025, 1, 1, 12, 15, tzinfo=UTC)


def test_cron_in_a_time_zone_across_daylight_saving():
    job = Job(name="j", spider="s", cron="0 9 * * *", timezone="Europe/Berlin")
    # 09:00 in Berlin is 08:00 UTC in winter and 07:00 UTC in summer
    assert next_run(job, datetime(2025, 1, 10, 10, 0, tzinfo=UTC)) == datetime(2025, 1, 11, 8, 0, tzinfo=UTC)
    assert next_run(job, datetime(2025, 3, 29, 10, 0, tzinfo=UTC)) == datetime(2025, 3, 30, 7, 0, tzinfo=UTC)
    every_half_hour = Job(name="k", spider="s", cron="*/30 * * * *")
    assert first_run(every_half_hour, datetime(2025, 1, 1, 12, 10, tzinfo=UTC)) == datetime(
        2025, 1, 1, 12, 30, tzinfo=UTC
    )


def test_schedule_file(tmp_path):
    path = tmp_path / "schedules.toml"
    path.write_text(textwrap.dedent("""
        timezone = "America/New_York"
        [settings]
        STORE_URI = "s3://bucket/news"
        CONCURRENT_REQUESTS = 8

        [[job]]
        name = "nypost"
        spider = "nypost"
        every = "15m"
        settings = { STORE_URI = "/data/news", ROBOTSTXT_OBEY = true }

        [[job]]
        name = "wire"
        spider = "feed"
        cron = "*/30 * * * *"
        timezone = "UTC"
        args = { url = "https://example.com/rss.xml", limit = 50 }
        """))
    nypost, wire = load_schedule(path)
    assert (nypost.name, nypost.spider, nypost.every, nypost.cron, nypost.timezone) == (
        "nypost",
        "nypost",
        900,
        "",
        "America/New_York",
    )
    assert nypost.settings == {"STORE_URI": "/data/news", "CONCURRENT_REQUESTS": "8", "ROBOTSTXT_OBEY": "true"}
    assert (wire.every, wire.cron, wire.timezone) == (0, "*/30 * * * *", "UTC")
    assert wire.args == {"url": "https://example.com/rss.xml", "limit": "50"}
    assert wire.settings == {"STORE_URI": "s3://bucket/news", "CONCURRENT_REQUESTS": "8"}


def test_example_schedule_file_is_valid():
    jobs = load_schedule(ROOT / "settings" / "schedules.example.toml")
    assert jobs and all(job.every or job.cron for job in jobs)


BASE = 'name = "nypost"\nspider = "nypost"\n'


@pytest.mark.parametrize(
    "job, message",
    [
        (BASE + 'every = "15x"', "job 'nypost': every: '15x' is not an interval"),
        (BASE, "job 'nypost': every / cron: give exactly one"),
        (BASE + 'every = "15m"\ncron = "* * * * *"', "job 'nypost': every / cron: give exactly one"),
        (BASE + 'cron = "61 * * * *"', "job 'nypost': cron = '61 * * * *': not a cron expression"),
        (BASE + 'cron = "0 9 * * *"\ntimezone = "Mars/Olympus"', "job 'nypost': timezone = 'Mars/Olympus'"),
        (BASE + 'every = "1h"\nevry = "2h"', "job 'nypost': unknown field(s) evry"),
        (BASE + 'every = "1h"\nargs = "url=x"', "job 'nypost': args: expected a table"),
        (
            BASE + 'every = "1h"\nsettings = { store_uri = "x" }',
            "job 'nypost': settings: 'store_uri' is not a setting name",
        ),
        ('spider = "nypost"\nevery = "1h"', "job #1: name = None"),
        ('name = "a b"\nspider = "x"\nevery = "1h"', "job #1: name = 'a b'"),
        ('name = "nypost"\nevery = "1h"', "job 'nypost': spider: expected a spider name"),
    ],
)
def test_bad_job_names_the_job_and_field(job, message):
    with pytest.raises(ConfigError) as error:
        parse_schedule(tomllib.loads(f"[[job]]\n{job}\n"), "schedules.toml")
    assert str(error.value).startswith("schedules.toml: ")
    assert message in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("text, message", [
    ("", "no jobs"),
    ('[[job]]\nname = "a"\nspider = "s"\nevery = "1h"\n[[job]]\nname = "a"\nspider = "t"\nevery = "2h"\n',
     "job 'a': name is used by another job"),
    ('jobs = 1\n', "unknown field(s) jobs"),
])
def test_bad_schedule(text, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_schedule(tomllib.loads(text), "schedules.toml")


def test_crawl_command_carries_job_name_arguments_and_settings():
    job = Job(name="wire", spider="feed", every=60, args={"url": "https://e.com/rss.xml"},
              settings={"STORE_URI": "/data", "LOG_LEVEL": "INFO"})
    command = crawl_command(job, overrides={"LOG_LEVEL": "DEBUG"}, python="python")
    assert command[:5] == ["python", "-m", "scrapy", "crawl", "feed"]
    pairs = list(zip(command[5::2], command[6::2]))
    assert ("-a", "url=https://e.com/rss.xml") in pairs
    assert ("-s", "JOB_NAME=wire") in pairs
    settings = [value for flag, value in pairs if flag == "-s"]
    # the scheduler's own -s win over the file's
    assert "LOG_LEVEL=DEBUG" in settings and "LOG_LEVEL=INFO" not in settings
    assert "STORE_URI=/data" in settings


# --- the run loop, with stand-in commands that log their start and end ---------------------

STAND_IN = """
import signal, sys, time
log, seconds = sys.argv[1], float(sys.argv[2])
def note(word):
    with open(log, "a") as handle:
        handle.write(f"{word}\\n")
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
note("start")
end = time.monotonic() + seconds
while time.monotonic() < end and not stop:
    time.sleep(0.05)
if stop:
    time.sleep(0.3)  # "finishing its writes"
    note("stopped")
else:
    note("end")
"""


def run_in_thread(runner: JobRunner) -> threading.Thread:
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    return thread


def wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_job_never_overlaps_itself(tmp_path, caplog):
    log = tmp_path / "runs.log"
    job = Job(name="slow", spider="x", every=0.2)  # due five times during each run of one second
    runner = JobRunner([job], command=lambda job: [sys.executable, "-c", STAND_IN, str(log), "1.0"])
    with caplog.at_level("INFO", logger="crawler.schedules"):
        thread = run_in_thread(runner)
        wait_for(lambda: log.exists() and log.read_text().count("end") >= 2)
        runner.stop(signal.SIGTERM)
        thread.join(30)
    assert not thread.is_alive()
    events = log.read_text().split()
    assert events[0::2] == ["start"] * len(events[0::2])  # start, end, start, end, ...: never two at once
    assert all(word in ("end", "stopped") for word in events[1::2]) and len(events) % 2 == 0
    assert runner.skipped["slow"] >= 1
    assert "skipped: run 1 (pid" in caplog.text


def test_stop_lets_running_crawls_finish(tmp_path):
    log = tmp_path / "runs.log"
    jobs = [Job(name="a", spider="x", every=3600), Job(name="b", spider="x", every=3600)]
    runner = JobRunner(jobs, command=lambda job: [sys.executable, "-c", STAND_IN, str(log), "60"])
    thread = run_in_thread(runner)
    wait_for(lambda: log.exists() and log.read_text().count("start") == 2)
    runner.stop(signal.SIGTERM)
    thread.join(30)
    assert not thread.is_alive()
    # both runs got the signal once, finished their writes, and the scheduler waited for them
    assert sorted(log.read_text().split()) == ["start", "start", "stopped", "stopped"]
    assert runner.running == {}


def test_scrapy_schedule_check_and_bad_config(tmp_path):
    good = subprocess.run([sys.executable, "-m", "scrapy", "schedule", "--check", "--config",
                           str(ROOT / "settings" / "schedules.example.toml")], cwd=ROOT, capture_output=True, text=True)
    assert good.returncode == 0, good.stderr
    assert "every" in good.stdout and "first run" in good.stdout
    bad = tmp_path / "schedules.toml"
    bad.write_text('[[job]]\nname = "wire"\nspider = "feeed"\nevery = "1h"\n')
    result = subprocess.run([sys.executable, "-m", "scrapy", "schedule", "--config", str(bad)],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: {bad}: job 'wire': unknown spider 'feeed'")
    bad.write_text('[[job]]\nname = "wire"\nspider = "feed"\nevery = "1h"\nsettings = { REVISIT_AFTER = "soon" }\n')
    result = subprocess.run([sys.executable, "-m", "scrapy", "schedule", "--config", str(bad)],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {bad}: job 'wire': ")
    assert "REVISIT_AFTER" in result.stderr and result.stderr.count("\n") == 1
