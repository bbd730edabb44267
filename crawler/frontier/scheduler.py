"""The Scrapy components of a shared crawl: scrapy-redis' scheduler and queue, and a start-once middleware.

Compared with scrapy-redis' own classes: a request is marked seen and queued
in one atomic step (never seen-but-lost), it is read before it is removed
(never taken-but-lost), a Redis failure stops the worker cleanly instead of
raising inside the engine, and stats go through the
Scrapy 2.x API (no deprecation warnings).
"""

from __future__ import annotations

import contextlib
import logging
import pickle
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import redis
from scrapy.exceptions import CloseSpider
from scrapy.http import Request
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

from crawler.frontier import FRONTIER_FINISHED, FRONTIER_LOST
from crawler.frontier.state import PUSH_NEW
from crawler.frontier.worker import FrontierWorker, frontier_worker

logger = logging.getLogger("crawler.frontier")


POP_TRIES = 8  # reads of the first request: another worker may remove the one read before this one does
TAKEN_SECONDS = 600  # how long a removal's token stays: the client's retries of one command take seconds

# Remove a request from the queue, once per token: the same call sent again (the client retries a command
# whose answer was lost) finds its token and answers 1, as the removal it repeats did.
TAKE = """
if redis.call('GET', KEYS[2]) == ARGV[2] then return 1 end
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
if removed == 1 then redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3]) end
return removed
"""


class TakenUnanswered(redis.RedisError):
    """Redis failed while removing a request this worker had read: the request is in hand, to be fetched."""

    def __init__(self, request: Request, cause: Exception):
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.request = request


class FrontierQueue(PriorityQueue):
    """scrapy-redis' priority queue, plus queueing a request together with its fingerprint, and a pop that
    never loses a request."""

    def __init__(self, server: Any, spider: Any, key: str, serializer: Any = None):
        super().__init__(server, spider, key, serializer)
        self._push_new = server.register_script(PUSH_NEW)
        self._take = server.register_script(TAKE)
        self._taken_key = f"{key}:taken:{uuid.uuid4().hex}"  # this queue's last removal, for a retry to find
        self._takes = 0

    def push_new(self, request: Request, fingerprint: str, dupefilter_key: str) -> bool:
        """Queue the request unless the fingerprint is in the dupefilter; False when it was."""
        data = self._encode_request(request)
        return bool(self._push_new(keys=[dupefilter_key, self.key], args=[fingerprint, -request.priority, data]))

    def pop(self, timeout: int = 0) -> Request | None:
        """The first request: read, then removed unless another worker removed it first (then the new first).

        scrapy-redis pops in one MULTI/EXEC, which Redis may run and then go away without answering: the
        request was gone from the queue and never reached a worker (a crawl test lost one article of 90 so).
        Read first, the request is in hand before it is removed; when the removal gets no answer, it is
        raised in :class:`TakenUnanswered` and fetched (at worst again after a restart: never lost). The
        Redis client sends a command again when its answer was lost: the removal (:data:`TAKE`) leaves a
        token, so that a removal sent again after it ran says "removed" rather than "another worker took
        it" (which took the next request and lost this one).
        """
        for _ in range(POP_TRIES):
            first = self.server.zrange(self.key, 0, 0)
            if not first:
                return None
            self._takes += 1
            try:
                removed = self._take(keys=[self.key, self._taken_key], args=[first[0], self._takes, TAKEN_SECONDS])
            except redis.RedisError as exc:
                raise TakenUnanswered(self._decode_request(first[0]), exc) from exc
            if removed:
                return self._decode_request(first[0])
        return None  # other workers took every first request read: the engine asks again soon

    def forget_taken(self) -> None:
        """Remove this queue's removal token: only a retry of the last removal could want it."""
        with contextlib.suppress(redis.RedisError):
            self.server.delete(self._taken_key)


class FrontierScheduler(Scheduler):
    """scrapy-redis' scheduler (keys, queue class and Redis URL set by the Frontier add-on)."""

    worker: FrontierWorker
    _failure: TakenUnanswered | None

    @classmethod
    def from_crawler(cls, crawler: Any) -> FrontierScheduler:
        scheduler = super().from_crawler(crawler)
        scheduler.worker = frontier_worker(crawler)
        scheduler._failure = None  # a Redis failure noticed while a request was taken, reported at the next call
        return scheduler

    def open(self, spider: Any) -> None:
        super().open(spider)
        self.worker.start()

    def close(self, reason: str) -> None:
        self.worker.stop()
        if not self.worker.failed:  # a finished crawl leaves no key of this worker behind (else it expires)
            self.queue.forget_taken()
        self.worker.leave(reason)  # the queue and dupefilter stay (SCHEDULER_PERSIST): they belong to the crawl

    def enqueue_request(self, request: Request) -> bool:
        if self.worker.failed:
            self.stats.inc_value("frontier/unsaved")
            return False
        try:
            if request.dont_filter:
                self.queue.push(request)
                added = True
            else:
                added = self.queue.push_new(request, self.df.request_fingerprint(request), self.df.key)
        except redis.RedisError as exc:
            self.worker.fail(exc, f"queueing {request.url}")
            self.stats.inc_value("frontier/unsaved")
            return False
        if not added:
            self.df.log(request, self.spider)
            self.stats.inc_value("dupefilter/filtered")
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        if self._failure is not None:  # the request in hand is being fetched now: the worker can stop
            exc, self._failure = self._failure, None
            self.worker.fail(exc, "taking the next request")
        if self.worker.failed:
            return None
        try:
            request = self.queue.pop()
        except TakenUnanswered as exc:
            # fetched before the worker stops: it is in the engine's hands once this returns, and the close
            # that the failure starts waits for it
            self._failure = exc
            request = exc.request
        except redis.RedisError as exc:
            self.worker.fail(exc, "taking the next request")
            return None
        except (ValueError, AttributeError, pickle.UnpicklingError) as exc:
            # e.g. a worker running other code queued a callback this spider does not have
            logger.error("crawl %s: dropped a queued request this worker cannot read: %s", self.worker.crawl, exc)
            self.stats.inc_value("errors/frontier_bad_request")
            return None
        if request is not None:
            self.stats.inc_value("scheduler/dequeued/redis")
            self.worker.request_taken()
        return request

    def has_pending_requests(self) -> bool:
        if self.worker.failed:
            return False
        try:
            return len(self) > 0
        except redis.RedisError as exc:
            self.worker.fail(exc, "counting queued requests")
            return False


class SeedOnceMiddleware:
    """Spider middleware: the spider's own ``start()`` runs in one worker per crawl; the others take from the queue."""

    def __init__(self, crawler: Any):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> SeedOnceMiddleware:
        return cls(crawler)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        worker = frontier_worker(self.crawler)
        try:
            role = worker.join()
        except redis.RedisError as exc:
            worker.fail(exc, "joining the crawl")
            await close_unread(start)
            raise CloseSpider(FRONTIER_LOST) from None
        if role == "finished":
            await close_unread(start)
            raise CloseSpider(FRONTIER_FINISHED)
        if role == "join":
            await close_unread(start)
            return
        async for item_or_request in start:
            yield item_or_request
        try:
            worker.seeded()
        except redis.RedisError as exc:
            worker.fail(exc, "marking the crawl seeded")


async def close_unread(start: AsyncIterator[Any]) -> None:
    """Close the spider's ``start()`` left unread: its clean-up (``finally``) runs now, not at garbage collection.

    Scrapy hands over an async generator; an iterator of another kind has nothing to close.
    """
    if isinstance(start, AsyncGenerator):
        await start.aclose()
