"""The units of work of ``scrapy replay``: planned once, taken one at a time, each done once every page read
from it has gone through the pipelines.

In one process (no ``FRONTIER_URL``) the units are the archive's files, in order, and nothing else changes.
With ``FRONTIER_URL`` and ``CRAWL_ID``, workers on any number of machines share one replay through Redis
(crawler.frontier.units): the first plans it, each takes a unit (a WARC file, or spans of a large one) under
a lease that its heartbeat renews, and marks it done when the unit's last page is stored. A killed worker's
unit goes to another once its lease runs out; a worker that stops (Ctrl-C, SIGTERM, Redis gone) hands back
what it held. A worker stops when no unit is left to take and no other worker holds one; the first to stop
then marks the replay finished and, for ``--diff``, writes the report of the whole replay to the store
(``diffs/<crawl-id>.json``): the sum of every unit's report, each counted once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import redis
from scrapy import signals
from scrapy.exceptions import CloseSpider
from scrapy.utils.asyncio import create_looping_call

from crawler.extensions.progress import progress_line
from crawler.frontier import FRONTIER_FINISHED, redact, redis_client
from crawler.frontier.units import ReplayKeys, SharedReplay, View
from crawler.frontier.worker import BEAT_SECONDS, redis_lost
from pipelines.archive.select import Unit
from pipelines.document.render import iso_utc
from pipelines.storage import storage_from_settings
from pipelines.store import DiffReport

if TYPE_CHECKING:
    from scrapy.utils.asyncio import AsyncioLoopingCall
    from twisted.internet.task import LoopingCall

logger = logging.getLogger("crawler.frontier")
progress_logger = logging.getLogger("progress")

MAX_HELD = 2  # units a worker of a shared replay holds: one it reads, one whose last pages are in the pipelines
WAIT_SECONDS = 0.25  # between looks at a replay another worker is planning: workers start alike
DIFF_KEY = "diffs/{crawl}.json"  # the report of a shared replay --diff, in the store


@dataclass
class Pending:
    """A unit being read, or whose pages are still in the pipelines."""

    unit: Unit
    tokens: set[str] = field(default_factory=set)  # its requests not finished yet
    read: bool = False
    diff: DiffReport | None = None  # with --diff: this unit's part of the report
    lapsed_from: str = ""  # the worker that held the unit before (killed, or stopped), if any


class ReplayWork:
    """One process's share of a replay; made by the replay spider (``spider.work``).

    ``diff``: a ``--diff`` replay (REPLAY_DIFF), whose documents carry their outcome (``document.diff``);
    ``storage``: where the whole replay's ``--diff`` report goes. The crawler is kept for what only it
    can do: close the spider when Redis is lost.
    """

    def __init__(self, crawler: Any, crawl: str, stats: Any, storage: Any = None, diff: bool = False,
                 progress_interval: float = 0, shared: SharedReplay | None = None, url: str = "",
                 unit_bytes: int | None = None):
        self.crawler = crawler
        self._crawl = crawl
        self.stats = stats
        self.storage = storage
        self.diff = diff
        self.progress_interval = progress_interval
        self.shared = shared
        self.url = url
        self.unit_bytes = unit_bytes  # cut files larger than this into units (shared replays only)
        self.units: list[Unit] = []  # one process: what is left of the plan
        self.pending: dict[str, Pending] = {}
        self.failed = False
        self.stopping = False
        self.view: View | None = None
        self.whole_diff: DiffReport | None = None  # the finisher's report of the whole replay (--diff)
        self.started = time.monotonic()
        self.beats: LoopingCall | AsyncioLoopingCall | None = None  # a shared replay's heartbeat
        self.progress: LoopingCall | AsyncioLoopingCall | None = None
        for handler, signal in ((self.item_scraped, signals.item_scraped), (self.item_dropped, signals.item_dropped),
                                (self.item_dropped, signals.item_error), (self.spider_error, signals.spider_error),
                                (self.spider_closed, signals.spider_closed)):
            crawler.signals.connect(handler, signal=signal)

    @classmethod
    def from_crawler(cls, crawler: Any) -> ReplayWork:
        settings = crawler.settings
        crawl = settings["CRAWL_ID"]
        plain = {"stats": crawler.stats, "storage": storage_from_settings(settings),
                 "diff": settings.getbool("REPLAY_DIFF"), "progress_interval": settings.getfloat("PROGRESS_INTERVAL")}
        url = settings.get("FRONTIER_URL") or ""
        if not url:
            return cls(crawler, crawl, **plain)
        shared = SharedReplay(redis_client(settings), ReplayKeys.of(crawl), settings.get("WORKER_ID"),
                              settings.getint("FRONTIER_EXPIRE"), settings.getfloat("REPLAY_LEASE"))
        return cls(crawler, crawl, **plain, shared=shared, url=url, unit_bytes=settings.getint("REPLAY_UNIT_SIZE"))

    @property
    def crawl(self) -> str:
        return self.shared.keys.crawl if self.shared else self._crawl

    # --- planning, taking units -------------------------------------------------------------------

    async def open(self, plan: Callable[[int | None], list[Unit]]) -> bool:
        """Plan the replay (one process; the first worker of a shared one) or join it. False: nothing to do."""
        if self.shared is None:
            self.units = list(await asyncio.to_thread(plan, None))
            return True
        self.beats = create_looping_call(self.beat)
        self.beats.start(BEAT_SECONDS, now=True)  # registers this worker and its progress at once
        interval = self.progress_interval
        if interval > 0:
            self.progress = create_looping_call(self.log_view)
            self.progress.start(interval, now=False)
        while not self.failed and not self.stopping:
            try:
                role, found = self.shared.join()
            except redis.RedisError as exc:
                self.fail(exc, "joining the replay")
                return False
            if role == "finished":
                logger.error("replay %s already finished on %s at %s: give a new CRAWL_ID to replay again",
                             self.crawl, redact(self.url), found)
                raise CloseSpider(FRONTIER_FINISHED)
            if role == "join":
                logger.info("replay %s: worker %s joined", self.crawl, self.shared.worker)
                return True
            if role == "wait":
                await asyncio.sleep(WAIT_SECONDS)
                continue
            if found:
                logger.info("replay %s: the planner (%s) stopped beating; worker %s plans the replay again",
                            self.crawl, found.removeprefix("planning "), self.shared.worker)
            units = await asyncio.to_thread(plan, self.unit_bytes)
            try:
                if self.shared.add([(unit.id, unit.as_json()) for unit in units]) and self.shared.planned():
                    logger.info("replay %s: worker %s planned %d unit(s) of work", self.crawl, self.shared.worker,
                                len(units))
                    return True
            except redis.RedisError as exc:
                self.fail(exc, "planning the replay")
                return False
            logger.warning("replay %s: another worker took over the plan; joining it", self.crawl)
        return False

    async def next_unit(self) -> Unit | None:
        """The next unit to read, or None when the replay has none left (or this worker stops)."""
        if self.shared is None:
            return self._start(self.units.pop(0)) if self.units and not self.stopping else None
        while not self.failed and not self.stopping:
            if len(self.pending) >= MAX_HELD:  # take more only once the pipelines are through with the oldest
                await asyncio.sleep(0.05)
                continue
            try:
                answer = self.shared.take()
            except redis.RedisError as exc:
                self.fail(exc, "taking a unit of work")
                return None
            if isinstance(answer, tuple):
                return self._start(Unit.from_json(answer[1]), answer[2])
            if answer == 0 and not self.pending:
                return None  # none left to take, and no worker holds one whose lease could run out
            await asyncio.sleep(BEAT_SECONDS / 2)  # a lease of a killed worker may run out: ask again
        return None

    def _start(self, unit: Unit, lapsed_from: str = "") -> Unit:
        diff = DiffReport() if self.diff else None
        self.pending[unit.id] = Pending(unit, diff=diff, lapsed_from=lapsed_from)
        if lapsed_from and self.shared is not None:  # only a shared replay's units lapse
            logger.info("replay %s: worker %s takes unit %s, which worker %s held and did not finish", self.crawl,
                        self.shared.worker, unit.id, lapsed_from)
        return unit

    def lapsed_from(self, unit: Unit) -> str:
        """The worker that held a unit before this one took it ("" for a fresh unit)."""
        pending = self.pending.get(unit.id)
        return pending.lapsed_from if pending else ""

    # --- following each page of a unit through the pipelines -----------------------------------------

    def sent(self, unit: Unit, token: str) -> None:
        self.pending[unit.id].tokens.add(token)

    def read(self, unit: Unit) -> None:
        """Every page of the unit was read and handed to the engine."""
        pending = self.pending.get(unit.id)
        if pending is not None:
            pending.read = True
            self._maybe_done(pending)

    def finished(self, meta: dict[str, Any]) -> None:
        """A page of a unit is through: stored, dropped, failed, or gave no item."""
        pending = self.pending.get(meta.get("replay_unit", ""))
        if pending is not None:
            pending.tokens.discard(meta.get("replay_token"))
            self._maybe_done(pending)

    def item_scraped(self, item: Any, response: Any, spider: Any = None) -> None:
        outcome = getattr(item, "diff", None)  # set by DiffPipeline
        meta = _meta(response)
        pending = self.pending.get(meta.get("replay_unit", ""))
        if outcome is not None and pending is not None and pending.diff is not None:
            pending.diff.add(outcome)
        self.finished(meta)

    def item_dropped(self, item: Any, response: Any, spider: Any = None, **kwargs: Any) -> None:
        self.finished(_meta(response))

    def spider_error(self, failure: Any, response: Any, spider: Any = None) -> None:
        self.finished(_meta(response))

    def _maybe_done(self, pending: Pending) -> None:
        if not pending.read or pending.tokens:
            return
        del self.pending[pending.unit.id]
        self.stats.inc_value("replay/units")
        if self.shared is None or self.failed:
            return
        report = pending.diff or DiffReport()
        changes = [json.dumps(change, ensure_ascii=False, default=str) for change in report.changes]
        try:
            left = self.shared.done(pending.unit.id, report.flat_counts(), changes, report.max_listed)
        except redis.RedisError as exc:
            self.fail(exc, "marking a unit done")
            return
        if left < 0:
            self.stats.inc_value("replay/units_lost")
            logger.warning("replay %s: unit %s was done here after its lease ran out and another worker took it: "
                           "it is done twice (the same documents; --diff counts it once)", self.crawl, pending.unit.id)

    # --- heartbeat, the whole replay's view ---------------------------------------------------------------

    def beat(self) -> None:
        if self.failed or self.shared is None:  # beats are started for a shared replay only
            return
        line = progress_line(self.stats.get_stats(), time.monotonic() - self.started)
        try:
            self.view = self.shared.beat(bool(self.pending), line, list(self.pending))
        except redis.RedisError as exc:
            self.fail(exc, "sending its heartbeat")

    def log_view(self) -> None:
        if self.view is not None:
            progress_logger.info(self.view.line(self.crawl))

    def fail(self, exc: Exception, doing: str) -> None:
        """Redis is unusable: say so once, take no more units, close with finish reason frontier_lost."""
        if not self.failed:
            self.failed = True
            redis_lost(self.crawler, self.url, self.crawl, exc, doing, work="replay")

    # --- leaving ------------------------------------------------------------------------------------------

    def spider_closed(self, spider: Any = None, reason: str = "") -> None:
        self.stopping = True
        for loop in (self.beats, self.progress):
            if loop is not None and loop.running:
                loop.stop()
        if self.shared is None or self.failed:
            return
        try:
            finisher = self.shared.leave(iso_utc(datetime.now(UTC)))
        except redis.RedisError as exc:
            logger.warning("replay %s: could not unregister worker %s from %s: %s", self.crawl, self.shared.worker,
                           redact(self.url), exc)
            return
        if not finisher:
            return
        logger.info("replay %s finished: every unit is done", self.crawl)
        if self.diff:
            self.write_whole_diff(self.shared)

    def write_whole_diff(self, shared: SharedReplay) -> None:
        """The report of the whole replay --diff: every unit's counts, summed in Redis, as one file in the store."""
        try:
            counts, changes = shared.diff()
        except redis.RedisError as exc:
            logger.error("replay %s: could not read the summed --diff report from Redis: %s", self.crawl, exc)
            return
        report = DiffReport.from_parts(counts, changes)
        key = DIFF_KEY.format(crawl=self.crawl)
        document = {"crawl_id": self.crawl, "finished": iso_utc(datetime.now(UTC)), **report.as_json()}
        try:
            self.storage.put(key, (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode(),
                             "application/json")
        except Exception as exc:  # the report is on stdout too; the store's trouble must not hide it
            logger.error("replay %s: could not write %s: %s", self.crawl, key, exc)
            return
        self.whole_diff = report
        shared.forget_diff()
        logger.info("replay %s: the whole replay's --diff report is %s", self.crawl,
                    self.storage.describe(key))


def _meta(response: Any) -> dict[str, Any]:
    """The request meta of a response (or of a failure's request): where a page's unit and token are."""
    try:
        return response.meta
    except AttributeError:
        request = getattr(response, "request", None)
        return getattr(request, "meta", {}) or {}
