"""Extraction off the reactor: pages go to worker processes, one task per page, and the event loop runs on meanwhile."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import threading
import time
from pathlib import Path

import pytest
from scrapy.utils.test import get_crawler

from pipelines.clean import CleanPipeline
from pipelines.extract import ExtractPipeline
from pipelines.item import Article
from pipelines.workers.pool import TaskFailed, WorkerPool
from tests import pool_tasks
from tests.helpers import scrapy
from tests.test_pipelines_extraction_page import PARAGRAPHS, article_html, page

SETTINGS = {
    "CLEAN_ENABLED": True, "EXTRACT_FAVOR_PRECISION": True, "EXTRACT_INCLUDE_COMMENTS": False,
    "EXTRACT_INCLUDE_TABLES": True, "EXTRACT_MAX_BYTES": 10 * 1024 * 1024, "EXTRACT_MIN_WORDS": 30,
    "EXTRACT_TIMEOUT": 60,
}
# "ALSO READ" and the headline repeated above the text: two blocks the clean stage removes
DIRTY = article_html(body="<p>Also read: Other story about the city</p>" + PARAGRAPHS)


def pipelines(workers: int) -> tuple[ExtractPipeline, CleanPipeline, object]:
    crawler = get_crawler(settings_dict={**SETTINGS, "EXTRACT_WORKERS": workers})
    extract = ExtractPipeline.from_crawler(crawler)
    extract.open_spider()
    return extract, CleanPipeline.from_crawler(crawler), crawler


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


def test_pages_waiting_for_extraction_stay_bounded_when_extraction_lags(site, store):
    """One worker, downloads far faster: Scrapy stops fetching once SCRAPER_SLOT_MAX_ACTIVE_SIZE bytes wait.

    The pool never holds more pages than fit in that budget (counting each at
    the smallest page's size), plus those already downloading when the budget
    filled: without the limit, all 90 pages would be queued at once.
    """
    budget, concurrency, smallest_page = 400_000, 4, 20_000
    crawl = scrapy("crawl", "sitemap", "-a", f"url={site.url('/sitemaps/news.xml')}", "-v", store=store, settings={
        "EXTRACT_WORKERS": "1", "SCRAPER_SLOT_MAX_ACTIVE_SIZE": str(budget), "CONCURRENT_REQUESTS": str(concurrency),
        "CONCURRENT_REQUESTS_PER_DOMAIN": str(concurrency), "ROBOTSTXT_OBEY": "false", "ARCHIVE_ENABLED": "false",
    })
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    assert crawl.run_record()["articles_stored"] == 90
    in_flight = int(re.search(r"'extract/in_flight_max': (\d+)", crawl.stderr).group(1))  # -v: Scrapy's stats dump
    assert 1 <= in_flight <= budget // smallest_page + concurrency + 1


# --- the pool itself: time limits, crashes, errors, large pages, recycling ---------------------------


def run_all(pool: WorkerPool, *calls: tuple) -> list:
    """Run calls at once on the pool; each result or exception, in order."""

    async def main():
        return await asyncio.gather(*(pool.run(function, *args) for function, *args in calls), return_exceptions=True)

    return asyncio.run(main())


def test_a_pool_starts_no_worker_before_it_is_opened_and_says_so_when_used():
    """Building the extract stage (from_crawler) starts nothing: the workers start when the spider opens."""
    pool = WorkerPool(workers=1, timeout=10)
    with pytest.raises(RuntimeError, match="the worker pool is not open"):
        asyncio.run(pool.run(pool_tasks.pid))
    pool.close()  # a pool never opened closes quietly


@pytest.fixture
def one_worker():
    pool = WorkerPool(workers=1, timeout=2.0).open()
    yield pool
    pool.close()


def test_a_task_over_its_time_limit_fails_alone_and_a_new_worker_takes_over(one_worker):
    before, = run_all(one_worker, (pool_tasks.pid,))
    started = time.monotonic()
    stuck, after = run_all(one_worker, (pool_tasks.sleep_then, 60, "never"), (pool_tasks.pid,))
    assert isinstance(stuck, TaskFailed) and stuck.reason == "timeout", stuck
    assert "took over 2 s" in str(stuck)
    assert time.monotonic() - started < 10
    assert isinstance(after, int) and after != before  # the page queued behind it ran in the new worker
    with pytest.raises(ProcessLookupError):
        os.kill(before, 0)  # the stuck worker was killed


def test_the_time_limit_counts_from_when_a_task_starts_not_from_when_it_was_queued(one_worker):
    """Two 1.2 s tasks on one worker with a 2 s limit: the second waits 1.2 s in its pipe, and still passes."""
    results = run_all(one_worker, (pool_tasks.sleep_then, 1.2, "a"), (pool_tasks.sleep_then, 1.2, "b"))
    assert results == ["a", "b"]


def test_a_worker_that_dies_fails_only_its_own_task(one_worker):
    crashed, queued, later = run_all(one_worker, (pool_tasks.crash, 7), (pool_tasks.pid,), (pool_tasks.pid,))
    assert isinstance(crashed, TaskFailed) and crashed.reason == "worker_crashed", crashed
    assert "exit code 7" in str(crashed)
    assert isinstance(queued, int) and isinstance(later, int)


def test_errors_come_back_to_the_caller_whatever_they_hold(one_worker):
    error, unpicklable, bad_result, fine = run_all(
        one_worker, (pool_tasks.fail, "no article"), (pool_tasks.fail_unpicklably, "odd library error"),
        (pool_tasks.unpicklable_result,), (pool_tasks.sleep_then, 0, "fine"),
    )
    assert isinstance(error, ValueError) and str(error) == "no article"
    assert isinstance(unpicklable, RuntimeError) and "Unpicklable: odd library error" in str(unpicklable)
    assert isinstance(bad_result, RuntimeError) and "did not pickle" in str(bad_result)
    assert fine == "fine"


def test_a_page_larger_than_the_pipe_goes_through_while_the_loop_runs_on(one_worker):
    big = b"x" * (12 * 1024 * 1024)
    events: list[str] = []

    async def main():
        async def extract():
            result = await one_worker.run(pool_tasks.size, big)
            events.append("extracted")
            return result

        async def other():
            events.append("loop ran")

        return (await asyncio.gather(extract(), other()))[0]

    length, _ = asyncio.run(main())
    assert length == len(big)
    assert events == ["loop ran", "extracted"]


@pytest.mark.parametrize("at_once", [False, True], ids=["one by one", "all at once"])
def test_workers_are_replaced_after_max_tasks(at_once):
    """Also when the next task always waits in the worker's pipe already: it gets no more after max_tasks."""
    pool = WorkerPool(workers=1, timeout=10, max_tasks=3).open()
    try:
        if at_once:
            pids = run_all(pool, *[(pool_tasks.pid,)] * 7)
        else:
            pids = [run_all(pool, (pool_tasks.pid,))[0] for _ in range(7)]
    finally:
        pool.close()
    assert all(isinstance(p, int) for p in pids), pids
    assert [pids.count(p) for p in dict.fromkeys(pids)] == [3, 3, 1]


def test_ctrl_c_is_left_to_the_crawl_and_close_stops_the_workers(tmp_path):
    pool = WorkerPool(workers=2, timeout=10).open()

    def one_in_each_worker(directory: Path) -> set:
        directory.mkdir()
        return set(run_all(pool, *[(pool_tasks.pid_once_all_run, str(directory), 2)] * 2))

    try:
        pids = one_in_each_worker(tmp_path / "first")
        assert len(pids) == 2
        for worker in pids:
            os.kill(worker, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole process group
        time.sleep(0.2)
        assert one_in_each_worker(tmp_path / "again") == pids
    finally:
        pool.close()
    for worker in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(worker, 0)


def test_a_task_that_raises_stop_iteration_fails_instead_of_hanging(one_worker):
    """asyncio refuses StopIteration as a future's exception; trafilatura calls next() bare."""
    started = time.monotonic()
    stopped, after = run_all(one_worker, (next, iter([])), (pool_tasks.pid,))
    assert isinstance(stopped, RuntimeError) and "StopIteration" in str(stopped)
    assert isinstance(after, int)
    assert time.monotonic() - started < 5


def test_when_no_worker_can_start_every_page_fails_saying_why():
    """A broken install: the workers cannot load what they need; every page fails at once, saying why."""
    pool = WorkerPool(workers=1, timeout=10, preload=("tests.pool_tasks", "no_such_module_anywhere")).open()
    try:
        first, = run_all(pool, (pool_tasks.pid,))
        later, = run_all(pool, (pool_tasks.pid,))
    finally:
        pool.close()
    for failed in (first, later):
        assert isinstance(failed, TaskFailed) and failed.reason == "worker_crashed", failed
        assert "cannot start" in str(failed)


def abandon_a_long_task(pool: WorkerPool) -> None:
    """Start a 30 s task and give up waiting for it: the worker goes on running it."""

    async def abandon():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(pool.run(pool_tasks.sleep_then, 30, "late"), 0.2)

    asyncio.run(abandon())


def test_a_new_event_loop_keeps_the_time_limit_of_a_task_begun_on_the_old_one():
    pool = WorkerPool(workers=1, timeout=1.0).open()

    try:
        abandon_a_long_task(pool)
        started = time.monotonic()
        result, = run_all(pool, (pool_tasks.sleep_then, 0, "next"))
        assert result == "next"
        assert time.monotonic() - started < 5  # the 30 s task was stopped after its 1 s
    finally:
        pool.close()


def test_closing_kills_a_busy_worker_at_once():
    pool = WorkerPool(workers=1, timeout=60).open()
    busy_pid, = run_all(pool, (pool_tasks.pid,))

    abandon_a_long_task(pool)
    started = time.monotonic()
    pool.close()
    assert time.monotonic() - started < 3
    with pytest.raises(ProcessLookupError):
        os.kill(busy_pid, 0)


def _policies_settable() -> bool:
    """Linux, a process under the default policy, and a system that lets it switch to SCHED_BATCH and back."""
    if not sys.platform.startswith("linux") or os.sched_getscheduler(0) != os.SCHED_OTHER:
        return False
    try:
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    except OSError:
        return False
    return True


needs_policies = pytest.mark.skipif(not _policies_settable(), reason="scheduling policies cannot be changed here")


@pytest.fixture
def threads():
    """Threads that wait until the test ends; afterwards every thread of the process is back to the default."""
    stop = threading.Event()
    started: list[threading.Thread] = []

    def start() -> threading.Thread:
        thread = threading.Thread(target=stop.wait, daemon=True)
        thread.start()
        started.append(thread)
        return thread

    yield start
    stop.set()
    for tid in os.listdir("/proc/self/task"):  # whatever the test did, the next ones start from the default
        try:
            os.sched_setscheduler(int(tid), os.SCHED_OTHER, os.sched_param(0))
        except OSError:
            pass
    for thread in started:
        thread.join(timeout=5)


def _policy_of(thread: threading.Thread) -> int:
    return os.sched_getscheduler(thread.native_id)


@needs_policies
def test_a_yielding_pool_puts_the_crawl_process_in_batch_and_its_workers_not(threads):
    """While the pool is open every thread of the crawl process, older or newer, runs as SCHED_BATCH (its
    wake-ups do not preempt a worker mid-page); the workers run as the process did before; closing undoes it."""
    older = threads()
    pool = WorkerPool(workers=1, timeout=30, yield_cpu=True).open()
    try:
        newer = threads()
        assert os.sched_getscheduler(0) == os.SCHED_BATCH
        assert _policy_of(older) == os.SCHED_BATCH and _policy_of(newer) == os.SCHED_BATCH
        assert asyncio.run(pool.run(pool_tasks.policy)) == os.SCHED_OTHER
    finally:
        pool.close()
    assert os.sched_getscheduler(0) == os.SCHED_OTHER
    assert _policy_of(older) == os.SCHED_OTHER and _policy_of(newer) == os.SCHED_OTHER


@needs_policies
def test_a_crawl_started_under_a_policy_of_its_own_keeps_it_and_so_do_its_workers(threads):
    """`chrt --batch scrapy crawl ...` is the user's choice: nothing changes it, not even in the workers
    (which fork from a forkserver that may have started under the default)."""
    os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    pool = WorkerPool(workers=1, timeout=30, yield_cpu=True).open()
    try:
        assert asyncio.run(pool.run(pool_tasks.policy)) == os.SCHED_BATCH
    finally:
        pool.close()
    assert os.sched_getscheduler(0) == os.SCHED_BATCH


@needs_policies
def test_workers_run_as_the_process_did_even_when_their_forkserver_started_in_batch(threads):
    """A forkserver started while the process yielded (another pool open, or one restarted after a crash)
    runs as SCHED_BATCH; workers forked from it, even of a pool that does not yield, do not."""
    from multiprocessing import forkserver

    forkserver._forkserver._stop()  # the next pool starts a new one, from this thread
    try:
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
        try:
            pool = WorkerPool(workers=1, timeout=30).open()  # its forkserver starts as SCHED_BATCH
        finally:
            os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
        try:
            assert os.sched_getscheduler(forkserver._forkserver._forkserver_pid) == os.SCHED_BATCH
            assert asyncio.run(pool.run(pool_tasks.policy)) == os.SCHED_BATCH  # the process's at the start
        finally:
            pool.close()
        pool = WorkerPool(workers=1, timeout=30, yield_cpu=True).open()
        try:
            assert asyncio.run(pool.run(pool_tasks.policy)) == os.SCHED_OTHER
        finally:
            pool.close()
    finally:
        forkserver._forkserver._stop()  # the later tests' workers come from a forkserver of the default policy


@needs_policies
def test_pools_that_do_not_yield_leave_the_policies_alone(threads):
    pool = WorkerPool(workers=1, timeout=30).open()
    try:
        assert os.sched_getscheduler(0) == os.SCHED_OTHER
        assert asyncio.run(pool.run(pool_tasks.policy)) == os.SCHED_OTHER
    finally:
        pool.close()


@needs_policies
def test_a_pool_that_cannot_start_gives_the_policy_back(threads, monkeypatch):
    def no_threads(*args, **kwargs):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr("pipelines.workers.pool.ProcessPool", no_threads)
    with pytest.raises(RuntimeError):
        WorkerPool(workers=1, timeout=30, yield_cpu=True).open()
    assert os.sched_getscheduler(0) == os.SCHED_OTHER
    monkeypatch.undo()  # and the next pool that yields does
    pool = WorkerPool(workers=1, timeout=30, yield_cpu=True).open()
    try:
        assert os.sched_getscheduler(0) == os.SCHED_BATCH
    finally:
        pool.close()


@needs_policies
def test_the_crawl_pipelines_make_a_yielding_pool_when_asked(threads):
    crawler = get_crawler(settings_dict={**SETTINGS, "EXTRACT_WORKERS": 1, "EXTRACT_WORKERS_FIRST": True})
    extract = ExtractPipeline.from_crawler(crawler)
    try:
        assert os.sched_getscheduler(0) == os.SCHED_OTHER  # building the stage starts nothing
        extract.open_spider()
        assert os.sched_getscheduler(0) == os.SCHED_BATCH
    finally:
        extract.close_spider()
    assert os.sched_getscheduler(0) == os.SCHED_OTHER


def test_a_worker_killed_between_two_pages_costs_no_page_and_says_why(caplog):
    """pebble gives its whole pool up when a worker dies while idle (the OOM killer's pick), and answers only the
    pages a worker was sent: every page, sent or still queued behind a large one, goes to new workers. Within
    the restart interval of that, the same pages fail at once instead."""
    pool = WorkerPool(workers=1, timeout=10, restart_every=600).open()  # however slow the machine, one restart
    large = "x" * (4 << 20)  # pages that take a while to go down the pipe: the ones after them wait in pebble's queue
    try:
        idle, = run_all(pool, (pool_tasks.pid,))
        os.kill(idle, signal.SIGKILL)

        async def four_pages():  # a page that hung would fail the test here, not stall it
            return await asyncio.wait_for(asyncio.gather(
                pool.run(pool_tasks.pid), pool.run(pool_tasks.sleep_then, 0, large),
                pool.run(pool_tasks.sleep_then, 0, large), pool.run(pool_tasks.sleep_then, 0, "last page"),
                return_exceptions=True), 60)

        with caplog.at_level("ERROR", logger="pipelines.workers.pool"):
            after = asyncio.run(four_pages())
            later, = run_all(pool, (pool_tasks.sleep_then, 0, "next page"))
            os.kill(after[0], signal.SIGKILL)  # the new worker too, within the interval: no new pool yet
            again = asyncio.run(four_pages())
    finally:
        pool.close()
    assert isinstance(after[0], int) and after[0] != idle, after[0]
    assert after[1:] == [large, large, "last page"] and later == "next page"
    assert all(isinstance(r, TaskFailed) and "cannot start" in str(r) for r in again), again
    assert caplog.text.count("starting new ones") == 1, caplog.text
    assert "extraction workers stopped (" in caplog.text


def test_a_worker_wedged_before_it_takes_a_page_holds_it_only_until_its_bound(caplog):
    """pebble times a page only once a worker takes it: a worker stopped before that (SIGSTOP here; a deadlock
    or a frozen cgroup in life) held the page, and the crawl with it, forever. A pool silent past what the
    pages' time limit allows is given up, and the page goes to a new worker."""
    pool = WorkerPool(workers=1, timeout=1, grace=1, restart_every=600).open()  # silent for 1 + 3 x 1 + 1 = 5 s
    stopped, = run_all(pool, (pool_tasks.pid,))
    os.kill(stopped, signal.SIGSTOP)

    async def one_page():  # a page that hung would fail the test here, not stall it
        return await asyncio.wait_for(pool.run(pool_tasks.pid), 60)

    try:
        with caplog.at_level("ERROR", logger="pipelines.workers.pool"):
            answered_by = asyncio.run(one_page())
    finally:
        pool.close()  # pebble kills the stopped worker, given up or not
    assert isinstance(answered_by, int) and answered_by != stopped, answered_by
    assert "no answer from the extraction workers for" in caplog.text, caplog.text
    assert caplog.text.count("starting new ones") == 1, caplog.text


def test_pages_that_all_overrun_their_limit_at_once_do_not_make_a_pool_count_as_wedged(caplog):
    """pebble stops overrunning workers one after another, each taking 3 s when the page ignores SIGTERM: the
    answers come slowly, but they come, and the pool is kept. (They come 3 s apart: the bound's allowance of
    3 s per worker, for overrunning pages the crawl cancelled, is not what this exercises.)"""
    pool = WorkerPool(workers=4, timeout=1, grace=1, restart_every=600).open()
    try:
        with caplog.at_level("ERROR", logger="pipelines.workers.pool"):
            results = run_all(pool, *[(pool_tasks.sleep_deaf_to_sigterm, 60)] * 4)
            after, = run_all(pool, (pool_tasks.sleep_then, 0, "next page"))
    finally:
        pool.close()
    assert all(isinstance(r, TaskFailed) and r.reason == "timeout" for r in results), results
    assert after == "next page"
    assert "no answer from the extraction workers" not in caplog.text, caplog.text
    assert "starting new ones" not in caplog.text, caplog.text


def test_a_page_answered_while_the_event_loop_was_busy_does_not_make_the_pool_count_as_wedged(caplog):
    """The answer reaches the page's coroutine only when the loop is free again: until then it still counts."""
    pool = WorkerPool(workers=1, timeout=1, grace=1, restart_every=600).open()  # silent for 1 + 3 x 1 + 1 = 5 s
    run_all(pool, (pool_tasks.pid,))  # the worker is up: the page is answered at once, however loaded the machine

    async def page_behind_a_busy_loop():
        page = asyncio.ensure_future(pool.run(pool_tasks.sleep_then, 0, "page"))
        await asyncio.sleep(0)  # the page is sent
        time.sleep(6)  # the loop does something else for longer than the bound; the worker answers meanwhile
        return await page

    try:
        with caplog.at_level("ERROR", logger="pipelines.workers.pool"):
            answer = asyncio.run(page_behind_a_busy_loop())
    finally:
        pool.close()
    assert answer == "page"
    assert "no answer from the extraction workers" not in caplog.text, caplog.text


def test_a_pool_that_keeps_breaking_is_started_again_at_most_every_few_seconds(caplog):
    """A broken install: one new pool per restart interval, each page failing at once in between."""
    pool = WorkerPool(workers=1, timeout=10, preload=("tests.pool_tasks", "no_such_module_anywhere"),
                      restart_every=600).open()
    started = time.monotonic()
    try:
        with caplog.at_level("ERROR", logger="pipelines.workers.pool"):
            results = [run_all(pool, (pool_tasks.pid,))[0] for _ in range(6)]
    finally:
        pool.close()
    assert all(isinstance(r, TaskFailed) and "cannot start" in str(r) for r in results), results
    assert time.monotonic() - started < 30  # failing at once: not waiting out the interval
    assert caplog.text.count("starting new ones") == 1, caplog.text  # the first page's, tried on a second pool
