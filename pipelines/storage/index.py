"""The archive index: what the store already holds, known fast.

The store's manifests are the truth (so a new machine pointed at the same
``STORE_URI`` knows what was crawled); a local SQLite file caches them, and
only manifests it has not read yet (or that grew) are read at start. Pages
judged not to be articles are remembered the same way, from ``verdicts/``
(one line per page: url, verdict, fetched), so that an incremental crawl does
not fetch a section front again within ``REVISIT_AFTER``.

The store decides: every manifest or verdict file the index learned from,
its own run's included, is registered as it is written; one that is gone
from the store's listing (the directory deleted, the S3 prefix emptied or
replaced) makes the index start over from what the store lists. That check
is one listing per crawl, never a download.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.extraction.values import normalize_url, parse_date
from pipelines.storage import Storage

logger = logging.getLogger(__name__)
SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    url TEXT PRIMARY KEY, key TEXT NOT NULL, body_sha256 TEXT NOT NULL, revision INTEGER NOT NULL,
    fetched TEXT NOT NULL, site TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS aliases (alias TEXT PRIMARY KEY, url TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS manifests (name TEXT PRIMARY KEY, size INTEGER NOT NULL, final INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS verdicts (url TEXT PRIMARY KEY, verdict TEXT NOT NULL, fetched TEXT NOT NULL);
"""
SCHEMA_VERSION = 3  # a cache file of another version is rebuilt from the store


@dataclass(frozen=True)
class Known:
    url: str
    key: str
    body_sha256: str
    revision: int
    fetched: str


class IndexBusy(Exception):
    """Another thread is writing to the index; raised by a lookup told not to wait."""


