"""Tasks for the worker pool's tests: importable by the worker processes, which run them."""

from __future__ import annotations

import os
import tempfile
import threading
import time


def pid() -> int:
    return os.getpid()


def sleep_then(seconds: float, value: object) -> object:
    time.sleep(seconds)
    return value


def crash(code: int) -> None:
    os._exit(code)  # the way a segfaulting parser or the OOM killer ends a worker: no exception, no reply


def fail(message: str) -> None:
    raise ValueError(message)


class Unpicklable(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.lock = threading.Lock()  # locks do not pickle


def fail_unpicklably(message: str) -> None:
    raise Unpicklable(message)


def unpicklable_result() -> object:
    return threading.Lock()


def size(data: bytes) -> tuple[int, int]:
    return len(data), os.getpid()


def policy() -> int:
    return os.sched_getscheduler(0)


def pid_once_all_run(directory: str, count: int, limit: float = 8.0) -> int:
    """This worker's pid, once ``count`` of these tasks run at once (each marks ``directory`` as it starts).

    Each holds its worker until then, so tasks given at once end in as many workers however slowly the
    workers start (a guessed half-second sleep did not: a worker that started later left both to the other).
    After ``limit`` seconds (below the pool's time limit) it returns all the same: the test sees one pid twice.
    """
    os.close(tempfile.mkstemp(dir=directory)[0])
    deadline = time.monotonic() + limit
    while len(os.listdir(directory)) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return os.getpid()


def sleep_deaf_to_sigterm(seconds: float) -> None:
    """A page stuck in C code (lxml, a regular expression) does not act on SIGTERM: pebble has to wait, then kill."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(seconds)
