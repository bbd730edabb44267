"""The store's run records, read once: a local cache of ``runs/*.json`` under ``STATE_DIR``.

A scheduled site leaves a record every few minutes, tens of thousands a
year; the alarms after each run and the report read them all. Like the
archive index, the cache is only a copy: a record of a finished run never
changes and is read once, one still running (or killed) is read again each
time, and records gone from the store leave the cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

SCHEMA = "CREATE TABLE IF NOT EXISTS runs (key TEXT PRIMARY KEY, started TEXT NOT NULL, record TEXT NOT NULL)"


def run_records(storage, state_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """Every run record in the store, oldest first (by ``started``); cached under ``state_dir`` if given."""
    keys = [key for key in storage.list("runs") if key.endswith(".json")]
    db = _cache(storage, state_dir)
    cached: dict[str, str] = {}
    if db is not None:
        cached = dict(db.execute("SELECT key, record FROM runs"))
    records = []
    fresh = []
    for key in keys:
        text = cached.get(key)
        if text is None:
            data = storage.get(key)
            if data is None:
                continue
            text = data.decode("utf-8", "replace")
        record = _parse(text, storage.describe(key))
        if record is None:
            continue
        record.setdefault("run_id", key.rsplit("/", 1)[-1].removesuffix(".json"))
        records.append(record)
        if key not in cached and record.get("finish_reason") not in (None, "running"):
            fresh.append((key, str(record.get("started", "")), text))
    if db is not None:
        with db:
            db.executemany("INSERT OR REPLACE INTO runs VALUES (?, ?, ?)", fresh)
            gone = set(cached) - set(keys)
            db.executemany("DELETE FROM runs WHERE key = ?", [(key,) for key in gone])
        db.close()
    return sorted(records, key=lambda r: (str(r.get("started", "")), str(r.get("run_id", ""))))


def _cache(storage, state_dir: str | Path | None) -> sqlite3.Connection | None:
    if not state_dir:
        return None
    name = hashlib.sha256(storage.uri.encode()).hexdigest()[:16]
    path = Path(state_dir).expanduser() / "index" / f"{name}-runs.sqlite"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=60)
        db.execute(SCHEMA)
        return db
    except sqlite3.Error as exc:  # a cache that cannot be used costs time, never the answer
        logger.warning("run record cache %s unusable (%s); reading the store", path, exc)
        return None


def _parse(text: str, where: str) -> dict[str, Any] | None:
    try:
        record = json.loads(text)
    except ValueError:
        logger.warning("skipping an unreadable run record %s", where)
        return None
    return record if isinstance(record, dict) else None
