"""The search index of ``scrapy browse``: stored articles in SQLite FTS5, beside the archive index.

Like the archive index it is a cache of the store, never the truth: it is
rebuilt from the manifests (one line per document written) and the stored
documents, and later opens read only the manifests that are new or grew. It
lives in ``STATE_DIR/index/<store hash>-search.sqlite``; deleting it costs
one rebuild.

Every manifest line is kept (``versions``: what each revision was and which
run wrote it); ``documents`` holds the current revision of each URL, and the
full-text table its title and body.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.document.render import parse_document

logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY, url TEXT UNIQUE NOT NULL, key TEXT NOT NULL, site TEXT NOT NULL, title TEXT NOT NULL,
    date TEXT NOT NULL, fetched TEXT NOT NULL, revision INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_site ON documents (site, date);
CREATE TABLE IF NOT EXISTS versions (
    url TEXT NOT NULL, revision INTEGER NOT NULL, key TEXT NOT NULL, fetched TEXT NOT NULL, run_id TEXT NOT NULL,
    fetched_url TEXT NOT NULL, PRIMARY KEY (url, revision)
);
CREATE TABLE IF NOT EXISTS manifests (name TEXT PRIMARY KEY, size INTEGER NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS texts USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2');
"""
SCHEMA_VERSION = 1
PAGE_SIZE = 50


@dataclass(frozen=True)
class Hit:
    id: int
    url: str
    site: str
    title: str
    date: str
    fetched: str
    revision: int
    snippet: str = ""
    key: str = ""


