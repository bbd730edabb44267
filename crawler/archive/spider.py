"""The spider behind ``scrapy replay``: archived responses through the same path as live ones.

It streams WARC records (local files or S3 objects, read in a thread) and
turns each archived article response into a request that ReplayMiddleware
answers from memory; the response then passes the same middlewares and the
same ``parse_article`` as in the live crawl, and its items the same
pipelines. Nothing reaches the network.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import queue
import threading
from functools import partial
from typing import Any, AsyncIterator

import scrapy

from crawler.archive.replay import open_store_prefix
from crawler.spiders.base import ROLE_ARTICLE, ArticleSpider
from pipelines import runtime
from pipelines.archive.reader import ArchivedResponse, is_article, iter_exchanges, warc_sources

logger = logging.getLogger(__name__)

_DONE = object()


class ReplaySpider(ArticleSpider):
    name = "replay"
    arguments = ("source",)

    def __init__(self, *args: Any, source: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.source = source
        self.latest: dict[str, str] = {}  # url -> WARC-Date replayed, so an older copy never wins

    async def start(self) -> AsyncIterator[scrapy.Request]:
        buffer: dict[str, ArchivedResponse] = runtime.shared(self.crawler, "replay_buffer", dict)
        limit = max(8, 2 * self.crawler.settings.getint("CONCURRENT_REQUESTS"))
        records: queue.Queue = queue.Queue(maxsize=limit)
        reader = threading.Thread(target=self._read, args=(records,), name="warc-reader", daemon=True)
        reader.start()
        loop = asyncio.get_running_loop()
        counter = itertools.count()
        while True:
            item = await loop.run_in_executor(None, records.get)
            if item is _DONE:
                break
            if isinstance(item, Exception):
                self.count_error("unreadable_warc", f"cannot read the archive: {item}")
                continue
            response: ArchivedResponse = item
            self.crawler.stats.inc_value("replay/records")
            if not is_article(response):
                continue
            stamp = response.fetched.isoformat()
            if self.latest.get(response.url, "") > stamp:
                continue
            self.latest[response.url] = stamp
            while len(buffer) >= limit:  # backpressure: the engine has not taken the last ones yet
                await asyncio.sleep(0.005)
            token = str(next(counter))
            buffer[token] = response
            yield scrapy.Request(
                response.url,
                callback=self.parse_article,
                errback=self.on_error,
                dont_filter=True,
                meta={
                    "replay_token": token,
                    "role": ROLE_ARTICLE,
                    "hints": response.meta.get("hints", {}),
                    "site": response.meta.get("site", ""),
                },
            )

    def _read(self, records: queue.Queue) -> None:
        try:
            for name, opener in warc_sources(self.source, partial(open_store_prefix, settings=self.crawler.settings)):
                logger.info("replaying %s", name)
                try:
                    with opener() as stream:
                        for response in iter_exchanges(stream):
                            records.put(response)
                except Exception as exc:  # a broken file: say which, go on with the next
                    records.put(RuntimeError(f"{name}: {exc}"))
        except Exception as exc:
            records.put(exc)
        finally:
            records.put(_DONE)
