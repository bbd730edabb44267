"""One worker's part in a shared crawl: join it, beat, notice when the crawl is over, stop cleanly when Redis fails.

Shared by the scheduler and the seed middleware of one crawler (``frontier_worker(crawler)``).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import redis
from scrapy import signals
from scrapy.exceptions import CloseSpider, DontCloseSpider
from scrapy.utils.asyncio import create_looping_call
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis.connection import get_redis_from_settings

from crawler.frontier import FRONTIER_LOST, redact
from crawler.frontier.state import CrawlKeys, SharedCrawl

if TYPE_CHECKING:
    from scrapy.utils.asyncio import AsyncioLoopingCall
    from twisted.internet.task import LoopingCall

logger = logging.getLogger("crawler.frontier")

BEAT_SECONDS = 1.0  # also how soon an idle worker picks up requests that another worker queued


class FrontierWorker:
    def __init__(self, crawler: Any, shared: SharedCrawl, url: str, idle_timeout: float):
        self.crawler = crawler
        self.shared = shared
        self.url = url
        self.idle_timeout = idle_timeout
        self.joined = False
        self.busy = True  # until the engine first finds itself idle
        self.failed = False
        self.quiet_since: float | None = None
        self.loop: LoopingCall | AsyncioLoopingCall | None = None  # the heartbeat, once started
        self.closing = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> FrontierWorker:
        settings = crawler.settings
        keys = CrawlKeys.of(crawler.spidercls.name, settings["CRAWL_ID"])
        shared = SharedCrawl(get_redis_from_settings(settings), keys, settings.get("WORKER_ID"),
                             settings.getint("FRONTIER_EXPIRE"))
        return cls(crawler, shared, settings.get("FRONTIER_URL"), settings.getfloat("FRONTIER_IDLE_TIMEOUT"))

    @property
    def crawl(self) -> str:
        return self.shared.keys.crawl

    # --- joining and seeding (from the seed middleware) -----------------------------------------

    def join(self) -> str:
        role, found = self.shared.join()
        self.joined = True
        stats = self.crawler.stats
        stats.set_value("frontier/role", role)
        if role == "finished":
            logger.error("crawl %s already finished on %s at %s: give a new CRAWL_ID to crawl again",
                         self.crawl, redact(self.url), found)
        elif role == "join":
            logger.info("crawl %s: worker %s joined; another worker queued the start requests",
                        self.crawl, self.shared.worker)
        elif role == "seed":
            logger.info("crawl %s: worker %s is the first and queues the start requests",
                        self.crawl, self.shared.worker)
        else:
            logger.info("crawl %s: worker %s found no live worker (seed state %r) and walks the sources again; "
                        "the dupefilter drops what was queued before", self.crawl, self.shared.worker, found)
        return role

    def seeded(self) -> None:
        self.shared.seeded()

    # --- heartbeat, idleness -------------------------------------------------------------------

    def start(self) -> None:
        self.loop = create_looping_call(self.tick)
        self.loop.start(BEAT_SECONDS, now=False)
        self.crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)

    def stop(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()

    def request_taken(self) -> None:
        self.busy = True
        self.quiet_since = None

    def tick(self) -> None:
        if self.failed or not self.joined:
            return
        try:
            queued, working = self.shared.beat(self.busy)
        except redis.RedisError as exc:
            self.fail(exc, "sending its heartbeat")
            return
        if queued or working:
            self.quiet_since = None
        elif self.quiet_since is None:
            self.quiet_since = time.monotonic()
        # Scrapy looks at an empty scheduler again only every 5 s; requests another worker queued, and the
        # end of the idle timeout, are noticed within one beat this way
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None and slot.closing is None:
            slot.nextcall.schedule()

    def spider_idle(self, spider: Any = None) -> None:
        """Keep the worker open until the whole crawl has been quiet for FRONTIER_IDLE_TIMEOUT seconds."""
        self.busy = False
        if self.failed:
            raise CloseSpider(FRONTIER_LOST)
        if self.quiet_since is None or time.monotonic() - self.quiet_since < self.idle_timeout:
            raise DontCloseSpider

    def leave(self, reason: str) -> None:
        if self.failed or not self.joined:
            return
        when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            if self.shared.leave(drained=reason == "finished", when=when):
                logger.info("crawl %s finished: its queue and dupefilter are deleted from Redis", self.crawl)
        except redis.RedisError as exc:
            logger.warning("crawl %s: could not unregister worker %s from %s: %s",
                           self.crawl, self.shared.worker, redact(self.url), exc)

    # --- failure -------------------------------------------------------------------------------

    def fail(self, exc: Exception, doing: str) -> None:
        """Redis is unusable: say so once, and close this worker with finish reason frontier_lost."""
        if self.failed:
            return
        self.failed = True
        self.closing = redis_lost(self.crawler, self.url, self.crawl, exc, doing)


def redis_lost(crawler: Any, url: str, crawl: str, exc: Exception, doing: str, work: str = "crawl") -> Any:
    """Say once that Redis failed under a worker of a crawl (or a replay), and close it with reason frontier_lost."""
    done = "fetched" if work == "crawl" else "replayed"
    logger.error(
        "frontier: Redis at %s failed while %s (%s: %s); stopping this worker. What it %s is stored; "
        "start the workers again with the same CRAWL_ID=%s once Redis is back to continue the %s",
        redact(url), doing, type(exc).__name__, exc, done, crawl, work,
    )
    crawler.stats.set_value(f"errors/{FRONTIER_LOST}", 1)
    engine = crawler.engine
    if engine is None or engine.spider is None:
        return None
    closing = deferred_from_coro(engine.close_spider_async(reason=FRONTIER_LOST))
    closing.addErrback(lambda failure: logger.error("could not close the spider: %s", failure.value))
    return closing


def frontier_worker(crawler: Any) -> FrontierWorker:
    """This process's worker of the shared crawl, kept by the Frontier add-on (the scheduler and the seed
    middleware both use it)."""
    from crawler.frontier import Frontier

    return crawler.get_addon(Frontier).worker
