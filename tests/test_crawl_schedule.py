"""``scrapy schedule``: a job every 3 s, run as users run it, against a small site on 127.0.0.1.

Done when (issue 5): the job runs at least three times in 25 s without
overlap; the first run stores every article, later runs fetch no known
article page again; the records under runs/ show it. SIGTERM stops the
scheduler, and the crawl it interrupts still closes its record.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.helpers import ROOT, read_documents, scrapy_command
from tests.servers.base import ServerProcess
from tests.servers.static_site import write_article, write_sitemap

ARTICLES = 6
WINDOW = 25.0  # seconds, from the first run's start: the "three times in 25 s"


def run_records(store: Path) -> list[dict]:
    records = []
    for path in (store / "runs").glob("*.json"):
        try:
            records.append(json.loads(path.read_text()))
        except ValueError:  # being replaced right now (writes are atomic, but a glob can race a rename)
            continue
    return sorted(records, key=lambda r: r["started"])


def moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_job_every_3s_runs_three_times_and_refetches_nothing_it_knows(tmp_path):
    root, store, state = tmp_path / "site", tmp_path / "store", tmp_path / "state"
    paths = [write_article(root, n) for n in range(ARTICLES)]
    write_sitemap(root, paths)
    requests = tmp_path / "requests.log"
    with ServerProcess("tests.servers.static_site", str(root), "--log", str(requests)) as site:
        config = tmp_path / "schedules.toml"
        config.write_text(f'[[job]]\nname = "gazette"\nspider = "sitemap"\nevery = "3s"\n'
                          f'args = {{ url = "{site.url("/sitemap.xml")}" }}\n')
        command = scrapy_command("schedule", "--config", str(config), store=store, state=state,
                                 settings={"EXTRACT_WORKERS": "0", "PROGRESS_SUMMARY": "false"})
        log = tmp_path / "schedule.log"
        with open(log, "w") as output:
            scheduler = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + WINDOW + 30  # start-up of the scheduler itself comes on top
                while sum(r["finish_reason"] == "finished" for r in run_records(store)) < 3:
                    assert scheduler.poll() is None, log.read_text()[-3000:]
                    assert time.monotonic() < deadline, f"fewer than 3 runs:\n{log.read_text()[-3000:]}"
                    time.sleep(0.2)
                scheduler.send_signal(signal.SIGTERM)
                assert scheduler.wait(timeout=60) == 0, log.read_text()[-3000:]
            finally:
                if scheduler.poll() is None:
                    scheduler.kill()
                    scheduler.wait()
    text = log.read_text()
    records = run_records(store)
    finished = [r for r in records if r["finish_reason"] == "finished"]

    # three runs within 25 s of the first one's start
    assert (moment(finished[2]["finished"]) - moment(finished[0]["started"])).total_seconds() <= WINDOW
    # never two runs at once: each start is logged only after the previous run ended
    events = re.findall(r"job gazette: run (\d+) (started|finished|failed|stopped)", text)
    assert events and events[0] == ("1", "started")
    for (number, what), (next_number, next_what) in itertools.pairwise(events):
        if what == "started":
            assert (next_number, next_what != "started") == (number, True), events
    # every run closed its record, the one SIGTERM interrupted too
    assert {r["finish_reason"] for r in records} <= {"finished", "shutdown"}, records
    assert all(r["job"] == "gazette" and r["spider"] == "sitemap" for r in records)

    first, later = records[0], records[1:]
    assert first["articles_stored"] == ARTICLES
    assert len(read_documents(store)) == ARTICLES
    for record in later:
        assert record["articles_stored"] == 0
        if record["finish_reason"] == "finished":
            assert record["skipped"] == {"recently_fetched": ARTICLES}
            assert record["pages_fetched"] == 2  # robots.txt and the sitemap
    # the site saw each article page requested once, across all runs
    fetched = requests.read_text().split()
    assert sorted(p for p in fetched if p.startswith("/news/")) == sorted(f"/{p}" for p in paths)
    assert fetched.count("/sitemap.xml") >= 3
    assert "scheduler stopped" in text


def wait_for_text(path: Path, text: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while text not in (path.read_text() if path.exists() else ""):
        assert process.poll() is None, f"ended before {text!r}:\n{path.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"no {text!r} in time:\n{path.read_text()[-3000:]}"
        time.sleep(0.02)


def stop_a_scheduled_crawl(tmp_path: Path, stop) -> tuple[int, Path, Path]:
    """Start a schedule whose crawl waits for its article pages; once the crawl's engine runs, ``stop(scheduler,
    log)`` signals; return the scheduler's exit code, its log and the store."""
    root, store = tmp_path / "site", tmp_path / "store"
    write_sitemap(root, [write_article(root, n) for n in range(ARTICLES)])
    requests = tmp_path / "requests.log"
    # article pages answer after a minute: the crawl is still waiting for them when it is signalled twice
    with ServerProcess("tests.servers.static_site", str(root), "--delay", "60", "--log", str(requests)) as site:
        config = tmp_path / "schedules.toml"
        config.write_text(f'[[job]]\nname = "gazette"\nspider = "sitemap"\nevery = "1h"\n'
                          f'args = {{ url = "{site.url("/sitemap.xml")}" }}\n')
        command = scrapy_command("schedule", "--config", str(config), store=store, state=tmp_path / "state",
                                 settings={"EXTRACT_WORKERS": "0"})
        log = tmp_path / "schedule.log"
        with open(log, "w") as output:
            scheduler = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
            try:
                wait_for_text(requests, "/news/", scheduler)  # the crawl's engine runs: an article is asked for
                stop(scheduler, log)
                returncode = scheduler.wait(timeout=60)
            finally:
                if scheduler.poll() is None:
                    scheduler.kill()
                    scheduler.wait()
    return returncode, log, store


