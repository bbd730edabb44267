"""A pool of worker processes for the CPU-bound stages, driven from the event loop itself.

Scrapy's reactor is one thread; extracting a page takes ~20 ms of CPU. Run
inline, extraction stalls downloads and the crawl uses one core. Here each
call goes to a worker process (size = cores by default). A task that overruns
its time limit is killed with its worker, and a worker that crashes fails
only its own task, so one hostile page cannot stop the crawl.

Each worker has a pipe of its own each way, and the event loop reads and
writes them (``add_reader``/``add_writer``): a task is one write, its result
one read, with no thread in between. The crawl process shares the cores with
the workers, so what it spends per page is taken from extraction; pebble,
used before, handed each task through three threads, a shared pipe guarded
by a lock and an acknowledgement message, and cost 0.4-0.5 ms of the crawl
process's CPU per page against about 0.1 ms here (README: performance).

A worker says when it is ready (:mod:`pipelines.workers.worker`). One that dies
before that ran none of its tasks: they go to the next worker, which starts
after a growing pause; after ``MAX_START_FAILURES`` in a row, every page
fails at once, saying why, rather than the crawl waiting forever. Workers are
killed through a pidfd, which reaches the process even after the forkserver
that forked it died (multiprocessing then takes every such worker for gone).

Backpressure comes from Scrapy itself: a response stays "active" in the
scraper until its items leave the pipeline, and the engine stops pulling new
requests once ``SCRAPER_SLOT_MAX_ACTIVE_SIZE`` bytes are active, so the
pool's queue never holds more than that.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import multiprocessing
import os
import pickle
import signal
import time
from concurrent.futures import Future as ThreadFuture, ThreadPoolExecutor
from typing import Any, Callable, TypeVar

from pipelines.workers import cpupolicy
from pipelines.workers.worker import FRAME, PIPE_SIZE, PRELOAD, serve

logger = logging.getLogger(__name__)
T = TypeVar("T")

F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ, missing from Python 3.11's fcntl on some builds


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


class _Worker:
    """The crawl process's side of one worker: its process, its two pipes, the tasks sent to it."""

    def __init__(self, process: Any, tasks_fd: int, results_fd: int, pidfd: int | None):
        self.process = process
        self.pidfd = pidfd  # kills this very process, even once the forkserver that forked it is gone
        self.tasks_fd = tasks_fd  # we write tasks here
        self.results_fd = results_fd  # and read results here
        self.ready = False  # it said so: its modules are loaded
        self.received = bytearray()
        self.unsent: list[memoryview] = []
        self.sent: collections.deque[tuple[asyncio.Future, bytes]] = collections.deque()  # the first one runs
        self.timer: asyncio.TimerHandle | None = None  # the running task's time limit (or the start's)
        self.assigned = 0  # tasks given to it: after max_tasks of them it gets no more, and is replaced once done


