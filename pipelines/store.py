"""Store stage: write documents, keep revisions, append the manifest; off the reactor thread.

Layout (contract): ``articles/<site>/<YYYY>/<MM>/<DD>/<urlhash>.txt`` and
``manifest/<crawl-id>.jsonl``, one line per stored article. A revised
article's previous text moves to ``revisions/<site>/<urlhash>/<n>.txt``.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import logging
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from scrapy.exceptions import DropItem

from pipelines.dedup import DedupPipeline, classify, open_index
from pipelines.document.render import parse_document, render, url_hash
from pipelines.extract import page_not_article
from pipelines.item import Document, Page
from pipelines.report.fields import present_fields
from pipelines.report.runlog import OLDER_COPY, count_article, count_failure
from pipelines.storage import AppendLog, Storage, sha256_hex, storage_from_settings
from pipelines.storage.index import VERDICTS, ArchiveIndex

logger = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; charset=utf-8"


def manifest_line(document: Document, data: bytes) -> dict[str, Any]:
    """One line of ``manifest/<run-id>.jsonl`` for a document written as ``data`` (docs/report.md lists the keys).

    ``body_sha256`` is the hash of the body (the paragraphs, without the file's final newline), the one
    dedup compares; ``sha256`` is the hash of the whole file, as ``sha256sum`` and the S3 object's metadata
    give it. ``fields`` (the front-matter keys the document has) and ``body_chars`` feed the report's fill
    rates and body lengths.
    """
    return {
        "url": document.url,
        "key": document.key,
        "body_sha256": document.body_sha256,
        "sha256": sha256_hex(data),
        "title": document.meta.get("title", ""),
        "date": document.meta.get("date", ""),
        "fetched": document.fetched,
        "revision": document.revision,
        "site": document.site,
        "fields": present_fields(document.meta),
        "body_chars": len(document.body),
        **({"fetched_url": document.page_url} if document.page_url and document.page_url != document.url else {}),
    }


def revision_key(document: Document, revision: int) -> str:
    return f"revisions/{document.site}/{url_hash(document.url)}/{revision}.txt"


class ArticleStore:
    """Writes documents through a :class:`Storage`; thread-safe.

    Whether a document is new, unchanged or a revision is decided here, under
    a lock for its URL and with a fresh look at the index, so two copies of
    one article in flight at once (a replay of several crawls, two URLs with
    one canonical URL) are written one after the other, never both as new.
    """

    LOCKS = 64  # URLs share a fixed set of locks: no lock kept per URL

    def __init__(self, storage: Storage, index: ArchiveIndex, manifest_key: str, output_format: str = "frontmatter"):
        self.storage = storage
        self.index = index
        self.manifest_key = manifest_key
        self.verdicts_key = f"{VERDICTS}/{manifest_key.rsplit('/', 1)[-1]}"
        self.output_format = output_format
        self._logs: dict[str, AppendLog] = {}
        self._manifest_lock = threading.Lock()
        self._url_locks = [threading.Lock() for _ in range(self.LOCKS)]

    def save(self, document: Document) -> str:
        """Store a document; returns 'stored', 'revised', 'unchanged' or 'stale' (older than the stored one).

        The dedup stage classified it; under the URL's lock the index is asked again, since another copy
        of the same article may have been stored meanwhile. The file is rendered here, once its revision
        is final.
        """
        with self._url_locks[hash(document.url) % self.LOCKS]:
            known = self.index.lookup(document.url)
            if known and known.fetched > document.fetched and known.body_sha256 != document.body_sha256:
                return "stale"  # a replay met an older copy after a newer one: the newer text stays current
            if not document.status or known != document.known:
                classify(document, known)
            if document.status == "unchanged":
                self.index.touch(document.url, document.fetched)
                return "unchanged"
            moved = ""
            # the text it replaces is kept as a revision (on S3 while down: copied from S3 once it answers)
            if document.status == "revised" and document.previous_key and self.storage.copy(
                document.previous_key, revision_key(document, document.revision - 1)
            ):
                moved = document.previous_key if document.previous_key != document.key else ""
            data = render(document, self.output_format).text.encode("utf-8")
            written = self.storage.put(document.key, data, CONTENT_TYPE)
            if moved:  # only once the new text is in place: a crash never leaves the article without a current file
                self.storage.delete(moved)
            record = manifest_line(document, data)
            # a new document whose file is already there: a run killed between the two writes; the line completes it
            self.append_manifest(record)
            self.index.record(record)
        if not written and document.status == "new":
            return "unchanged"
        return "revised" if document.status == "revised" else "stored"

    def append_manifest(self, record: dict[str, Any]) -> None:
        self._append(self.manifest_key, record)

    def remember_verdict(self, url: str, verdict: str, fetched: str, site: str) -> None:
        """A page judged not to be an article: kept in ``verdicts/`` and the index, so it is not fetched again soon."""
        record = {"url": url, "verdict": verdict, "fetched": fetched, "site": site}
        self._append(self.verdicts_key, record)
        self.index.record_verdict(record)

    def _append(self, key: str, record: dict[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False, sort_keys=False) + "\n").encode("utf-8")
        with self._manifest_lock:
            if key not in self._logs:
                self._logs[key] = self.storage.open_append(key)
                self.index.expect_manifest(key)  # a store that loses this file later is noticed
            self._logs[key].write(line)

    def sync(self) -> None:
        with self._manifest_lock:
            for log in self._logs.values():
                log.sync()

    def close(self) -> None:
        with self._manifest_lock:
            for log in self._logs.values():
                log.close()
            self._logs.clear()


class StorePipeline:
    """Saves documents from a small thread pool so that slow disks or S3 never stall downloads."""

    def __init__(self, storage: Storage, manifest_key: str, output_format: str, threads: int, sync_every: int,
                 stats: Any, keep_urls: int, index: Callable[[], ArchiveIndex]):
        self.storage = storage
        self.manifest_key = manifest_key
        self.output_format = output_format
        self.stats = stats
        self.keep_urls = keep_urls  # URLs kept per failure reason for the run record
        self.index = index  # called when the spider opens: the index to look in and record in
        self.store: ArticleStore | None = None
        self.threads = ThreadPoolExecutor(threads, thread_name_prefix="store")
        self.sync_every = sync_every
        self.since_sync = 0

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        settings = crawler.settings
        storage = storage_from_settings(settings)

        def index() -> ArchiveIndex:  # the dedup stage's, else one of its own (a project without DedupPipeline)
            dedup = crawler.get_item_pipeline(DedupPipeline)
            return dedup.index if dedup is not None else open_index(storage, settings.get("STATE_DIR"))

        pipeline = cls(storage, f"manifest/{settings['RUN_ID']}.jsonl", settings.get("OUTPUT_FORMAT"),
                       settings.getint("STORE_THREADS"), settings.getint("STORE_MANIFEST_SYNC_EVERY"), crawler.stats,
                       settings.getint("RUN_RECORD_URLS"), index)
        crawler.signals.connect(pipeline.not_article, signal=page_not_article)
        return pipeline

    async def open_spider(self) -> None:
        index = await asyncio.to_thread(self.index)
        self.store = ArticleStore(self.storage, index, self.manifest_key, self.output_format)

    async def process_item(self, item):
        if not isinstance(item, Document):
            return item
        try:
            outcome = await asyncio.wrap_future(self.threads.submit(self.store.save, item))
        except Exception as exc:  # a full disk, a refused upload: counted and logged, the crawl goes on
            reason = type(exc).__name__
            count_failure(self.stats, "errors", f"store_failed/{reason}", item.url, item.site, self.keep_urls)
            logger.error("could not store %s: %s", item.url, exc)
            raise DropItem(f"not stored ({reason}): {item.url}", log_level="DEBUG") from None  # logged just above
        self.stats.inc_value(f"store/{outcome}")
        if outcome == "stale":  # the store holds a newer text of the page (a replay of an older capture): counted
            count_failure(self.stats, "skipped", OLDER_COPY, item.url, item.site, self.keep_urls)
        if outcome in ("stored", "revised", "unchanged"):
            count_article(self.stats, item.site, item.meta, len(item.body), outcome)
        if outcome != "unchanged":
            self.since_sync += 1
            if self.sync_every and self.since_sync >= self.sync_every:
                self.since_sync = 0
                await asyncio.wrap_future(self.threads.submit(self.store.sync))
        return item

    def not_article(self, page: Page, verdict: str) -> None:
        """Remember a page judged not to be an article (off the reactor thread, like every store write)."""
        fetched = page.fetched.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert self.store is not None  # pages are judged only once the spider is open
        future = self.threads.submit(self.store.remember_verdict, page.url, verdict, fetched, page.site.key)
        future.add_done_callback(self._verdict_written)

    def _verdict_written(self, future) -> None:
        if future.exception() is not None:
            self.stats.inc_value("errors/verdict_not_stored")
            logger.warning("could not remember a non-article page: %s", future.exception())

    async def close_spider(self):
        await asyncio.wrap_future(self.threads.submit(self.store.close))
        self.threads.shutdown(wait=True)


# --- replay --diff -----------------------------------------------------------------------


@dataclass
class DiffOutcome:
    """How one replayed document compares with the stored one."""

    site: str
    status: str  # new, changed, unchanged
    changed: dict[str, Any] = field(default_factory=dict)  # field -> old and new (body: lengths, similarity)
    entry: dict[str, Any] | None = None  # its line in the report (new and changed documents)


def diff_document(document: Document, stored_text: str | None) -> DiffOutcome:
    """Compare a replayed document with the stored text of its key (None: nothing stored there)."""
    if stored_text is None:
        return DiffOutcome(document.site, "new", {}, {"key": document.key, "url": document.url, "status": "new"})
    try:
        meta, body = parse_document(stored_text)
    except ValueError:
        meta, body = {}, stored_text
    changed: dict[str, Any] = {}
    for key in ("title", "date", "author", "description"):
        old, new = meta.get(key), document.meta.get(key)
        if str(old or "") != str(new or ""):
            changed[key] = {"old": old, "new": new}
    if body != document.body:
        ratio = difflib.SequenceMatcher(None, body.split(), document.body.split(), autojunk=False).ratio()
        changed["body"] = {"old_chars": len(body), "new_chars": len(document.body), "similarity": round(ratio, 3)}
    if not changed:
        return DiffOutcome(document.site, "unchanged")
    return DiffOutcome(document.site, "changed", changed,
                       {"key": document.key, "url": document.url, "status": "changed", **changed})


@dataclass
class DiffReport:
    """What a replay would change in the store, judged before anything is written: totals, per site, and the
    first changes listed. The reports of a replay's parts (its workers' units) add up (:meth:`merge`)."""

    counts: Counter[str] = field(default_factory=Counter)
    sites: dict[str, Counter[str]] = field(default_factory=dict)
    changes: list[dict[str, Any]] = field(default_factory=list)
    max_listed: int = 50

    def add(self, outcome: DiffOutcome) -> None:
        self.counts[outcome.status] += 1
        for key in outcome.changed:
            self.counts[f"changed/{key}"] += 1
        self.sites.setdefault(outcome.site, Counter())[outcome.status] += 1
        if outcome.entry is not None and len(self.changes) < self.max_listed:
            self.changes.append(outcome.entry)

    def flat_counts(self) -> dict[str, int]:
        """``totals/<count>`` and ``sites/<site>/<count>``: the numbers of the report as one flat table."""
        flat = {f"totals/{key}": value for key, value in self.counts.items()}
        for site, counts in self.sites.items():
            flat.update({f"sites/{site}/{key}": value for key, value in counts.items()})
        return flat

    @classmethod
    def from_parts(cls, flat: dict[str, int], changes: list[dict[str, Any]], max_listed: int = 50) -> DiffReport:
        """The report of a whole replay from its summed :meth:`flat_counts` and its listed changes."""
        report = cls(changes=changes[:max_listed], max_listed=max_listed)
        for key, value in flat.items():
            kind, _, rest = key.partition("/")
            if kind == "totals":
                report.counts[rest] += value
            elif kind == "sites":
                site, _, count = rest.rpartition("/")
                report.sites.setdefault(site, Counter())[count] += value
        return report

    def as_json(self) -> dict[str, Any]:
        return {"totals": dict(sorted(self.counts.items())),
                "sites": {site: dict(sorted(counts.items())) for site, counts in sorted(self.sites.items())},
                "changes": self.changes, "not_listed": self._not_listed()}

    def _not_listed(self) -> int:
        return max(0, sum(self.counts[k] for k in ("new", "changed")) - len(self.changes))

    def render(self) -> str:
        lines = [json.dumps(change, ensure_ascii=False, default=str) for change in self.changes]
        if self._not_listed():
            lines.append(f"... {self._not_listed()} more not listed")
        for site, counts in sorted(self.sites.items()):
            lines.append(f"replay --diff site {site}: {_counts(counts)}")
        lines.append(f"replay --diff totals: {_counts(self.counts) or 'nothing replayed'}")
        return "\n".join(lines)


def _counts(counts: Counter[str]) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted(counts.items()) if value)


class DiffPipeline:
    """Used by ``scrapy replay --diff`` in place of the dedup and store stages: compares, writes nothing.

    Each document carries its outcome on (``document.diff``), for a replay that sums its report per unit
    of work (crawler.archive.work); ``report`` is the whole run's.
    """

    def __init__(self, storage: Storage, output_format: str):
        self.storage = storage
        self.output_format = output_format
        self.report = DiffReport()

    @classmethod
    def from_crawler(cls, crawler: Any) -> DiffPipeline:
        return cls(storage_from_settings(crawler.settings), crawler.settings.get("OUTPUT_FORMAT"))

    async def process_item(self, item):
        if isinstance(item, Document):
            item.diff = await asyncio.to_thread(self.compare, item)
            self.report.add(item.diff)  # on the reactor thread: the report is not shared with the threads
        return item

    def compare(self, document: Document) -> DiffOutcome:
        """In a thread, as the store stage writes: read the stored file, render, diff (difflib's word diff of
        a long article takes 1-4 ms, rendering one 0.1 ms: the reactor thread would wait for both)."""
        stored = self.storage.get(document.key)
        render(document, self.output_format)
        return diff_document(document, stored.decode("utf-8", "replace") if stored is not None else None)
