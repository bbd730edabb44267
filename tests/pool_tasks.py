"""Tasks for the worker pool's tests: importable by the worker processes, which run them."""

from __future__ import annotations

import os
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


def pid_after(seconds: float) -> int:
    """This worker's pid, after holding it long enough that tasks given at once go to different workers."""
    time.sleep(seconds)
    return os.getpid()
