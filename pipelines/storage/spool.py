"""The spool: objects waiting for upload in a local directory, so that nothing is lost while a store is down."""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipelines.storage import content_type_for, sha256_hex
from pipelines.storage.files import other_process_alive, read_json, remove_stale_temporaries, unlink, write_atomic
from pipelines.storage.local import LocalAppendLog


@dataclass
class SpoolEntry:
    key: str
    data_path: Path
    meta_path: Path
    content_type: str
    seeded: bool = True

    def remove(self) -> None:
        unlink(self.data_path)
        unlink(self.meta_path)


@dataclass
class SpoolOperation:
    """A change the store could not make: a copy (made before any spooled upload) or a delete (after them)."""

    key: str  # the object it writes or removes
    source: str  # a copy's original ("" for a delete)
    path: Path
    target_path: Path | None = None  # a copy's marker named by its key, for readers of that key

    def remove(self) -> None:
        if self.target_path is not None:  # first: a marker left alone by a crash must not outlive its copy
            unlink(self.target_path)
        unlink(self.path)


class Spool:
    """Objects waiting for upload: ``<sha of key>.data`` beside a ``.json`` naming the key.

    File names come from a hash, never from the key, and each file is written
    then renamed, so a crash leaves whole entries only. The directory is made
    on the first write: a store that is only read leaves nothing behind.

    Beside them, changes that could not be made: ``<sha of source>.copy`` (the
    text a revision keeps, named by the object it copies, since an upload to
    that object must wait for the copy) and ``<sha of key>.delete``.
    """

    def __init__(self, directory: Path):
        self.directory = directory
        self.lock = threading.Lock()
        self.open_logs: set[str] = set()
        self._ready = False

    def _ensure(self) -> None:
        with self.lock:  # before any thread of this process writes a temporary file here
            if not self._ready:
                self.directory.mkdir(parents=True, exist_ok=True)
                remove_stale_temporaries(self.directory)
                self._ready = True

    def _paths(self, key: str) -> tuple[Path, Path]:
        name = sha256_hex(key.encode())[:40]
        return self.directory / f"{name}.data", self.directory / f"{name}.json"

    def _write_meta(self, key: str, **meta) -> None:
        write_atomic(self._paths(key)[1], json.dumps({"key": key, **meta}).encode())

    def _op_path(self, kind: str, key: str) -> Path:
        return self.directory / f"{sha256_hex(key.encode())[:40]}.{kind}"

    def add(self, key: str, data: bytes, content_type: str) -> None:
        self._ensure()
        data_path, _ = self._paths(key)
        write_atomic(data_path, data)
        self._write_meta(key, content_type=content_type)
        unlink(self._op_path("delete", key))  # written again after a delete: the flush must not remove it

    def add_file(self, key: str, path: Path, content_type: str) -> None:
        self._ensure()
        unlink(self._op_path("delete", key))
        data_path, _ = self._paths(key)
        if path.absolute() != data_path.absolute():
            tmp = data_path.with_name(f"{os.getpid()}-{threading.get_ident()}-{data_path.name}.tmp")
            with open(path, "rb") as source, open(tmp, "wb") as handle:
                shutil.copyfileobj(source, handle)
            os.replace(tmp, data_path)
        self._write_meta(key, content_type=content_type)

    def open_append(self, key: str) -> tuple[LocalAppendLog, bool]:
        """The spool file of an append log, and whether it is new."""
        self._ensure()
        unlink(self._op_path("delete", key))
        data_path, meta_path = self._paths(key)
        meta = read_json(meta_path) if data_path.exists() else None
        self._write_meta(key, content_type=content_type_for(key), open_pid=os.getpid(),
                         seeded=(meta or {}).get("seeded", True))
        with self.lock:
            self.open_logs.add(key)
        return LocalAppendLog(key, data_path), meta is None

    def is_seeded(self, key: str) -> bool:
        return (read_json(self._paths(key)[1]) or {}).get("seeded", True)

    def mark_seeded(self, key: str, seeded: bool = True) -> None:
        meta = read_json(self._paths(key)[1])
        if meta is not None and meta.get("seeded", True) != seeded:
            meta["seeded"] = seeded
            write_atomic(self._paths(key)[1], json.dumps(meta).encode())

    def release(self, key: str, uploaded: bool) -> None:
        """An append log is closed: drop its spool files once uploaded, else leave them to a flush."""
        data_path, meta_path = self._paths(key)
        with self.lock:
            self.open_logs.discard(key)
        if uploaded:
            unlink(data_path)
            unlink(meta_path)
        else:
            meta = read_json(meta_path) or {"key": key, "content_type": content_type_for(key)}
            meta.pop("open_pid", None)
            write_atomic(meta_path, json.dumps(meta).encode())

    def add_copy(self, source: str, key: str) -> None:
        """Copy ``source`` to ``key`` once the store answers, before ``source`` is uploaded, replaced or deleted."""
        self._ensure()
        meta = json.dumps({"key": key, "source": source}).encode()
        write_atomic(self._op_path("copy", source), meta)
        write_atomic(self._op_path("copyto", key), meta)  # readers of key find its source

    def add_delete(self, key: str) -> None:
        """Delete ``key`` once the store answers, after the spooled uploads."""
        self.discard(key)
        self._ensure()
        write_atomic(self._op_path("delete", key), json.dumps({"key": key}).encode())

    def copy_from(self, source: str) -> SpoolOperation | None:
        """The copy waiting to be made from ``source``, if any."""
        path = self._op_path("copy", source)
        meta = read_json(path)
        return SpoolOperation(meta["key"], source, path, self._op_path("copyto", meta["key"])) if meta else None

    def copied_from(self, key: str) -> str | None:
        """The object whose copy to ``key`` waits in the spool: until it is made, ``key`` reads as it."""
        meta = read_json(self._op_path("copyto", key))
        return meta["source"] if meta and self._op_path("copy", meta["source"]).exists() else None

    def deleting(self, key: str) -> bool:
        """``key`` was deleted while the store was down: readers no longer see it."""
        return self._op_path("delete", key).exists()

    def operations(self, kind: str) -> list[SpoolOperation]:
        """The waiting copies ("copy") or deletes ("delete")."""
        if not self.directory.is_dir():
            return []
        found = []
        for path in sorted(self.directory.glob(f"*.{kind}")):
            meta = read_json(path)
            if meta:
                target = self._op_path("copyto", meta["key"]) if kind == "copy" else None
                found.append(SpoolOperation(meta["key"], meta.get("source", ""), path, target))
        return found

    def discard(self, key: str) -> None:
        """Forget a spooled version or delete (a newer version was stored); an append log being written stays."""
        unlink(self._op_path("delete", key))
        data_path, meta_path = self._paths(key)
        if key in self.open_logs or not meta_path.exists():
            return
        unlink(meta_path)
        unlink(data_path)

    def path(self, key: str) -> Path | None:
        data_path, meta_path = self._paths(key)
        return data_path if meta_path.exists() and data_path.exists() else None

    def entry(self, key: str) -> SpoolEntry | None:
        """The spooled version of ``key``, if any."""
        data_path, meta_path = self._paths(key)
        meta = read_json(meta_path)
        if not meta or not data_path.exists():
            return None
        return SpoolEntry(key, data_path, meta_path, meta.get("content_type", "application/octet-stream"),
                          meta.get("seeded", True))

    def get(self, key: str) -> bytes | None:
        path = self.path(key)
        try:
            return path.read_bytes() if path else None
        except FileNotFoundError:  # flushed meanwhile
            return None

    def keys(self, prefix: str = "") -> list[str]:
        """Every spooled key under ``prefix``, including append logs still being written."""
        if not self.directory.is_dir():
            return []
        found = []
        for meta_path in self.directory.glob("*.json"):
            meta = read_json(meta_path)
            if meta and meta.get("key", "").startswith(prefix) and meta_path.with_suffix(".data").exists():
                found.append(meta["key"])
        return sorted(found)

    def entries(self) -> Iterator[SpoolEntry]:
        """Entries ready to upload: not an append log still written by this or another live process."""
        if not self.directory.is_dir():
            return
        for meta_path in sorted(self.directory.glob("*.json")):
            meta = read_json(meta_path)
            data_path = meta_path.with_suffix(".data")
            if not meta or not data_path.exists():
                continue
            if meta["key"] in self.open_logs or other_process_alive(meta.get("open_pid")):
                continue
            yield SpoolEntry(meta["key"], data_path, meta_path, meta.get("content_type", "application/octet-stream"),
                             meta.get("seeded", True))

    def count(self) -> int:
        """Objects waiting for upload, and copies and deletes waiting to be made."""
        return sum(1 for _ in self.entries()) + len(self.operations("copy")) + len(self.operations("delete"))