class ArchiveIndex:
    """url -> (key, body sha256, revision, last fetch), rebuilt from the store's manifests."""

    def __init__(self, path: Path | str):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()
        # timeout: crawls of several jobs may share one STATE_DIR; one of them may be rebuilding the cache
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=120)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        if self.db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            self.db.executescript("DROP TABLE IF EXISTS articles; DROP TABLE IF EXISTS aliases; "
                                  "DROP TABLE IF EXISTS manifests; DROP TABLE IF EXISTS verdicts; "
                                  f"PRAGMA user_version = {SCHEMA_VERSION};")
        self.db.executescript(SCHEMA)

    @classmethod
    def for_store(cls, storage: Storage, state_dir: str | Path) -> ArchiveIndex:
        name = hashlib.sha256(storage.uri.encode()).hexdigest()[:16]
        index = cls(Path(state_dir).expanduser() / "index" / f"{name}.sqlite")
        index.sync(storage)
        return index

    def sync(self, storage: Storage) -> int:
        """Read the manifests not seen yet, or grown since; returns how many lines were read.

        A manifest whose run finished (its run record says so, nothing left in a spool) never
        changes again: it is read once, and later syncs only list it. One of a run that has not
        finished (running elsewhere, or killed) is read again only when its size changed.
        Manifests that vanished from the store (the store was emptied or replaced) make the
        cache start over.
        """
        listed = [key for folder in ("manifest", VERDICTS) for key in storage.list(folder) if key.endswith(".jsonl")]
        with self.lock:
            seen = {name: (size, final) for name, size, final in self.db.execute("SELECT * FROM manifests")}
            known = self.db.execute(
                "SELECT EXISTS (SELECT 1 FROM articles UNION ALL SELECT 1 FROM verdicts)"
            ).fetchone()[0]
            if set(seen) - set(listed) or (known and not seen):
                logger.info(
                    "archive index: what it knows is gone from %s; rebuilding the index from the store", storage.uri
                )
                self.db.executescript(
                    "DELETE FROM articles; DELETE FROM aliases; DELETE FROM manifests; DELETE FROM verdicts;"
                )
                seen = {}
        lines = 0
        for key in listed:
            size, final = seen.get(key, (-1, False))
            if final:
                continue
            final = run_finished(storage, key)  # before the manifest: a run finishing meanwhile is read again
            # manifests only grow: the same size is the same content (one never seen is simply read)
            if size < 0 or storage.size(key) != size:
                data = storage.get(key) or b""
                records = manifest_records(data, storage.describe(key))
                lines += self.record_verdicts(records) if key.startswith(VERDICTS) else self.record_many(records)
                size = len(data)
            with self.lock:
                self.db.execute("INSERT OR REPLACE INTO manifests VALUES (?, ?, ?)", (key, size, int(final)))
        return lines

    def expect_manifest(self, key: str) -> None:
        """A manifest (or verdict file) this process writes: known to the cache, so that a store emptied later is
        noticed."""
        with self.lock:
            self.db.execute("INSERT OR IGNORE INTO manifests VALUES (?, -1, 0)", (key,))

    def record_many(self, records: Iterable[dict[str, Any]]) -> int:
        return self._record_all(records, self._record, "url/key/body_sha256")

    def _record_all(self, records: Iterable[dict[str, Any]], record_one: Any, needs: str) -> int:
        count = 0
        with self.lock:
            self.db.execute("BEGIN")
            for record in records:
                try:
                    record_one(record)
                    count += 1
                except (KeyError, TypeError, ValueError):
                    logger.warning("skipping a line without %s", needs)
            self.db.execute("COMMIT")
        return count

    def record_verdicts(self, records: Iterable[dict[str, Any]]) -> int:
        return self._record_all(records, self._record_verdict, "url/verdict/fetched")

    def record_verdict(self, record: dict[str, Any]) -> None:
        with self.lock:
            self._record_verdict(record)

    def _record_verdict(self, record: dict[str, Any]) -> None:
        url, verdict, fetched = normalize_url(record["url"]), str(record["verdict"]), str(record["fetched"])
        self.db.execute(
            "INSERT INTO verdicts VALUES (?, ?, ?) ON CONFLICT(url) DO UPDATE SET verdict = excluded.verdict, "
            "fetched = excluded.fetched WHERE excluded.fetched >= verdicts.fetched",
            (url, verdict, fetched),
        )

    def verdict(self, url: str) -> tuple[str, str] | None:
        """(verdict, last fetch) of a page judged not to be an article, or None."""
        with self.lock:
            row = self.db.execute(
                "SELECT verdict, fetched FROM verdicts WHERE url = ?", (normalize_url(url),)
            ).fetchone()
        return (row[0], row[1]) if row else None

    def record(self, record: dict[str, Any]) -> None:
        with self.lock:
            self.db.execute("BEGIN")  # one commit for the article and its aliases, not one per statement
            try:
                self._record(record)
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def _record(self, record: dict[str, Any]) -> None:
        url = record["url"]
        current = self.db.execute("SELECT revision, fetched FROM articles WHERE url = ?", (url,)).fetchone()
        revision = int(record.get("revision", 1))
        if current and (current[0], current[1]) > (revision, record.get("fetched", "")):
            pass  # an older line read after a newer one: keep the newer
        else:
            self.db.execute(
                "INSERT OR REPLACE INTO articles VALUES (?, ?, ?, ?, ?, ?)",
                (url, record["key"], body_sha256(record), revision, record.get("fetched", ""), record.get("site", "")),
            )
        for alias in {record.get("fetched_url"), url}:
            if alias:
                self.db.execute("INSERT OR REPLACE INTO aliases VALUES (?, ?)", (normalize_url(alias), url))

    def touch(self, url: str, fetched: str) -> None:
        """An unchanged article was fetched again: remember when."""
        with self.lock:
            self.db.execute("UPDATE articles SET fetched = ? WHERE url = ? AND fetched < ?", (fetched, url, fetched))

    def lookup(self, url: str, *, wait: bool = True) -> Known | None:
        """What the archive holds at ``url`` (or at a URL it was fetched under), or None.

        With ``wait=False`` a writer holding the index (a store thread's commit) raises
        :class:`IndexBusy` instead of making the caller wait: the dedup stage asks on the
        crawl's event loop (the query takes 12-18 µs at 100,000 articles) and goes to a thread
        only then.
        """
        if not self.lock.acquire(blocking=wait):
            raise IndexBusy(url)
        try:
            row = self.db.execute(
                "SELECT url, key, body_sha256, revision, fetched FROM articles WHERE url = ? OR url = "
                "(SELECT url FROM aliases WHERE alias = ?)",
                (url, normalize_url(url)),
            ).fetchone()
        finally:
            self.lock.release()
        return Known(*row) if row else None

    def is_fresh(self, url: str, revisit_after: float, hints: dict[str, str] | None = None) -> bool:
        """Known and fetched less than ``revisit_after`` seconds ago, and no source says it changed since.

        ``hints`` are what a sitemap (``lastmod``) or a feed (``lastmod`` from its updated date,
        ``date`` from its publication date) says of the article: a time at or after the last fetch means
        the page changed (or was republished), so it is fetched again.
        """
        known = self.lookup(url)
        if known:
            last = known.fetched
        else:
            verdict = self.verdict(url)  # a page judged not to be an article is not fetched again either
            if not verdict:
                return False
            last = verdict[1]
        fetched = parse_date(last)
        if fetched is None:
            return False
        age = (datetime.now(UTC) - fetched).total_seconds()
        if age >= revisit_after:
            return False
        announced = [parse_date((hints or {}).get(name, "")) for name in ("lastmod", "date")]
        # fetch times are kept to the second: a change announced within that second may have come after it
        return not any(moment and moment >= fetched for moment in announced)

    def __len__(self) -> int:
        with self.lock:
            return self.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]

    def close(self) -> None:
        with self.lock:
            self.db.close()


VERDICTS = "verdicts"  # verdicts/<run>.jsonl: the pages of a run judged not to be articles


def body_sha256(line: dict[str, Any]) -> str:
    """The hash of a manifest line's body: ``body_sha256``; manifests written before it existed called it ``sha256``.

    From then on ``sha256`` is the hash of the whole stored file (as the S3 object's
    ``sha256`` metadata): a line with ``body_sha256`` never means the body by ``sha256``.
    """
    return line["body_sha256"] if "body_sha256" in line else line["sha256"]


def manifest_records(data: bytes, where: str) -> list[dict[str, Any]]:
    records = []
    for raw in data.splitlines():
        try:
            records.append(json.loads(raw))
        except ValueError:
            logger.warning("skipping a broken manifest line in %s", where)
    return records


def run_finished(storage: Storage, manifest_key: str) -> bool:
    """True when the run that wrote a manifest finished and uploaded everything: it will not grow."""
    run_id = manifest_key.rsplit("/", 1)[-1].removesuffix(".jsonl")
    try:
        record = json.loads(storage.get(f"runs/{run_id}.json") or b"{}")
    except ValueError:
        return False
    return record.get("finish_reason") == "finished" and not record.get("spooled")
