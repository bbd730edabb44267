"""A pool of worker processes for the CPU-bound stages (pebble), awaited from the event loop.

Scrapy's reactor is one thread; extracting a page takes tens of ms of CPU
(docs/performance.md). Run inline, extraction stalls downloads and the crawl
uses one core. Here each call goes to a pebble process pool (size = cores by
default): a task that overruns its time limit (counted from when a worker
starts it) is killed with its worker, a worker that crashes fails only its own
task, and a worker is replaced after ``max_tasks`` tasks, which gives back
whatever a library leaked. If no worker can start (a broken install), every
page fails at once, saying why. pebble gives up on its whole pool when a
worker dies between two tasks (the OOM killer picking an idle worker) or a
worker cannot be forked, and answers only the tasks a worker had been sent:
then a new pool starts (at most one every ``RESTART_EVERY`` seconds), and every
page the old one held, queued or sent, goes to the new one, once. pebble times
a page only from when a worker takes it: a pool that holds pages and answers
none for longer than their time limits allow (``STOP_EACH``) is taken as wedged,
and given up the same way.

Backpressure comes from Scrapy itself: a response stays "active" in the
scraper until its items leave the pipeline, and the engine stops pulling new
requests once ``SCRAPER_SLOT_MAX_ACTIVE_SIZE`` bytes are active, so the
pool's queue never holds more than that.

The pool this replaced drove its workers from the event loop itself (612
lines with its worker module): side by side it spent 0.44 ms less
of the crawl process's CPU per page and gave 1.6% more pages/s, under the 3%
a hand-made replacement of a library must earn (2026-12-04, bench/RESULTS.md).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, InvalidStateError
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from pebble import ProcessExpired, ProcessPool

from pipelines.workers import cpupolicy

T = TypeVar("T")
logger = logging.getLogger(__name__)

# seconds between two new pools after pebble gave one up: a broken install fails each page at once in between,
# instead of forking workers without end
RESTART_EVERY = 5.0
# pebble gives a page no time limit before a worker takes it: a worker stopped or wedged before then holds the
# page, and the crawl, forever. A pool that holds pages answers one at least every time limit + STOP_EACH x
# workers (a page done, failed or stopped at its limit; pebble stops overrunning workers one after another, each
# within STOP_EACH seconds). One silent for that long, plus a grace, is given up like a broken one, and its pages
# go to new workers.
STOP_EACH = 3.0
GRACE = 30.0
WATCH_EVERY = 1.0  # seconds between two looks at the pools, while pages are in flight

# what every worker needs: loaded once in the forkserver, so that each worker is a fork of a warm process
PRELOAD = ("trafilatura", "trafilatura.xml", "pipelines.extraction.page", "pipelines.extraction.metadata",
           "pipelines.extraction.classify")


def start_forkserver(preload: tuple[str, ...] = PRELOAD) -> None:
    """Start the process that workers are forked from, with the extraction modules loaded.

    The crawl commands call this first thing, so that loading trafilatura
    (0.3-0.5 s) overlaps with Scrapy setting up the crawl; each worker then
    starts in milliseconds (and shares the loaded modules' pages with the
    others until Python's reference counts touch them).
    """
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload(list(preload))
    forkserver.ensure_running()


def usable_cpus() -> int:
    """Cores this process may run on (a container's CPU set, not the host's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class TaskFailed(Exception):
    """A task that timed out or whose worker died; ``reason`` is a stats key."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class _Abandoned(Exception):
    """The page's pool was given up before a worker answered: it may go to a new pool."""


class WorkerPool:
    """``await pool.run(fn, *args)`` runs ``fn`` in a worker process (or inline with 0 workers), once
    :meth:`open`; :meth:`close` stops the workers.

    ``yield_cpu``: the crawl process runs as SCHED_BATCH while the pool is
    open (:mod:`pipelines.workers.cpupolicy`, opt-in: ``EXTRACT_WORKERS_FIRST``).
    """

    def __init__(self, workers: int | None = None, timeout: float = 60.0, max_tasks: int = 2000,
                 yield_cpu: bool = False, preload: tuple[str, ...] = PRELOAD, restart_every: float = RESTART_EVERY,
                 grace: float = GRACE):
        self.workers = usable_cpus() if workers is None or workers < 0 else workers
        self.timeout = timeout
        self.max_tasks = max_tasks
        self.yield_cpu = yield_cpu
        self.preload = preload
        self._pool: ProcessPool | None = None
        self._policy: cpupolicy.Policy | None = None
        self.restart_every = restart_every
        self._restarted = -restart_every  # monotonic time of the last new pool after a broken one
        self._broken = ""  # why pebble gave up the pool, as a page in flight learnt it
        self.grace = grace
        self._pending: dict[Future, ProcessPool] = {}  # pages sent to a pool and not answered yet
        # per pool holding pages: how many, and when it last answered one or was sent one while it held none
        self._held: dict[ProcessPool, int] = {}
        self._heard: dict[ProcessPool, float] = {}
        self._watching: asyncio.AbstractEventLoop | None = None  # the loop a look at the pools is due on
        self._stopping: list[threading.Thread] = []  # pools given up, stopping (a busy worker takes 3 s)
        self._all_given_up: set[ProcessPool] = set()
        self._yielding = False
        self._opened = False

    def open(self) -> WorkerPool:
        """Start the workers (the crawl's extract stage does this when the spider opens): nothing starts
        before, so that building the stage costs no process and changes no scheduling policy."""
        if self._opened:
            raise RuntimeError("the worker pool is open already")
        self._opened = True
        if not self.workers:
            return self
        # forkserver: workers start from a clean process, not a copy of the reactor's threads; started
        # before this process yields, and each worker takes the process's own policy (cpupolicy.adopt)
        start_forkserver(self.preload)
        policy = cpupolicy.worker_policy()
        if self.yield_cpu:
            cpupolicy.yield_to_workers()
            self._yielding = True
        try:
            self._policy = policy
            self._pool = self._new_pool()
        except BaseException:
            self._stop_yielding()
            raise
        return self

    def _new_pool(self) -> ProcessPool:
        return ProcessPool(max_workers=self.workers, max_tasks=self.max_tasks,
                           context=multiprocessing.get_context("forkserver"),
                           initializer=_start_worker, initargs=(self.preload, self._policy))

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        if self._pool is None:
            if not self._opened:
                raise RuntimeError("the worker pool is not open")
            if self.workers:
                raise RuntimeError("the worker pool is closed")
            return function(*args)
        try:
            return await self._run(function, args)
        except _Abandoned:
            pass
        try:  # once more, on the pool that replaced the one given up
            return await self._run(function, args)
        except _Abandoned as exc:
            raise TaskFailed("worker_crashed", f"extraction workers stopped or cannot start ({exc})") from None

    async def _run(self, function: Callable[..., T], args: tuple) -> T:
        future, pool = self._schedule(function, args)
        self._pending[future] = pool
        held = self._held.get(pool, 0)
        if not held:
            self._heard[pool] = time.monotonic()
        self._held[pool] = held + 1
        loop = asyncio.get_running_loop()
        if self._watching is not loop:
            self._watching = loop
            loop.call_later(WATCH_EVERY, self._watch, loop)
        try:
            payload: bytes = await asyncio.wrap_future(future)
        except FutureTimeout:
            raise TaskFailed("timeout", f"took over {self.timeout:g} s and was stopped") from None
        except ProcessExpired as exc:
            raise TaskFailed("worker_crashed", f"worker process died (exit code {exc.exitcode})") from None
        except BrokenProcessPool as exc:  # pebble gave up the whole pool before a worker answered
            cause = _cause(exc)
            if pool is self._pool:
                self._broken = cause
            raise _Abandoned(cause) from None
        except CancelledError:
            raise TaskFailed("stopped", "the crawl stopped before the page was extracted") from None
        finally:
            self._pending.pop(future, None)
            self._let_go(pool, heard=not future.cancelled())  # a page the crawl cancelled is no answer
        return pickle.loads(payload)

    def _let_go(self, pool: ProcessPool, heard: bool) -> None:
        """A page of ``pool`` is done with: one fewer held, and the pool heard from if it answered."""
        held = self._held.pop(pool, 1) - 1
        if held > 0:
            self._held[pool] = held
            if heard:
                self._heard[pool] = time.monotonic()
        else:
            self._heard.pop(pool, None)
            if pool is not self._pool:  # a pool given up and emptied: nothing refers to it any more
                self._all_given_up.discard(pool)

    def _schedule(self, function: Callable[..., Any], args: tuple) -> tuple[Future, ProcessPool]:
        pool = self._pool
        if pool is None:
            raise TaskFailed("stopped", "the crawl stopped before the page was extracted")
        try:
            return pool.schedule(_call, args=(function, args), timeout=self.timeout), pool
        except (RuntimeError, OSError) as exc:  # pebble refuses tasks once it gave the pool up
            # unless a page in flight learnt why, pebble keeps it to itself ("Unexpected error within the Pool")
            cause = self._broken or f"{_cause(exc)}: a worker died between two pages, or could not be started"
        if pool not in self._all_given_up:  # at once, new pool or not: the pages it holds must not wait for one
            self._give_up(pool, cause)
        if time.monotonic() - self._restarted < self.restart_every:
            raise TaskFailed("worker_crashed", f"extraction workers cannot start ({cause})")
        logger.error("extraction workers stopped (%s): starting new ones", cause)
        self._restarted, self._broken = time.monotonic(), ""
        self._pool = pool = self._new_pool()
        try:
            return pool.schedule(_call, args=(function, args), timeout=self.timeout), pool
        except (RuntimeError, OSError) as exc:  # some workers may have started: stopped with the pool
            self._broken = _cause(exc)
            self._give_up(pool, self._broken)
            raise TaskFailed("worker_crashed", f"extraction workers cannot start ({self._broken})") from None

    def _give_up(self, pool: ProcessPool, cause: str) -> None:
        """Stop a pool off the event loop (a busy worker takes 3 s to stop); then the pages it still holds fail, to
        go to the next pool: pebble answers only those a worker was sent, the queued ones would wait forever."""
        self._all_given_up.add(pool)
        pool.stop()  # at once: the pool takes no more pages, nor starts again

        def stop() -> None:
            pool.join()  # pebble's threads have ended: none can answer a page from now on
            self._fail_pending(pool, lambda: _Abandoned(cause))

        stopping = threading.Thread(target=stop, name="pool-stop", daemon=True)
        stopping.start()
        self._stopping = [thread for thread in self._stopping if thread.is_alive()] + [stopping]

    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the event loop, while pages are in flight: give up a pool that holds pages and has been silent
        past the bound (STOP_EACH). A pause of the whole crawl (Ctrl-Z) longer than that looks the same: its
        pages are then sent again, once."""
        if loop is not self._watching:
            return
        try:
            silent_for = self.timeout + STOP_EACH * self.workers + self.grace
            now = time.monotonic()
            # an answer pebble gave that the page's coroutine has not taken yet (the loop was busy) counts
            answered = {owner for future, owner in self._pending.items() if future.done()}
            for pool, heard in list(self._heard.items()):
                if now - heard > silent_for and pool not in self._all_given_up and pool not in answered:
                    cause = f"no answer from the extraction workers for {now - heard:.0f} s while they held pages"
                    if pool is self._pool:
                        self._broken = cause
                    logger.error("%s: giving them up", cause)
                    self._give_up(pool, cause)
        finally:  # the look must go on while pages wait, whatever happened in it
            if self._pending:
                loop.call_later(WATCH_EVERY, self._watch, loop)
            else:
                self._watching = None

    def _fail_pending(self, pool: ProcessPool, error: Callable[[], BaseException]) -> None:
        """Answer the pages a stopped pool still holds, which pebble leaves unanswered."""
        for future, owner in self._pending.copy().items():
            if owner is pool and not future.done():
                try:
                    future.set_exception(error())
                except InvalidStateError:  # cancelled by the crawl meanwhile
                    pass

    def close(self) -> None:
        """Stop the workers at once: a page being extracted is cut short, not waited for."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            if pool not in self._all_given_up:  # one given up is being stopped already (below)
                pool.stop()
                pool.join(timeout=10)
                self._fail_pending(pool, CancelledError)
        for stopping in self._stopping:  # no worker of a pool given up outlives the crawl
            stopping.join()
        self._stopping.clear()
        self._stop_yielding()

    def _stop_yielding(self) -> None:
        if self._yielding:
            self._yielding = False
            cpupolicy.stop_yielding()


def _cause(error: BaseException) -> str:
    """Why pebble gave a pool up, in one line: its own message, or the error under it (a fork that failed)."""
    while error.__cause__ is not None:
        error = error.__cause__
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _start_worker(preload: tuple[str, ...], policy: cpupolicy.Policy | None) -> None:
    """In each worker: the crawl's scheduling policy, Ctrl-C left to the crawl, the heavy modules loaded."""
    cpupolicy.adopt(policy)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the crawl handles Ctrl-C: it stops the pool itself
    for name in preload:  # loaded already when forked from the forkserver
        importlib.import_module(name)


def _call(function: Callable[..., Any], args: tuple) -> bytes:
    """Run in the worker and pickle the result here, so that one that does not pickle fails as a
    RuntimeError saying so (pebble then carries bytes). An exception that does not pickle, or
    StopIteration (which an asyncio future refuses), becomes a RuntimeError too."""
    try:
        result = function(*args)
    except (StopIteration, StopAsyncIteration) as exc:
        raise RuntimeError(f"{type(exc).__name__} raised by the task") from None
    except Exception as exc:
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:
            raise RuntimeError(f"{type(exc).__name__}: {exc}") from None
        raise
    try:
        return pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        raise RuntimeError(f"the result did not pickle: {type(exc).__name__}: {exc}") from None
