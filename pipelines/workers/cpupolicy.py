"""Scheduling policy of the crawl process against its extraction workers (Linux, opt-in: EXTRACT_WORKERS_FIRST).

The crawl process wakes up many times per page (each socket read, each
result from a worker, the WARC and store threads), and under the default
policy each wake-up preempts a worker in the middle of a page: ten or more
context switches per page. Under ``SCHED_BATCH`` a wake-up does not preempt;
the crawl process runs when a core is free or at the next tick, and then
handles several events at once. It keeps its fair share of CPU, so downloads
do not starve. Measured on 2 cores, `make bench` side by side
(bench/RESULTS.md): 11-17% less CPU in the crawl process per page (5.5 to
4.7-5.0 ms on 2026-12-04); pages/s +5% on 2026-12-01, no gain beyond the
machine's noise on 2026-12-04 (68.6 against 68.4 pages/s). Under the 3% a
default that changes a process's policy would have to earn: opt-in.

Only a process that runs under the default policy is changed: a user who
started the crawl under ``chrt`` or as ``SCHED_IDLE`` chose for it. Workers
take the policy the crawl process had before, since they are forked from a
forkserver that may have started under either.
"""

from __future__ import annotations

import os
import sys

# a scheduling policy and its priority, as sched_setscheduler takes them
Policy = tuple[int, int]


def supported() -> bool:
    """Linux only: elsewhere the numbers mean other policies (FreeBSD's 3 is round-robin real time)."""
    return sys.platform.startswith("linux") and hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_BATCH")


def _threads() -> list[int]:
    """This process's thread ids; a policy is set per thread, and new threads inherit their creator's."""
    try:
        return [int(tid) for tid in os.listdir("/proc/self/task")]
    except OSError:
        return [0]


def _policy_of(tid: int) -> int | None:
    """A thread's policy; None once it has ended."""
    try:
        return os.sched_getscheduler(tid)
    except ProcessLookupError:
        return None


def _set(tids: list[int], policy: int, only_from: int) -> None:
    for tid in tids:
        try:
            if os.sched_getscheduler(tid) == only_from:
                os.sched_setscheduler(tid, policy, os.sched_param(0))
        except OSError:  # the thread ended meanwhile, or the system refuses: it keeps its policy
            pass


_holders = 0  # pools that asked to yield and have not closed yet
_before: Policy | None = None  # the process's policy before the first of them asked
_yielded = False  # whether that first one changed it


def _own() -> Policy | None:
    """The calling thread's policy and priority, for workers to copy; None when they should not.

    A process that asked for SCHED_RESET_ON_FORK wants its children under
    the default policy, which is what a fork gives them: nothing to copy.
    """
    try:
        policy = os.sched_getscheduler(0)
        priority = os.sched_getparam(0).sched_priority
    except OSError:
        return None
    if policy & getattr(os, "SCHED_RESET_ON_FORK", 0):
        return None
    return policy, priority


def worker_policy() -> Policy | None:
    """What workers should run under: the process's own policy, as it was before any pool yielded."""
    if not supported():
        return None
    return _before if _holders else _own()


def yield_to_workers() -> None:
    """Put every thread of this process under SCHED_BATCH if all run the default policy.

    Each call is paired with a :func:`stop_yielding`.
    """
    global _holders, _before, _yielded
    if not supported():
        return
    if not _holders:
        tids = _threads()
        _before = _own()
        try:
            policies = [policy for policy in map(_policy_of, tids) if policy is not None]
        except OSError:  # a system that will not even tell: leave it alone
            policies = [-1]
        _yielded = _before is not None and all(policy == os.SCHED_OTHER for policy in policies)
        if _yielded:
            _set(tids, os.SCHED_BATCH, only_from=os.SCHED_OTHER)
    _holders += 1


def stop_yielding() -> None:
    """Once the last pool that yielded closes: every thread back to the default (new ones inherited BATCH)."""
    global _holders, _yielded
    if not _holders:
        return
    _holders -= 1
    if not _holders and _yielded:
        _yielded = False
        _set(_threads(), os.SCHED_OTHER, only_from=os.SCHED_BATCH)


def adopt(policy: Policy | None) -> None:
    """In a worker: run under ``policy`` (the crawl process's own before it yielded), if it can."""
    if policy is None or not supported():
        return
    try:
        if (os.sched_getscheduler(0), os.sched_getparam(0).sched_priority) != policy:
            os.sched_setscheduler(0, policy[0], os.sched_param(policy[1]))
    except OSError:  # e.g. leaving SCHED_IDLE unprivileged: the worker runs as it was forked
        pass