def signalled_twice(scheduler: subprocess.Popen, log: Path) -> None:
    scheduler.send_signal(signal.SIGTERM)
    wait_for_text(log, "shutting down gracefully", scheduler)  # the crawl took the first signal
    scheduler.send_signal(signal.SIGTERM)


def stopped_as_a_service(scheduler: subprocess.Popen, log: Path) -> None:
    """A service manager's stop (systemd's KillMode=control-group) signals every process of the unit: the crawl gets
    SIGTERM from it and again from the scheduler, which passes its one signal on."""
    crawl = int(re.search(r"job gazette: run 1 started \(pid (\d+)\)", log.read_text())[1])
    os.kill(crawl, signal.SIGTERM)  # the unit's stop reaches the crawl ...
    wait_for_text(log, "shutting down gracefully", scheduler)  # (held apart, so that the two never coalesce)
    scheduler.send_signal(signal.SIGTERM)  # ... and the scheduler, which passes it on: the crawl's second


@pytest.mark.parametrize(
    ("stop", "last_line", "said"),
    [
        (signalled_twice, "error: the schedule was forced to stop (signalled twice)", "scheduler stopped (forced)"),
        # the scheduler, signalled once, exited 0 while its crawl was forced
        (stopped_as_a_service, "error: a crawl the schedule was stopping was forced to stop",
         "forcing unclean shutdown"),
    ],
    ids=["second-signal", "service-stop"],
)
def test_a_crawl_forced_to_stop_fails_the_schedule(tmp_path, stop, last_line, said):
    """Contract (docs/commands.md): a forced stop exits 1, for the scheduler as for the crawl it was running."""
    returncode, log, store = stop_a_scheduled_crawl(tmp_path, stop)
    text = log.read_text()
    assert returncode == 1, text[-3000:]
    assert text.strip().splitlines()[-1].startswith(last_line)
    assert "job gazette: run 1 failed: forced to stop" in text and said in text
    (record,) = run_records(store)
    assert record["job"] == "gazette" and record["finish_reason"] == "running"  # the crawl never closed its record
