"""A pool of worker processes for the CPU-bound stages, awaited from the reactor.

Scrapy's reactor is one thread; trafilatura takes ~15 ms of CPU per page.
Run inline, extraction stalls downloads and the crawl uses one core. Here
each call goes to a pebble process pool (size = cores by default): a task
that overruns its time limit is killed with its worker, and a worker that
crashes fails only its own task, so one hostile page cannot stop the crawl.

Backpressure comes from Scrapy itself: a response stays "active" in the
scraper until its items leave the pipeline, and the engine stops pulling new
requests once ``SCRAPER_SLOT_MAX_ACTIVE_SIZE`` bytes are active, so the
pool's queue never holds more than that.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import multiprocessing
import os
import pickle
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Callable, TypeVar

from pebble import ProcessExpired, ProcessPool

logger = logging.getLogger(__name__)
T = TypeVar("T")


# what every worker needs: loaded once in the forkserver, so that each worker is a fork of a warm process
PRELOAD = ["trafilatura", "trafilatura.xml", "pipelines.clean", "pipelines.extract", "pipelines.metadata"]


def start_forkserver() -> None:
    """Start the process that workers are forked from, with the extraction modules loaded.

    The crawl commands call this first thing, so that loading trafilatura
    (0.3-0.5 s) overlaps with Scrapy setting up the crawl; each worker then
    starts in milliseconds (and shares the loaded modules' pages with the
    others until Python's reference counts touch them).
    Without it, every worker loads them itself once the pipeline makes the pool.
    """
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload(PRELOAD)
    forkserver.ensure_running()


def usable_cpus() -> int:
    """Cores this process may run on (a container's CPU set, not the host's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class TaskFailed(Exception):
    """A task that timed out or whose worker died; ``reason`` is a stats key."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class WorkerPool:
    """``await pool.run(fn, *args)`` runs ``fn`` in a worker process (or inline with 0 workers)."""

    def __init__(self, workers: int | None = None, timeout: float = 60.0, max_tasks: int = 2000):
        self.workers = usable_cpus() if workers is None or workers < 0 else workers
        self.timeout = timeout
        self._pool: ProcessPool | None = None
        if self.workers:
            # forkserver: workers start from a clean process, not a copy of the reactor's threads
            start_forkserver()
            context = multiprocessing.get_context("forkserver")
            self._pool = ProcessPool(max_workers=self.workers, max_tasks=max_tasks, context=context, initializer=_warm_up)
            # pebble starts its workers with the first task: start them now, while the crawl fetches its
            # sitemaps and feeds, so that the first pages find them ready
            self._pool.schedule(os.getpid)

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        if self._pool is None:
            return function(*args)
        future = self._pool.schedule(_call, args=(function, args), timeout=self.timeout)
        try:
            return await asyncio.wrap_future(future)
        except FutureTimeout:
            raise TaskFailed("timeout", f"took over {self.timeout:g} s and was stopped") from None
        except ProcessExpired as exc:
            raise TaskFailed("worker_crashed", f"worker process died (exit code {exc.exitcode})") from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool.join(timeout=30)
            self._pool = None


def _call(function: Callable[..., T], args: tuple) -> T:
    """Run in the worker; an exception that cannot pickle back is replaced by one that can."""
    try:
        return function(*args)
    except Exception as exc:
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:
            raise RuntimeError(f"{type(exc).__name__}: {exc}") from None
        raise


def _warm_up() -> None:
    """Import the heavy modules once per worker, not on its first page (loaded already when preloaded)."""
    for name in PRELOAD:
        importlib.import_module(name)