class WorkerPool:
    """``await pool.run(fn, *args)`` runs ``fn`` in a worker process (or inline with 0 workers).

    Used from one event loop at a time (the crawl's); ``close()`` stops the
    workers. ``max_tasks``: a worker is replaced after that many tasks, so
    that whatever a library leaks in it is given back.
    """

    # tasks sent to a worker at once: the one it runs and the next, already in its pipe, so that it
    # never waits for the event loop between two pages
    DEPTH = 2
    # workers in a row that could not start (a broken install, no memory): then every page fails at once,
    # saying why, instead of the crawl starting workers forever
    MAX_START_FAILURES = 5
    START_RETRY_DELAY = 0.5  # seconds after the first failure, doubling with each

    def __init__(self, workers: int | None = None, timeout: float = 60.0, max_tasks: int = 2000,
                 yield_cpu: bool = False):
        self.workers = usable_cpus() if workers is None or workers < 0 else workers
        self.timeout = timeout
        self.max_tasks = max_tasks
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready: list[_Worker] = []
        self._waiting: collections.deque[tuple[asyncio.Future, bytes]] = collections.deque()
        self._starting: list[ThreadFuture] = []
        self._start_failures = 0  # in a row
        self._retries: list[asyncio.TimerHandle] = []  # starts to try again later
        self._broken = ""  # why no worker can start, once MAX_START_FAILURES were reached
        self._closed = False
        self._yielding = False
        if not self.workers:
            return
        # forkserver: workers start from a clean process, not a copy of the reactor's threads. Started
        # before this process yields, but a forkserver started later (after a crash) would inherit the
        # batch policy: each worker sets the process's own policy itself
        start_forkserver()
        self._worker_policy = cpupolicy.worker_policy()
        if yield_cpu:  # the crawl process lets the workers run rather than preempt them (pipelines.workers.cpupolicy)
            cpupolicy.yield_to_workers()
            self._yielding = True
        try:
            self._context = multiprocessing.get_context("forkserver")
            # starting a worker waits for the forkserver, which may still be loading trafilatura: a thread
            # waits instead of the reactor, while the crawl fetches its sitemaps and feeds
            self._spawner = ThreadPoolExecutor(1, thread_name_prefix="pool-start")
            for _ in range(self.workers):
                self._start()
        except BaseException:
            self._stop_yielding()
            raise

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        if not self.workers:
            return function(*args)
        if self._closed:
            raise RuntimeError("the worker pool is closed")
        if self._broken:
            raise TaskFailed("worker_crashed", self._broken)
        self._bind(asyncio.get_running_loop())
        future = self._loop.create_future()
        self._waiting.append((future, pickle.dumps((function, args), protocol=pickle.HIGHEST_PROTOCOL)))
        self._dispatch()
        return await future

    def close(self) -> None:
        """Stop the workers: an idle one reads the end of its task pipe and exits, a busy one is killed."""
        if self._closed or not self.workers:
            return
        self._closed = True
        try:
            self._stop_workers()
        finally:
            self._stop_yielding()

    def _stop_yielding(self) -> None:
        if self._yielding:
            self._yielding = False
            cpupolicy.stop_yielding()

    def _stop_workers(self) -> None:
        for retry in self._retries:
            retry.cancel()
        for started in self._starting:
            started.cancel()
        self._spawner.shutdown(wait=True)
        workers = self._ready + [started.result() for started in self._starting
                                 if started.done() and not started.cancelled() and started.exception() is None]
        self._ready, self._starting = [], []
        for worker in workers:
            if worker.sent:  # a page is cut short, not waited for (nor the one queued behind it)
                _kill(worker)
            self._requeue(worker)
            self._forget(worker, keep_pidfd=True)
        deadline = time.monotonic() + 5
        for worker in workers:
            worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if worker.process.exitcode is None:
                _kill(worker)
                worker.process.join(timeout=1)
            _close_fd(worker.pidfd)
        self._fail_waiting(TaskFailed("stopped", "the crawl stopped before the page was extracted"))

    # --- the event loop's side -----------------------------------------------------------

    def _bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Watch the workers' pipes from ``loop`` (a new loop takes over when the old one is done)."""
        if loop is not self._loop:
            old, self._loop = self._loop, loop
            for worker in self._ready:
                if old is not None and not old.is_closed():
                    old.remove_reader(worker.results_fd)
                    old.remove_writer(worker.tasks_fd)
                loop.add_reader(worker.results_fd, self._on_readable, worker)
                if worker.unsent:
                    loop.add_writer(worker.tasks_fd, self._on_writable, worker)
                self._arm(worker)  # the old loop's timers are gone with it
        self._collect_started()

    def _collect_started(self) -> None:
        """Take in the workers that the start thread finished starting."""
        while self._starting and self._starting[0].done():
            started = self._starting.pop(0)
            try:
                worker = started.result()
            except Exception as exc:
                self._start_failed(f"{type(exc).__name__}: {exc}")
                continue
            self._loop.add_reader(worker.results_fd, self._on_readable, worker)
            self._ready.append(worker)
            self._arm(worker)

    def _start(self) -> None:
        """Start a worker in the start thread; the loop takes it in once it runs."""
        if self._closed:
            return
        started = self._spawner.submit(self._start_worker)
        started.add_done_callback(self._notify_started)
        self._starting.append(started)

    def _notify_started(self, _: ThreadFuture) -> None:  # in the start thread
        if self._loop is not None:  # else the first run() takes the worker in
            _call_soon(self._loop, self._worker_started)

    def _worker_started(self) -> None:
        if not self._closed and self._loop is not None and not self._loop.is_closed():
            self._collect_started()
            self._dispatch()

    def _start_failed(self, reason: str) -> None:
        """A worker could not start, or died before it was ready: try again later, or give up saying why."""
        self._start_failures += 1
        if self._start_failures >= self.MAX_START_FAILURES:
            self._broken = f"extraction workers cannot start ({self._start_failures} in a row; last: {reason})"
            logger.error("%s; every page will fail until the crawl is restarted", self._broken)
            self._fail_waiting(TaskFailed("worker_crashed", self._broken))
            return
        delay = min(self.START_RETRY_DELAY * 2 ** (self._start_failures - 1), 10.0)
        logger.warning("an extraction worker could not start (%s); trying again in %g s", reason, delay)
        now = self._loop.time()
        self._retries = [retry for retry in self._retries if retry.when() > now]  # those still to come
        self._retries.append(self._loop.call_later(delay, self._start))

    def _dispatch(self) -> None:
        """Send waiting tasks to the workers with the fewest tasks, up to DEPTH each."""
        while self._waiting:
            open_workers = [w for w in self._ready if not self.max_tasks or w.assigned < self.max_tasks]
            worker = min(open_workers, key=lambda w: len(w.sent), default=None)
            if worker is None or len(worker.sent) >= self.DEPTH:
                return
            future, payload = self._waiting.popleft()
            if future.done():  # cancelled while it waited
                continue
            worker.sent.append((future, payload))
            worker.assigned += 1
            if len(worker.sent) == 1:
                self._arm(worker)
            worker.unsent += [memoryview(FRAME.pack(len(payload))), memoryview(payload)]
            if len(worker.unsent) == 2:  # else a write is pending already and takes this one along
                self._send(worker)

    def _arm(self, worker: _Worker) -> None:
        """Set the worker's one timer: for starting, or for the task it runs now."""
        self._stop_timer(worker)
        if self.timeout <= 0:
            return
        if not worker.ready:
            worker.timer = self._loop.call_later(self.timeout, _kill, worker)  # its pipe then ends: _died
        elif worker.sent:
            worker.timer = self._loop.call_later(self.timeout, self._timed_out, worker)

    def _send(self, worker: _Worker) -> None:
        try:
            while worker.unsent:
                written = os.writev(worker.tasks_fd, worker.unsent)
                while written:
                    head = worker.unsent[0]
                    if written >= len(head):
                        written -= len(head)
                        worker.unsent.pop(0)
                    else:
                        worker.unsent[0] = head[written:]
                        written = 0
        except BlockingIOError:  # more than the pipe holds: the rest goes as the worker reads
            self._loop.add_writer(worker.tasks_fd, self._on_writable, worker)
        except OSError:  # the worker is gone; its result pipe tells why
            worker.unsent = []

    def _on_writable(self, worker: _Worker) -> None:
        self._loop.remove_writer(worker.tasks_fd)
        self._send(worker)

    def _on_readable(self, worker: _Worker) -> None:
        try:
            chunk = os.read(worker.results_fd, PIPE_SIZE)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._died(worker)
            return
        worker.received += chunk
        while len(worker.received) >= FRAME.size and worker.results_fd >= 0:
            (size,) = FRAME.unpack_from(worker.received)
            if len(worker.received) < FRAME.size + size:
                break
            message = bytes(worker.received[FRAME.size:FRAME.size + size])
            del worker.received[:FRAME.size + size]
            try:
                self._finished(worker, message) if size else self._became_ready(worker)
            except Exception:  # a bug here must not leave the other results unread
                logger.exception("extraction worker pool: could not take a result")

    def _became_ready(self, worker: _Worker) -> None:
        worker.ready = True
        self._start_failures = 0
        self._arm(worker)

    def _finished(self, worker: _Worker, message: bytes) -> None:
        future, _ = worker.sent.popleft()
        self._arm(worker)
        if not future.done() and not future.get_loop().is_closed():
            try:
                ok, value = pickle.loads(message)
            except Exception as exc:
                ok, value = False, RuntimeError(f"the result did not unpickle: {type(exc).__name__}: {exc}")
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value if _raisable(value) else RuntimeError(repr(value)))
        if self.max_tasks and worker.assigned >= self.max_tasks and not worker.sent:
            self._replace(worker)  # an orderly exit: it reads the end of its task pipe
        self._dispatch()

    def _stop_timer(self, worker: _Worker) -> None:
        if worker.timer is not None:
            worker.timer.cancel()
            worker.timer = None

    def _timed_out(self, worker: _Worker) -> None:
        worker.timer = None
        _kill(worker)
        future, _ = worker.sent.popleft()
        self._replace(worker)
        _fail(future, TaskFailed("timeout", f"took over {self.timeout:g} s and was stopped"))
        self._dispatch()

    def _died(self, worker: _Worker) -> None:
        """The worker's result pipe ended: the process is gone. Its running task fails; a new worker starts."""
        if not worker.ready:  # no task of it ran: they all go to the next worker
            self._replace(worker, restart=False)
            self._start_failed("it exited before it was ready")
            self._dispatch()
            return
        running = worker.sent.popleft()[0] if worker.sent else None
        self._replace(worker)
        if running is not None:
            loop = self._loop

            def fail(code: int | None) -> None:
                _fail(running, TaskFailed("worker_crashed", f"worker process died (exit code {code})"))

            # the exit code comes from the forkserver a moment after the pipe closes: wait for it in a thread
            waiting = self._spawner.submit(_exit_code, worker.process)
            waiting.add_done_callback(lambda done: _call_soon(loop, fail, done.result()))
        self._dispatch()

    def _replace(self, worker: _Worker, restart: bool = True) -> None:
        """Stop using a worker (and start another); the tasks it had not started go to the others."""
        self._ready = [w for w in self._ready if w is not worker]
        self._requeue(worker)
        self._forget(worker)
        if restart:
            self._start()

    def _requeue(self, worker: _Worker) -> None:
        self._waiting.extendleft(reversed(worker.sent))
        worker.sent.clear()

    def _forget(self, worker: _Worker, keep_pidfd: bool = False) -> None:
        """Stop watching a worker's pipes and close them: the worker reads the end of its tasks and exits."""
        self._stop_timer(worker)
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(worker.results_fd)
            self._loop.remove_writer(worker.tasks_fd)
        for fd in (worker.tasks_fd, worker.results_fd, None if keep_pidfd else worker.pidfd):
            _close_fd(fd)
        worker.tasks_fd = worker.results_fd = -1
        worker.unsent = []

    def _fail_waiting(self, error: Exception) -> None:
        while self._waiting:
            _fail(self._waiting.popleft()[0], error)

    # --- starting a worker (in the start thread) -----------------------------------------

    def _start_worker(self) -> _Worker:
        fds: list[int] = []
        try:
            task_reader, task_writer = os.pipe()
            fds += [task_reader, task_writer]
            result_reader, result_writer = os.pipe()
            fds += [result_reader, result_writer]
            for fd in (task_writer, result_writer):
                _grow_pipe(fd)
            process = self._context.Process(target=serve, daemon=True, name="extract-worker",
                                            args=(_Fd(task_reader), _Fd(result_writer), self._worker_policy))
            process.start()
        except BaseException:
            for fd in fds:
                _close_fd(fd)
            raise
        os.close(task_reader)  # the worker has its own copies now; ours would hide its exit from us
        os.close(result_writer)
        os.set_blocking(task_writer, False)
        os.set_blocking(result_reader, False)
        return _Worker(process, task_writer, result_reader, _pidfd(process.pid))


