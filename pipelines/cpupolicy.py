"""Scheduling policy of the crawl process against its extraction workers (Linux).

The crawl process wakes up many times per page (each socket read, each
result from a worker, the WARC and store threads), and under the default
policy each wake-up preempts a worker in the middle of a page: ten or more
context switches per page. Under ``SCHED_BATCH`` a wake-up does not preempt;
the crawl process runs when a core is free or at the next tick, and then
handles several events at once. It keeps its fair share of CPU, so downloads
do not starve; measured on 2 cores: 17% less CPU in the crawl process per
page and 5% more pages/s (README: performance).

Only a process that runs under the default policy is changed: a user who
started the crawl under ``chrt`` or as ``SCHED_IDLE`` chose for it. Workers
take the policy the crawl process had before, since they are forked from a
forkserver that may have started under either.
"""

from __future__ import annotations

import os

_OTHER = getattr(os, "SCHED_OTHER", 0)
_BATCH = getattr(os, "SCHED_BATCH", 3)


def supported() -> bool:
    return hasattr(os, "sched_setscheduler") and hasattr(os, "sched_getscheduler")


def current() -> int | None:
    """The calling thread's policy, or None where the platform has no such thing."""
    return os.sched_getscheduler(0) if supported() else None


def _threads() -> list[int]:
    """This process's thread ids; a policy is set per thread, and new threads inherit their creator's."""
    try:
        return [int(tid) for tid in os.listdir("/proc/self/task")]
    except OSError:
        return [0]


def _set(tids: list[int], policy: int, only_from: int) -> None:
    for tid in tids:
        try:
            if os.sched_getscheduler(tid) == only_from:
                os.sched_setscheduler(tid, policy, os.sched_param(0))
        except OSError:  # the thread ended meanwhile, or the system refuses: it keeps its policy
            pass


_holders = 0  # pools that asked to yield and have not closed yet
_before: int | None = None  # the policy before the first of them asked
_yielded = False  # whether that first one changed it


def yield_to_workers() -> int | None:
    """Put every thread of this process under SCHED_BATCH if all run the default policy.

    Returns the policy the workers should run under: the process's own
    before any pool yielded (None where there are no policies). Each call is
    paired with a :func:`stop_yielding`.
    """
    global _holders, _before, _yielded
    if not supported():
        return None
    if not _holders:
        tids = _threads()
        _before = current()
        try:
            _yielded = all(os.sched_getscheduler(tid) == _OTHER for tid in tids)
        except OSError:
            _yielded = False
        if _yielded:
            _set(tids, _BATCH, only_from=_OTHER)
    _holders += 1
    return _before


def stop_yielding() -> None:
    """Once the last pool that yielded closes: every thread back to the default (new ones inherited BATCH)."""
    global _holders, _yielded
    if not _holders:
        return
    _holders -= 1
    if not _holders and _yielded:
        _yielded = False
        _set(_threads(), _OTHER, only_from=_BATCH)


def adopt(policy: int | None) -> None:
    """In a worker: run under ``policy`` (the crawl process's own before it yielded), if it can."""
    if policy is None or not supported() or os.sched_getscheduler(0) == policy:
        return
    try:
        os.sched_setscheduler(0, policy, os.sched_param(0))
    except OSError:  # e.g. leaving SCHED_IDLE unprivileged: the worker runs as it was forked
        pass
