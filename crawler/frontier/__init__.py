"""A shared frontier: with ``FRONTIER_URL=redis://host:port/db``, many ``scrapy crawl`` workers share one crawl.

The :class:`Frontier` add-on (``ADDONS``) switches the scheduler and the
dupefilter to scrapy-redis, which keeps the queue of requests and the
fingerprints of requests seen in Redis. Spiders run unchanged, their own
``async start()`` included: we use neither scrapy-redis' ``RedisSpider`` (it
reads start URLs from a Redis list, only when the spider is idle, since
Scrapy 2.13 no longer calls its ``start_requests``) nor its idle logic (a timer
set when its module is imported). Around scrapy-redis (see the modules):

- the first worker of a crawl queues the start requests; the others wait for the queue (scheduler.SeedOnceMiddleware)
- a worker stops once the crawl has had nothing queued and no worker busy for FRONTIER_IDLE_TIMEOUT seconds
- the last worker to stop marks the crawl finished and deletes its queue and dupefilter; an abandoned crawl's
  keys expire FRONTIER_EXPIRE seconds after its last heartbeat (state.py)
- when Redis fails, a worker finishes what it has in hand, stores it, and stops with finish reason
  ``frontier_lost`` and exit code 1; started again, the workers continue the crawl

``scrapy replay`` workers share units of the archive instead of requests (units.py, crawler.archive.work): for
its spider the add-on only names the worker.
"""

from __future__ import annotations

import os
import re
import socket
from typing import Any, cast
from urllib.parse import urlsplit

from crawler.errors import ConfigError
from crawler.redact import redact  # the URL without its password, for messages and logs

FRONTIER_LOST = "frontier_lost"  # finish reason: Redis failed under a running worker
FRONTIER_FINISHED = "frontier_finished"  # finish reason: the crawl this worker was to join had ended
FAILURES = (FRONTIER_LOST, FRONTIER_FINISHED)
SEED_MIDDLEWARE = "crawler.frontier.scheduler.SeedOnceMiddleware"
REDIS_PARAMS = {
    # seconds; Redis calls run on the reactor thread: a stalled Redis must not freeze a worker for long
    "socket_timeout": 10,
    "socket_connect_timeout": 10,
    "health_check_interval": 30,
}


def default_worker_id() -> str:
    """``<host>-<pid>``: unique among the workers of a crawl, and says where each one ran."""
    worker = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{socket.gethostname()}-{os.getpid()}").strip("-.")
    return worker[-60:] if worker[:1].isalnum() else f"w-{worker}"[-60:]


class Frontier:
    """Scrapy add-on: FRONTIER_URL switches scheduler and dupefilter to scrapy-redis, keys named per crawl."""

    def __init__(self, crawler: Any):
        self.crawler = crawler  # the worker is made from its settings once they are final (see worker)
        self._worker: Any = None

    @property
    def worker(self) -> Any:
        """This process's :class:`crawler.frontier.worker.FrontierWorker`, made at the first need."""
        if self._worker is None:
            from crawler.frontier.worker import FrontierWorker

            self._worker = FrontierWorker.from_crawler(self.crawler)
        return self._worker

    @classmethod
    def from_crawler(cls, crawler: Any) -> Frontier:
        return cls(crawler)

    def update_settings(self, settings: Any) -> None:
        url = settings.get("FRONTIER_URL") or ""
        if not url:
            return
        from crawler.frontier.scheduler import SeedOnceMiddleware
        from crawler.frontier.state import CrawlKeys

        crawl = settings.get("CRAWL_ID") or ""
        if not crawl:
            raise ConfigError(missing_crawl_id())
        if not settings.get("WORKER_ID"):
            settings.set("WORKER_ID", default_worker_id(), priority=settings.getpriority("WORKER_ID") or "addon")
        if not getattr(self.crawler.spidercls, "shares_requests", True):
            return  # a replay shares units of the archive (crawler.archive.work), not requests
        keys = CrawlKeys.of(self.crawler.spidercls.name, crawl)
        params = {**REDIS_PARAMS, **settings.getdict("REDIS_PARAMS")}
        settings.setdict(
            {
                "SCHEDULER": "crawler.frontier.scheduler.FrontierScheduler",
                "SCHEDULER_QUEUE_CLASS": "crawler.frontier.scheduler.FrontierQueue",
                "SCHEDULER_QUEUE_KEY": keys.requests,
                "SCHEDULER_DUPEFILTER_KEY": keys.dupefilter,
                "SCHEDULER_PERSIST": True,  # the queue outlives any one worker
                "SCHEDULER_FLUSH_ON_START": False,
                "SCHEDULER_IDLE_BEFORE_CLOSE": 0,  # never a blocking pop on the reactor thread
                "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
                "REDIS_URL": url,
                "REDIS_PARAMS": params,
            },
            priority=settings.getpriority("FRONTIER_URL"),  # as strong as the switch itself
        )
        # outermost, so that in a worker that only joins the crawl the spider's start() never runs
        settings.setdefault_in_component_priority_dict("SPIDER_MIDDLEWARES", SeedOnceMiddleware, 0)


def redis_client(settings: Any) -> Any:
    """A client of the frontier's Redis, with the frontier's connection parameters (REDIS_PARAMS)."""
    import redis

    params = {**REDIS_PARAMS, **settings.getdict("REDIS_PARAMS")}
    return redis.Redis.from_url(settings.get("FRONTIER_URL"), **params)


def missing_crawl_id() -> str:
    return ("setting FRONTIER_URL is set but CRAWL_ID is not: the workers of one crawl share one "
            "CRAWL_ID (e.g. -s CRAWL_ID=nypost-2026-11-22)")


def check_frontier_settings(settings: Any, needs_crawl_id: bool = True) -> None:
    """FRONTIER_URL looks like a Redis URL and comes with a CRAWL_ID (no network: ``crawl`` and ``schedule`` checks)."""
    url = settings.get("FRONTIER_URL") or ""
    if not url:
        return
    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(f"setting FRONTIER_URL={redact(url)!r}: expected redis://host:port/db")
    if needs_crawl_id and not settings.get("CRAWL_ID"):
        raise ConfigError(missing_crawl_id())


def check_frontier(settings: Any, spider: str) -> None:
    """Before a crawl starts: Redis answers, and the crawl to join has not finished. ConfigError otherwise."""
    url = settings.get("FRONTIER_URL") or ""
    if not url:
        return
    import redis

    from crawler.frontier.state import CrawlKeys

    check_frontier_settings(settings)
    crawl = settings.get("CRAWL_ID")
    try:
        server = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=10, decode_responses=True)
        # a str with decode_responses=True, which redis-py's annotations (bytes | str) cannot follow
        finished = cast("str | None", server.get(CrawlKeys.of(spider, crawl).finished))
        server.close()
    except (redis.RedisError, ValueError) as exc:
        raise ConfigError(f"setting FRONTIER_URL={redact(url)}: cannot use Redis there: {exc}") from None
    if finished:
        what, again = (
            (f"replay {crawl!r}", "replay")
            if spider == "replay"
            else (f"crawl {crawl!r} of spider {spider!r}", "crawl")
        )
        raise ConfigError(f"{what} finished at {finished} (on {redact(url)}): give a new CRAWL_ID to {again} again")