class _Fd:
    """A file descriptor handed to a worker; the forkserver passes the descriptor itself."""

    def __init__(self, fd: int):
        self.fd = fd

    def __reduce__(self):
        from multiprocessing.reduction import DupFd

        return _rebuild_fd, (DupFd(self.fd),)


def _rebuild_fd(dup: Any) -> int:
    return dup.detach()


def _grow_pipe(fd: int) -> None:
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", F_SETPIPE_SZ), PIPE_SIZE)
    except (ImportError, OSError):  # not Linux, or a lower pipe-max-size: writes just take more turns
        pass


def _pidfd(pid: int | None) -> int | None:
    try:
        return os.pidfd_open(pid) if pid else None
    except (AttributeError, OSError):  # not Linux 5.3+: the process object's own kill()
        return None


def _kill(worker: _Worker) -> None:
    """Kill a worker now. The process object alone cannot once its forkserver died (it then says exit code 255)."""
    if worker.pidfd is not None:
        try:
            signal.pidfd_send_signal(worker.pidfd, signal.SIGKILL)
            return
        except ProcessLookupError:  # gone already
            return
        except OSError:
            pass
    worker.process.kill()


def _close_fd(fd: int | None) -> None:
    if fd is not None and fd >= 0:
        try:
            os.close(fd)
        except OSError:
            pass


def _fail(future: asyncio.Future, error: Exception) -> None:
    if not future.done() and not future.get_loop().is_closed():
        future.set_exception(error)


def _raisable(value: Any) -> bool:
    """What an asyncio future takes as its exception."""
    return isinstance(value, BaseException) and not isinstance(value, (StopIteration, StopAsyncIteration))


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[..., Any], *args: Any) -> None:
    """From another thread; a loop that closed meanwhile has nobody left to tell."""
    try:
        loop.call_soon_threadsafe(callback, *args)
    except RuntimeError:
        pass


def _exit_code(process: Any) -> int | None:
    process.join(timeout=5)
    return process.exitcode
