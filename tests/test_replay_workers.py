"""Many ``scrapy replay`` workers, one archive (crawler.archive.work, crawler.frontier.units), and selective replay.

The archive is a real crawl of the sample site in two sites (``site_127_0_0_1`` for 60 articles, ``sample``
for 30), split over many small WARC files; workers are ``scrapy replay`` processes sharing a real redis-server.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from crawler.commands.replay import status_text
from crawler.frontier.units import ReplayKeys, SharedReplay, replay_status
from pipelines.archive.reader import iter_exchanges
from pipelines.archive.select import Unit
from tests.helpers import ROOT, SAMPLE_SITES, corpus_truth, read_documents, scrapy, scrapy_command
from tests.servers.redis import RedisServer
from tests.servers.s3 import aws_env
from tests.test_warc_replay import same_tree

ARCHIVE = {"ARCHIVE_MAX_SIZE": "150000", "ARCHIVE_CDXJ": "true"}  # many small WARC files, each with its index
WORKER = {"EXTRACT_WORKERS": "1", "PROGRESS_INTERVAL": "1"}
TIMEOUT = 240  # seconds for a worker to finish on a loaded machine: a bound against hanging, not a measure


@pytest.fixture(scope="module")
def redis_server():
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="module")
def archive(site, tmp_path_factory) -> Path:
    """A store with two crawls' archive: the host's site (60 articles) and the sample site's file (30)."""
    root = tmp_path_factory.mktemp("replay-workers")
    store = root / "archive"
    urls = [site.url("/" + url.split("://", 1)[1]) for url in sorted(corpus_truth())]
    (root / "host.txt").write_text("\n".join(urls[:60]) + "\n")
    (root / "sample.txt").write_text("\n".join(urls[60:]) + "\n")
    for crawl in (scrapy("crawl", "urls", "-a", f"file={root / 'host.txt'}", store=store, settings=ARCHIVE),
                  scrapy("crawl", "urls", "-a", f"file={root / 'sample.txt'}", "-a", "site=sample", store=store,
                         settings={**ARCHIVE, "SITES_DIRS": str(SAMPLE_SITES)})):
        assert crawl.returncode == 0, crawl.stderr[-3000:]
    assert sorted(p.name for p in (store / "warc").iterdir()) == ["sample", "site_127_0_0_1"]
    assert len(list((store / "warc").rglob("*.warc.gz"))) >= 8
    return store


@pytest.fixture(scope="module")
def reference(archive, tmp_path_factory) -> Path:
    """The documents of a single-process replay of the archive."""
    store = tmp_path_factory.mktemp("reference") / "store"
    replay = scrapy("replay", str(archive / "warc"), store=store)
    assert replay.returncode == 0, replay.stderr[-3000:]
    assert len(read_documents(store)) == 90
    return store


def responses(files: list[Path]) -> list[str]:
    urls = []
    for path in files:
        with open(path, "rb") as stream:
            urls += [response.url for response in iter_exchanges(stream)]
    return urls


def start_worker(archive: Path, store: Path, state: Path, redis_url: str, crawl: str, *args: str,
                 **settings: str) -> subprocess.Popen:
    command = scrapy_command("replay", str(archive / "warc"), *args, store=store, state=state,
                             settings={**WORKER, "FRONTIER_URL": redis_url, "CRAWL_ID": crawl, **settings})
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=TIMEOUT)
    return process.returncode, stdout, stderr


def run_records(store: Path) -> dict[str, dict]:
    return {path.stem: json.loads(path.read_text()) for path in sorted((store / "runs").glob("*.json"))}


def manifest_urls(store: Path) -> Counter[str]:
    return Counter(json.loads(line)["url"] for path in (store / "manifest").glob("*.jsonl")
                   for line in path.read_text().splitlines())