class SearchIndex:
    def __init__(self, path: Path | str):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()  # the server answers from several threads
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=60)
        self.db.execute("PRAGMA journal_mode=WAL")
        if self.db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            self.db.executescript("DROP TABLE IF EXISTS documents; DROP TABLE IF EXISTS versions; "
                                  "DROP TABLE IF EXISTS manifests; DROP TABLE IF EXISTS texts; "
                                  f"PRAGMA user_version = {SCHEMA_VERSION};")
        self.db.executescript(SCHEMA)

    @classmethod
    def for_store(cls, storage, state_dir: str | Path) -> SearchIndex:
        name = hashlib.sha256(storage.uri.encode()).hexdigest()[:16]
        return cls(Path(state_dir).expanduser() / "index" / f"{name}-search.sqlite")

    # --- building -------------------------------------------------------------------------

    def sync(self, storage, progress: Callable[[int], object] | None = None) -> int:
        """Index the documents of manifests not seen yet (or grown); returns how many lines were read."""
        listed = [key for key in storage.list("manifest") if key.endswith(".jsonl")]
        with self.lock:
            seen = dict(self.db.execute("SELECT name, size FROM manifests"))
        if set(seen) - set(listed):  # the store was emptied or replaced
            with self.lock:
                self.db.executescript("DELETE FROM documents; DELETE FROM versions; DELETE FROM manifests; "
                                      "DELETE FROM texts;")
            seen = {}
        count = 0
        for key in listed:
            if key in seen and storage.size(key) == seen[key]:
                continue
            data = storage.get(key) or b""
            run_id = key.rsplit("/", 1)[-1].removesuffix(".jsonl")
            lines = [line for raw in data.splitlines() if (line := _json(raw)) is not None]
            with self.lock:
                self.db.execute("BEGIN")
                for line in lines:
                    self._add(storage, run_id, line)
                    count += 1
                    if progress and count % 1000 == 0:
                        progress(count)
                self.db.execute("INSERT OR REPLACE INTO manifests VALUES (?, ?)", (key, len(data)))
                self.db.execute("COMMIT")
        return count

    def _add(self, storage, run_id: str, line: dict[str, Any]) -> None:
        url, key = line.get("url"), line.get("key")
        if not isinstance(url, str) or not isinstance(key, str):
            return
        revision = line.get("revision") if isinstance(line.get("revision"), int) else 1
        self.db.execute("INSERT OR REPLACE INTO versions VALUES (?, ?, ?, ?, ?, ?)",
                        (url, revision, key, str(line.get("fetched", "")), run_id,
                         str(line.get("fetched_url") or url)))
        current = self.db.execute("SELECT id, revision FROM documents WHERE url = ?", (url,)).fetchone()
        if current and current[1] > revision:
            return  # an older line read after a newer one
        title = str(line.get("title") or "")
        body = document_body(storage.get(key))
        if body is None and current:  # the file moved on (a later revision): keep what the index has
            return
        values = (url, key, str(line.get("site") or ""), title, str(line.get("date") or ""),
                  str(line.get("fetched") or ""), revision)
        if current:
            self.db.execute("UPDATE documents SET url=?, key=?, site=?, title=?, date=?, fetched=?, revision=? "
                            "WHERE id = ?", (*values, current[0]))
            self.db.execute("DELETE FROM texts WHERE rowid = ?", (current[0],))
            rowid = current[0]
        else:
            rowid = self.db.execute("INSERT INTO documents (url, key, site, title, date, fetched, revision) "
                                    "VALUES (?, ?, ?, ?, ?, ?, ?)", values).lastrowid
        self.db.execute("INSERT INTO texts (rowid, title, body) VALUES (?, ?, ?)", (rowid, title, body or ""))

    # --- reading --------------------------------------------------------------------------

    def search(self, text: str = "", site: str = "", since: str = "", until: str = "", title: str = "",
               offset: int = 0, limit: int = PAGE_SIZE) -> tuple[list[Hit], int]:
        """Matching documents, best match first (newest first without a text), and how many match."""
        where, args = [], []
        title_query = fts_query(title)
        if title_query:
            where.append("d.id IN (SELECT rowid FROM texts WHERE texts MATCH ?)")
            args.append("title : (" + title_query + ")")
        if site:
            where.append("d.site = ?")
            args.append(site)
        if since:  # document dates are YYYY-MM-DD-HH-MM-SS: a day compares as a prefix
            where.append("d.date >= ?")
            args.append(since)
        if until:
            where.append("d.date < ?")
            args.append(until + "~")  # '~' sorts after the time part of any date on that day
        query = fts_query(text)
        columns = "d.id, d.url, d.site, d.title, d.date, d.fetched, d.revision"
        with self.lock:
            if query:
                clause = "".join(f" AND {w}" for w in where)
                source = f"texts JOIN documents d ON d.id = texts.rowid WHERE texts MATCH ?{clause}"
                total = self.db.execute(f"SELECT COUNT(*) FROM {source}", [query, *args]).fetchone()[0]
                rows = self.db.execute(
                    f"SELECT {columns}, snippet(texts, 1, '\x02', '\x03', ' … ', 16) FROM {source} "
                    "ORDER BY rank LIMIT ? OFFSET ?", [query, *args, limit, offset]).fetchall()
            else:
                clause = " WHERE " + " AND ".join(where) if where else ""
                total = self.db.execute(f"SELECT COUNT(*) FROM documents d{clause}", args).fetchone()[0]
                rows = self.db.execute(
                    f"SELECT {columns}, '' FROM documents d{clause} ORDER BY d.date DESC, d.fetched DESC "
                    "LIMIT ? OFFSET ?", [*args, limit, offset]).fetchall()
        return [Hit(*row) for row in rows], total

    def document(self, doc_id: int) -> Hit | None:
        with self.lock:
            row = self.db.execute("SELECT id, url, site, title, date, fetched, revision, key FROM documents "
                                  "WHERE id = ?", (doc_id,)).fetchone()
        if not row:
            return None
        doc, url, site, title, date, fetched, revision, key = row
        return Hit(doc, url, site, title, date, fetched, revision, key=key)

    def versions(self, url: str) -> list[dict[str, Any]]:
        with self.lock:
            rows = self.db.execute("SELECT revision, key, fetched, run_id, fetched_url FROM versions WHERE url = ? "
                                   "ORDER BY revision", (url,)).fetchall()
        return [dict(zip(("revision", "key", "fetched", "run_id", "fetched_url"), row)) for row in rows]

    def sites(self) -> list[tuple[str, int]]:
        with self.lock:
            return self.db.execute("SELECT site, COUNT(*) FROM documents GROUP BY site ORDER BY site").fetchall()

    def __len__(self) -> int:
        with self.lock:
            return self.db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]

    def close(self) -> None:
        with self.lock:
            self.db.close()


WORD = re.compile(r"\w+", re.UNICODE)


def fts_query(text: str) -> str:
    """A user's words as an FTS5 query: every word must appear (the last may be a prefix); "quoted phrases" kept.

    FTS5's own syntax (AND, NEAR, column filters, bare punctuation) is not
    passed through: a title with a colon or a quote must not be an error.
    """
    parts = []
    for phrase, words in re.findall(r'"([^"]*)"|(\S+)', text or ""):
        tokens = WORD.findall(phrase or words)
        if not tokens:
            continue
        parts.append('"' + " ".join(tokens) + '"')
    if parts and not text.rstrip().endswith('"'):
        parts[-1] += "*"
    return " ".join(parts)


def document_body(data: bytes | None) -> str | None:
    if data is None:
        return None
    text = data.decode("utf-8", "replace")
    try:
        return parse_document(text)[1]
    except ValueError:
        return text  # a plain-format document: the text is the body


def _json(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
