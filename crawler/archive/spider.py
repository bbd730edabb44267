"""The spider behind ``scrapy replay``: archived responses through the same path as live ones.

It reads the archive unit by unit (crawler.archive.work: a WARC file, or spans
of one; in one process, every file in turn) in a thread, keeps the records a
selection wants (pipelines.archive.select), and turns each archived article
response into a request that ReplayMiddleware answers from memory; the
response then passes the same middlewares and the same ``parse_article`` as
in the live crawl, and its items the same pipelines. Nothing reaches the
network.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import queue
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import scrapy
from scrapy.exceptions import CloseSpider

from crawler.archive.replay import open_store_prefix
from crawler.archive.work import ReplayWork
from crawler.spiders.base import ROLE_ARTICLE, ArticleSpider
from pipelines.archive.files import ArchiveFile, ReadCounter, archive_files
from pipelines.archive.reader import ArchivedResponse, is_article, iter_exchanges
from pipelines.archive.select import Selection, Unit, file_captures, plan_units, published_pages
from pipelines.report.runlog import OLDER_COPY, printable
from pipelines.storage import StorageError, storage_from_settings
from pipelines.storage.index import manifest_records

logger = logging.getLogger(__name__)

_DONE = object()


class UnitFailed(Exception):
    """A unit that could not be read: a broken file (unreadable_warc) or an unreachable store."""

    def __init__(self, file: str, cause: Exception):
        # warcio quotes the bytes it could not parse: one short line is enough to name the problem
        text = (str(cause).splitlines() or [type(cause).__name__])[0]
        super().__init__(f"{file}: {printable(text)}")
        # botocore's and urllib3's errors (a body that stops coming) are no built-in ConnectionError
        unreachable = isinstance(cause, (StorageError, ConnectionError, TimeoutError)) or any(
            kind.__module__.split(".")[0] in ("botocore", "urllib3") for kind in type(cause).__mro__)
        self.reason = "archive_unreachable" if unreachable else "unreadable_warc"


class RecordSkipped(Exception):
    """One record of a unit that cannot be replayed (no target URI): counted as ``unreadable_warc``, as a
    record cut short is, and the unit is read on."""

    reason = "unreadable_warc"

    def __init__(self, file: str, problem: str):
        super().__init__(f"{file}: {printable(problem)}")


class ReplaySpider(ArticleSpider):
    name = "replay"
    arguments = ("source", "selection")
    shares_requests = False  # workers of one replay share units of the archive, not requests (crawler.frontier)

    def __init__(self, *args: Any, source: str = "", selection: Selection | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.source = source
        self.selection = selection or Selection()
        self._work: ReplayWork | None = None
        self.waiting = 0  # requests handed to the engine whose page is not through parse_replayed yet
        self.latest: dict[str, str] = {}  # url -> WARC-Date replayed, so an older copy never wins
        self.files: dict[str, ArchiveFile] = {}
        self.read_bytes = ReadCounter()  # WARC bytes read
        self.records_read = ReadCounter()  # responses read (counted in reader threads, reported between units)
        self.index_bytes = ReadCounter()  # CDXJ indexes and manifests read (and WARCs read to index them)
        self._published: set[tuple[str, str]] | None = None
        self._published_lock = threading.Lock()
        self.run_arguments = {"source": source, **({"selection": self.selection.describe()}
                                                   if not self.selection.everything else {})}

    @property
    def work(self) -> ReplayWork:
        """This process's share of the replay: made once the crawl runs (its settings and stats are final)."""
        if self._work is None:
            self._work = ReplayWork.from_crawler(self.crawler)
        return self._work

    async def start(self) -> AsyncIterator[scrapy.Request]:
        work = self.work
        try:
            if not await work.open(self.plan):
                return
            if not self.files:  # a worker that joined a replay another one planned
                self.files = await asyncio.to_thread(self.list_files)
        except CloseSpider:
            raise
        except Exception as exc:  # the archive cannot be listed (S3 down, a broken WACZ): say so, replay nothing
            failure = UnitFailed(self.source, exc)
            self.count_error(failure.reason, f"cannot read the archive: {failure}", archive=str(failure))
            return
        tokens = itertools.count()
        while (unit := await work.next_unit()) is not None:
            if work.lapsed_from(unit) and not work.diff:
                # what the worker before stored of this unit: known first, so that it is found unchanged
                index = self.archive_index()
                await asyncio.to_thread(index.sync, work.storage)
            async for request in self.unit_requests(work, unit, tokens):
                yield request
            work.read(unit)
            stats = self.crawler.stats
            for name, read in (("records", self.records_read), ("bytes_read", self.read_bytes),
                               ("index_bytes", self.index_bytes)):
                stats.set_value(f"replay/{name}", read.bytes)

    # --- planning --------------------------------------------------------------------------------------

    def list_files(self) -> dict[str, ArchiveFile]:
        opener = partial(open_store_prefix, settings=self.crawler.settings)
        return {file.name: file for file in archive_files(self.source, opener)}

    def plan(self, unit_bytes: int | None) -> list[Unit]:
        """The units of this replay, from the archive's files and indexes (in a thread)."""
        self.files = self.list_files()
        selection = self.selection
        if unit_bytes:  # the sizes of the files that could be cut (one HEAD each on S3), asked at once
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(ArchiveFile.size, [file for file in self.files.values() if file.indexed]))
        published = self.published() if selection.published else None
        units = plan_units(self.files.values(), selection, unit_bytes,
                           partial(file_captures, build=selection.by_record, counter=self.index_bytes), published)
        if not selection.everything:
            logger.info("replay of %s: %d unit(s) hold the records selected (%s)", self.source, len(units),
                        selection.describe())
        return units

    def published(self) -> set[tuple[str, str]]:
        """The pages published in the selected range, from the manifests of the store the archive belongs to."""
        with self._published_lock:
            if self._published is None:
                storage, prefix = source_store(self.source, self.crawler.settings)
                lines = []
                for key in storage.list(f"{prefix}/manifest".strip("/")):
                    if key.endswith(".jsonl"):
                        data = storage.get(key) or b""
                        self.index_bytes.add(len(data))
                        lines += manifest_records(data, storage.describe(key))
                self._published = published_pages(lines, self.selection.published_since,
                                                  self.selection.published_until)
            return self._published

    # --- reading a unit ------------------------------------------------------------------------------

    async def unit_requests(self, work: ReplayWork, unit: Unit, tokens: Iterator[int]) -> AsyncIterator[scrapy.Request]:
        limit = max(8, 2 * self.crawler.settings.getint("CONCURRENT_REQUESTS"))
        records: queue.Queue = queue.Queue(maxsize=limit)
        reader = threading.Thread(target=self._read, args=(unit, records), name="warc-reader", daemon=True)
        reader.start()
        loop = asyncio.get_running_loop()
        while True:
            item = await loop.run_in_executor(None, records.get)
            if item is _DONE:
                break
            if isinstance(item, UnitFailed):
                self.count_error(item.reason, f"cannot read the archive: {item}", archive=str(item))
                continue
            if isinstance(item, RecordSkipped):
                self.count_error(item.reason, f"unreadable record skipped: {item}", archive=str(item))
                continue
            response: ArchivedResponse = item
            stamp = response.fetched.isoformat()
            if self.latest.get(response.url, "") > stamp:  # a newer capture of the page was replayed already
                self.count_failure("skipped", OLDER_COPY, response.url, response.meta.get("site", ""))
                continue
            self.latest[response.url] = stamp
            while self.waiting >= limit:  # backpressure: the engine has not taken the last ones yet
                await asyncio.sleep(0.005)
            token = str(next(tokens))
            self.waiting += 1
            work.sent(unit, token)
            yield scrapy.Request(
                response.url,
                callback=self.parse_replayed,
                errback=self.on_replay_error,
                dont_filter=True,
                meta={
                    "archived": response,  # ReplayMiddleware answers the request with it
                    "replay_token": token,
                    "replay_unit": unit.id,
                    "role": ROLE_ARTICLE,
                    "hints": response.meta.get("hints", {}),
                    "site": response.meta.get("site", ""),
                },
            )

    def _read(self, unit: Unit, records: queue.Queue) -> None:
        """Put the responses of a unit that the selection wants on ``records`` (in a thread)."""
        try:
            file = self.files.get(unit.file)
            if file is None:
                raise FileNotFoundError(f"{unit.file} is not in {self.source}: the workers of one replay "
                                        "must be given the same archive")
            logger.info("replaying %s", unit.file if not unit.spans else f"{unit.file} ({unit.records} records)")
            check = not self.selection.everything
            published = self.published() if check and self.selection.published else None
            skipped = partial(_put_skipped, records, unit.file)
            responses = 0
            for start, end in unit.spans or [(0, None)]:
                opened = file.open(self.read_bytes) if not unit.spans else file.open_range(start, end, self.read_bytes)
                with opened as stream:
                    for response in iter_exchanges(stream, skipped):
                        responses += 1
                        self.records_read.add(1)
                        # sitemaps, feeds and pages judged not articles stop here, not on the reactor
                        if is_article(response) and (not check or self.selection.wants_response(response, published)):
                            records.put(response)
            if not responses and not unit.spans and file.size() == 0:  # no WARC at all, not one without pages
                raise EOFError("the file is empty")
        except Exception as exc:  # a broken file, or a store that stopped answering: say which, go on
            records.put(UnitFailed(unit.file, exc))
        finally:
            records.put(_DONE)

    # --- each page's end, for the unit's bookkeeping ------------------------------------------------------

    def parse_replayed(self, response: scrapy.http.Response) -> Iterator[Any]:
        self.waiting -= 1
        produced = False
        try:
            for item in self.parse_article(response):
                produced = True
                yield item
        finally:
            if not produced:  # no item: the page is through (an item's end is a pipeline signal)
                self.work.finished(response.meta)

    def on_replay_error(self, failure: Any) -> None:
        self.waiting -= 1
        try:
            self.on_error(failure)
        finally:
            self.work.finished(failure.request.meta)


def _put_skipped(records: queue.Queue, file: str, problem: str) -> None:
    records.put(RecordSkipped(file, problem))  # counted on the reactor thread, as a unit that failed


def source_store(source: str, settings: Any) -> tuple[Any, str]:
    """(storage, prefix) of the store an archive location belongs to: ``<store>/warc`` -> ``<store>``."""
    location = source.rstrip("/")
    if location.rsplit("/", 1)[-1] == "warc":
        location = location[: -len("warc")].rstrip("/") or "."
    if "://" in location and not location.startswith("file://"):
        return open_store_prefix(location, settings)
    return storage_from_settings(settings, location.removeprefix("file://")), ""