def wait_for(condition, what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


# --- the "done when": two workers, one archive -------------------------------------------------------


def test_two_workers_share_one_replay(archive, reference, redis_server, tmp_path):
    store, crawl = tmp_path / "store", "two"
    client, keys = redis_server.client(), ReplayKeys.of(crawl)
    # Hold the plan as a planner that is alive until both workers are up, so that they start alike whatever
    # the machine's load: then it stops beating, and one of them plans the replay again (as after a crash).
    client.set(keys.plan, "planning gate")
    client.hset(keys.workers, "gate", f"{int(client.time()[0])} busy")
    workers = [start_worker(archive, store, tmp_path / f"state{n}", redis_server.url, crawl) for n in (1, 2)]
    wait_for(lambda: client.hlen(keys.workers) == 3 or any(w.poll() is not None for w in workers), "both workers")
    client.hset(keys.workers, "gate", f"{int(client.time()[0]) - 3600} busy")
    results = [finish(worker) for worker in workers]
    for returncode, _, stderr in results:
        assert returncode == 0, stderr[-3000:]  # both stopped on their own once every unit was done
    assert any("the planner (gate) stopped beating" in stderr for _, _, stderr in results)

    records = run_records(store)
    assert len(records) == 2 and {r["finish_reason"] for r in records.values()} == {"finished"}
    ids = {r["worker"] for r in records.values()}
    assert set(records) == {f"{crawl}.{w}" for w in ids} == {r["run_id"] for r in records.values()}
    assert {p.name for p in (store / "manifest").glob("*.jsonl")} == {f"{crawl}.{w}.jsonl" for w in ids}

    archived = responses(sorted((archive / "warc").rglob("*.warc.gz")))
    assert sum(r["replay"]["records"] for r in records.values()) == len(archived)  # each record read once in all
    assert sum(r["replay"]["bytes_read"] for r in records.values()) == sum(
        p.stat().st_size for p in (archive / "warc").rglob("*.warc.gz"))
    pages = [r["pages_fetched"] for r in records.values()]
    assert sum(pages) == run_records_total(reference, "pages_fetched")
    assert min(pages) >= sum(pages) / 5, f"unfair shares: {pages}"
    assert sum(r["replay"]["units"] for r in records.values()) == len(list((archive / "warc").rglob("*.warc.gz")))

    assert same_tree(reference / "articles", store / "articles")  # byte for byte the single process's documents
    assert set(manifest_urls(store).values()) == {1} and len(manifest_urls(store)) == 90
    # the replay is marked finished; its work keys are gone
    assert sorted(k.decode() for k in client.keys(f"newsarchive:replay:{crawl}:*")) == [keys.finished, keys.summary]
    late = scrapy("replay", str(archive / "warc"), store=store,
                  settings={"FRONTIER_URL": redis_server.url, "CRAWL_ID": crawl})
    assert late.returncode == 2 and "finished at" in late.stderr and len(late.stderr.strip().splitlines()) == 1


def run_records_total(store: Path, name: str) -> int:
    return sum(record[name] for record in run_records(store).values())


def test_a_killed_workers_unit_is_done_by_another_after_its_lease(archive, reference, redis_server, tmp_path):
    store, crawl = tmp_path / "store", "killed"
    client, keys = redis_server.client(), ReplayKeys.of(crawl)
    lease = {"REPLAY_LEASE": "4"}
    first, second = (start_worker(archive, store, tmp_path / name, redis_server.url, crawl, WORKER_ID=name, **lease)
                     for name in ("a", "b"))
    wait_for(lambda: b"a" in client.hvals(keys.done) or first.poll() is not None, "a unit done by worker a")
    first.send_signal(signal.SIGKILL)
    first.wait()
    done_by_a, units = list(client.hvals(keys.done)).count(b"a"), client.hlen(keys.units)
    assert b"a" in client.hvals(keys.holders), "worker a should be killed holding a unit"

    status = replay_status(client, crawl)  # what `scrapy replay --status` shows, read at once
    assert status["state"] == "running" and status["units"] == units and status["leased"] >= 1
    assert status["workers"]["a"]["holds"] and status["workers"]["a"]["progress"].startswith("pages ")
    text = status_text(status)
    assert re.search(rf"^units: \d+ done, \d+ left, [1-9]\d* leased, of {units} ", text, re.MULTILINE)
    assert re.search(r"^  a: \w+ \(last beat \d+ s ago; holds [12] unit\(s\)\) pages \d+", text, re.MULTILINE)

    returncode, _, stderr = finish(second)
    assert returncode == 0, stderr[-3000:]  # b did its units, then a's once its lease ran out
    assert "which worker a held and did not finish" in stderr
    records = run_records(store)
    assert records[f"{crawl}.a"]["finish_reason"] == "running"  # killed: its record says so
    assert records[f"{crawl}.b"]["finish_reason"] == "finished"
    assert records[f"{crawl}.b"]["replay"]["units"] == units - done_by_a  # a's unfinished unit(s) included
    total, reclaimed = map(int, client.get(keys.summary).split())
    assert total == units and reclaimed >= 1  # handed on after its lease ran out
    assert same_tree(reference / "articles", store / "articles")
    assert set(manifest_urls(store).values()) == {1} and len(manifest_urls(store)) == 90  # none stored twice

    finished = scrapy("replay", "--status", crawl, store=store, settings={"FRONTIER_URL": redis_server.url})
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.startswith(f"replay {crawl}: finished at ")
    assert f"units: {units} done, 0 left, 0 leased, of {units} ({reclaimed} handed on" in finished.stdout


def test_redis_lost_under_a_replay_worker_stops_it_cleanly(archive, tmp_path):
    store, crawl = tmp_path / "store", "lost"
    with RedisServer() as server:
        client, keys = server.client(), ReplayKeys.of(crawl)
        worker = start_worker(archive, store, tmp_path / "state", server.url, crawl)
        wait_for(lambda: client.hlen(keys.done) >= 1 or worker.poll() is not None, "a first unit done")
        server.stop()
        returncode, _, stderr = finish(worker)
    assert returncode == 1
    errors = [line for line in stderr.splitlines() if " ERROR: " in line]
    assert len(errors) == 1 and f"Redis at {server.url} failed" in errors[0], errors
    assert f"CRAWL_ID={crawl} once Redis is back to continue the replay" in errors[0] and "Traceback" not in stderr
    (record,) = run_records(store).values()
    assert record["finish_reason"] == "frontier_lost" and record["errors"] == {"frontier_lost": 1}
    lines = [
        json.loads(line) for path in (store / "manifest").glob("*.jsonl") for line in path.read_text().splitlines()
    ]
    assert 0 < len(lines) == record["articles_stored"] < 90  # what it stored is whole
    assert all((store / line["key"]).is_file() for line in lines)


# --- selective replay ----------------------------------------------------------------------------------


def test_a_site_replays_only_that_sites_records(archive, reference, tmp_path):
    replay = scrapy("replay", str(archive / "warc"), "--site", "sample", store=tmp_path / "store",
                    settings={"EXTRACT_WORKERS": "1"})
    assert replay.returncode == 0, replay.stderr[-3000:]
    (record,) = run_records(tmp_path / "store").values()
    files = sorted((archive / "warc" / "sample").glob("*.warc.gz"))
    assert record["replay"]["records"] == len(responses(files)) < len(responses(list((archive / "warc").rglob("*.gz"))))
    assert record["replay"]["bytes_read"] == sum(p.stat().st_size for p in files)
    assert record["arguments"]["selection"] == "site sample"
    assert len(read_documents(tmp_path / "store")) == 30
    assert same_tree(reference / "articles" / "sample", tmp_path / "store" / "articles" / "sample")
    assert not (tmp_path / "store" / "articles" / "site_127_0_0_1").exists()


def test_a_url_pattern_reads_only_the_matching_records(archive, reference, tmp_path):
    everything = responses(sorted((archive / "warc").rglob("*.warc.gz")))
    wanted = [url for url in everything if re.search(r"/www\.(cbsnews|nytimes)\.com/", url)]
    assert 2 <= len(wanted) <= 10
    replay = scrapy("replay", str(archive / "warc"), "--url", r"/www\.(cbsnews|nytimes)\.com/",
                    store=tmp_path / "store", settings={"EXTRACT_WORKERS": "1"})
    assert replay.returncode == 0, replay.stderr[-3000:]
    (record,) = run_records(tmp_path / "store").values()
    assert record["replay"]["records"] == len(wanted)  # the others are not read at all
    total = sum(p.stat().st_size for p in (archive / "warc").rglob("*.warc.gz"))
    assert record["replay"]["bytes_read"] < total / 10
    assert record["replay"]["index_bytes"] == sum(p.stat().st_size for p in (archive / "warc").rglob("*.cdxj"))
    reference_documents = read_documents(reference)
    assert read_documents(tmp_path / "store") == {url: reference_documents[url] for url in
                                                  read_documents(tmp_path / "store")}
    assert len(read_documents(tmp_path / "store")) == len(wanted)


def test_a_selection_from_s3_reads_ranges_of_the_objects(archive, reference, moto_s3, tmp_path):
    bucket = moto_s3.create_bucket()
    client = moto_s3.client()
    for path in sorted((archive / "warc").rglob("*")):
        if path.is_file():
            client.upload_file(str(path), bucket, f"news/{path.relative_to(archive).as_posix()}")
    pattern = r"/www\.(cbsnews|nytimes)\.com/"
    replay = scrapy("replay", f"s3://{bucket}/news/warc", "--url", pattern, store=tmp_path / "store",
                    env=aws_env(moto_s3.endpoint), settings={"EXTRACT_WORKERS": "1"})
    assert replay.returncode == 0, replay.stderr[-3000:]
    (record,) = run_records(tmp_path / "store").values()
    wanted = [url for url in responses(sorted((archive / "warc").rglob("*.warc.gz"))) if re.search(pattern, url)]
    assert record["replay"]["records"] == len(wanted)
    assert record["replay"]["bytes_read"] < sum(p.stat().st_size for p in (archive / "warc").rglob("*.warc.gz")) / 10
    documents = read_documents(tmp_path / "store")
    assert len(documents) == len(wanted) and documents == {url: read_documents(reference)[url] for url in documents}


# --- --diff at scale -------------------------------------------------------------------------------------


def test_the_diff_of_a_shared_replay_is_the_sum_of_its_workers(archive, reference, redis_server, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(reference, store)  # as if crawled with the rules of today, judged against no cleaning at all
    settings = {"CLEAN_ENABLED": "false"}
    single = scrapy("replay", "--diff", str(archive / "warc"), store=store, settings={**settings, **WORKER})
    assert single.returncode == 0, single.stderr[-3000:]
    workers = [start_worker(archive, store, tmp_path / f"state{n}", redis_server.url, "diff", "--diff", **settings)
               for n in (1, 2)]
    results = [finish(worker) for worker in workers]
    assert all(code == 0 for code, _, _ in results), [stderr[-2000:] for _, _, stderr in results]

    whole = json.loads((store / "diffs" / "diff.json").read_text())
    totals_line = single.stdout.strip().splitlines()[-1]
    expected = dict(pair.split("=") for pair in totals_line.removeprefix("replay --diff totals: ").split(", "))
    assert {key: str(value) for key, value in whole["totals"].items()} == expected
    assert whole["totals"]["changed"] > 0 and sum(whole["totals"].get(k, 0) for k in ("changed", "unchanged")) == 90
    assert {site: sum(counts.values()) for site, counts in whole["sites"].items()} == {"sample": 30,
                                                                                      "site_127_0_0_1": 60}
    for site, counts in whole["sites"].items():
        line = next(line for line in single.stdout.splitlines() if line.startswith(f"replay --diff site {site}:"))
        assert line.endswith(", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    assert len(whole["changes"]) == min(50, whole["totals"]["changed"])
    # each worker printed its part; the one that finished the replay printed the whole too
    parts = [Counter() for _ in results]
    for part, (_, stdout, _) in zip(parts, results):
        own = stdout.split("whole replay")[0].strip().splitlines()
        totals = next(line for line in own if line.startswith("replay --diff totals:"))
        part.update({k: int(v) for k, v in (p.split("=") for p in totals.split(": ", 1)[1].split(", "))})
    assert sum(parts, Counter()) == Counter(whole["totals"])
    assert sum("whole replay diff (every worker)" in stdout for _, stdout, _ in results) == 1
    assert same_tree(reference / "articles", store / "articles")  # --diff wrote no document


# --- the shared state, one atomic step at a time ---------------------------------------------------------


def shared(redis_server, crawl: str, worker: str, lease: float = 60) -> SharedReplay:
    return SharedReplay(redis_server.client(), ReplayKeys.of(crawl), worker, 3600, lease)


def units(count: int) -> list[tuple[str, str]]:
    return [(unit.id, unit.as_json()) for unit in (Unit(f"f{n}.warc.gz") for n in range(count))]


def test_units_are_taken_once_and_a_lapsed_lease_goes_to_another_worker(redis_server):
    client, keys = redis_server.client(), ReplayKeys.of("lease")
    a, b, c = (shared(redis_server, "lease", w) for w in "abc")
    assert a.join() == ("plan", "")
    assert b.join() == ("wait", "planning a")  # a plans, alive: b waits
    assert a.add(units(3)) and a.planned()
    assert b.join() == ("join", "done")
    taken = [a.take(), b.take(), c.take()]
    assert sorted(unit_id for unit_id, _, _ in taken) == ["f0.warc.gz", "f1.warc.gz", "f2.warc.gz"]
    assert {before for _, _, before in taken} == {""}
    assert c.take() == 3  # none left; three still leased
    first = taken[0][0]
    client.zadd(keys.leases, {first: int(client.time()[0]) - 1})  # a's lease ran out (a stopped beating)
    assert c.take()[::2] == (first, "a") and int(client.get(keys.reclaimed)) == 1  # c learns whose it was
    assert a.done(first, {"totals/new": 1}, [], 50) == -1  # c holds it now: a's counts are not added
    assert c.done(first, {"totals/new": 1}, [], 50) == 2
    assert client.hget(keys.diff, "totals/new") == b"1"


def test_a_unit_finished_after_its_lease_counts_when_no_one_took_it_yet(redis_server):
    client, keys = redis_server.client(), ReplayKeys.of("late")
    a, b = shared(redis_server, "late", "a"), shared(redis_server, "late", "b")
    a.join(), a.add(units(3)), a.planned()
    held = [a.take()[0], a.take()[0]]
    client.zadd(keys.leases, {unit_id: int(client.time()[0]) - 1 for unit_id in held})  # a stalled past both
    taken, _, _ = b.take()  # hands both back to the front of the queue, takes one of them
    (left,) = set(held) - {taken}
    assert client.lrange(keys.todo, 0, 0) == [left.encode()]
    assert a.done(taken, {}, [], 50) == -1  # b holds that one now
    assert a.done(left, {"sites/x/new": 2}, ['{"url": "u"}'], 50) == 2  # a finished this one: no one redoes it
    assert client.lrange(keys.todo, 0, -1) == [b"f2.warc.gz"] and client.hget(keys.done, left) == b"a"
    assert client.hget(keys.diff, "sites/x/new") == b"2" and client.lrange(keys.changes, 0, -1) == [b'{"url": "u"}']


def test_heartbeats_renew_only_the_workers_own_leases_and_show_the_whole_replay(redis_server):
    client, keys = redis_server.client(), ReplayKeys.of("beat")
    a, b = shared(redis_server, "beat", "a", lease=30), shared(redis_server, "beat", "b", lease=30)
    a.join(), a.add(units(4)), a.planned(), b.join()
    mine, _, _ = a.take()
    theirs, _, _ = b.take()
    client.zadd(keys.leases, {mine: 0, theirs: 0})
    view = a.beat(True, "pages 3 | stored 3", [mine, theirs])
    assert client.zscore(keys.leases, mine) > client.time()[0] and client.zscore(keys.leases, theirs) == 0
    assert (view.left, view.leased, view.done, view.units, view.workers) == (2, 2, 0, 4, 2)
    assert view.line("beat") == "replay beat: units 0 done, 2 left, 2 leased, of 4; 2 workers"
    assert client.hget(keys.progress, "a") == b"pages 3 | stored 3"
    assert 0 < client.ttl(keys.units) <= 3600


def test_a_worker_that_leaves_hands_back_its_units_and_the_first_to_leave_a_drained_replay_finishes_it(redis_server):
    client, keys = redis_server.client(), ReplayKeys.of("leave")
    a, b = shared(redis_server, "leave", "a"), shared(redis_server, "leave", "b")
    a.join(), a.add(units(2)), a.planned(), b.join()
    held, _, _ = a.take()
    assert not a.leave("t0")  # stopped early (Ctrl-C): its unit goes back to the front of the queue
    assert client.lindex(keys.todo, 0) == held.encode() and not client.hget(keys.holders, held)
    assert b.take()[::2] == (held, "a")
    b.done(held, {}, [], 50)
    unit_id, _, _ = b.take()
    b.done(unit_id, {}, [], 50)
    assert b.leave("2026-12-04T00:00:00Z")
    assert client.get(keys.finished) == b"2026-12-04T00:00:00Z" and client.get(keys.summary) == b"2 0"
    assert not client.exists(keys.plan, keys.units, keys.todo, keys.leases, keys.holders, keys.done, keys.workers,
                             keys.lapsed)
    assert shared(redis_server, "leave", "c").join() == ("finished", "2026-12-04T00:00:00Z")
    assert a.beat(False, "pages 0", []).done == 2  # a late heartbeat brings nothing back
    assert not client.exists(keys.workers, keys.progress)


def test_a_planner_that_died_is_replaced_and_what_it_pushed_is_dropped(redis_server):
    client, keys = redis_server.client(), ReplayKeys.of("replan")
    a = shared(redis_server, "replan", "a")
    a.join()
    assert a.add(units(2))  # then a dies, mid-plan
    client.hset(keys.workers, "a", f"{int(client.time()[0]) - 100} busy")
    b = shared(redis_server, "replan", "b")
    assert b.join() == ("plan", "planning a")
    assert not client.exists(keys.units, keys.todo)
    assert not a.add(units(1)) and not a.planned()  # the old planner, back, no longer holds the plan
    assert b.add(units(3)) and b.planned() and client.llen(keys.todo) == 3
