"""One storage interface; backends chosen by the ``STORE_URI`` scheme.

Keys are ``/``-separated paths made by the project (site keys and hashes,
never text from a page). Every write is atomic: a reader sees the old object
or the new one, never half of one. Backends are classes named in a scheme ->
import path table (``STORE_BACKENDS_BASE`` plus a user's ``STORE_BACKENDS``,
as Scrapy's feed storages); each takes the URI and the settings in
``from_settings`` and checks a URI in ``check_uri``, the one place a
``STORE_URI`` is validated.
"""

from __future__ import annotations

import hashlib
import importlib
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from urllib.parse import urlsplit

KEY_RE = re.compile(r"^[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*$")


class StorageError(Exception):
    """A store that cannot be used (bad URI, missing bucket, no permission)."""


def check_key(key: str) -> str:
    if not KEY_RE.match(key) or any(part in (".", "..") for part in key.split("/")):
        raise ValueError(f"unsafe store key {key!r}")
    return key


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class AppendLog(Protocol):
    """An object written as a sequence of whole chunks (WARC records, manifest lines)."""

    key: str
    size: int

    def write(self, data: bytes) -> None: ...
    def sync(self) -> None: ...  # make what was written so far visible in the store
    def close(self) -> None: ...


class Storage(Protocol):
    uri: str

    def put(self, key: str, data: bytes, content_type: str = ...) -> bool: ...  # False: same content there already
    def get(self, key: str) -> bytes | None: ...
    def exists(self, key: str) -> bool: ...
    def size(self, key: str) -> int | None: ...  # bytes; None when there is no such key
    def delete(self, key: str) -> None: ...
    # False: no such source. While the store is down the copy may wait, made before source next changes
    def copy(self, source: str, key: str) -> bool: ...
    def list(self, prefix: str) -> Iterator[str]: ...
    def open_read(self, key: str) -> BinaryIO: ...
    def open_range(self, key: str, start: int, end: int | None = None) -> BinaryIO: ...  # bytes [start, end)
    def put_file(self, key: str, path: Path, content_type: str = ...) -> None: ...
    def open_append(self, key: str) -> AppendLog: ...
    def flush_spool(self) -> tuple[int, int]: ...  # (flushed, still spooled)
    def describe(self, key: str) -> str: ...  # where a key lives, for messages (never with credentials)


def content_type_for(key: str) -> str:
    """The content type of an append-only object: a WARC file or a JSON-lines manifest."""
    return "application/warc" if key.endswith((".warc.gz", ".warc")) else "application/x-ndjson"


def uri_scheme(uri: str) -> str:
    """The scheme that picks a backend: "" for a plain path."""
    if not uri or not uri.strip():
        raise StorageError("STORE_URI is empty: give a directory or s3://bucket/prefix")
    scheme = urlsplit(uri).scheme
    return scheme if len(scheme) > 1 else ""


def backend_class(uri: str, backends: Mapping[str, str | None]) -> Any:
    """The class named for the URI's scheme in ``backends`` (the ``STORE_BACKENDS`` settings)."""
    scheme = uri_scheme(uri)
    path = backends.get(scheme)
    if not path:
        known = ", ".join(f"{s}://" for s in sorted(backends) if s and s != "file" and backends[s])
        raise StorageError(f"STORE_URI={uri!r}: unsupported scheme {scheme!r}; use a directory or {known}")
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def check_uri(uri: str, backends: Mapping[str, str | None]) -> None:
    """Raise :class:`StorageError` naming what is wrong with a ``STORE_URI``, without opening it."""
    backend_class(uri, backends).check_uri(uri)


def open_storage(uri: str, settings: Mapping[str, Any], backends: Mapping[str, str | None]) -> Storage:
    """The backend for ``uri``, configured from ``settings`` (Scrapy's, or a plain mapping of setting names)."""
    cls = backend_class(uri, backends)
    cls.check_uri(uri)
    return cls.from_settings(uri, settings)


def storage_from_settings(settings: Any, uri: str | None = None) -> Storage:
    """The store at ``uri`` (default ``STORE_URI``), its backend from ``STORE_BACKENDS_BASE`` + ``STORE_BACKENDS``.

    ``settings`` is Scrapy's (``getwithbase`` merges the two tables) or a plain mapping of setting names.
    """
    if hasattr(settings, "getwithbase"):
        backends = dict(settings.getwithbase("STORE_BACKENDS"))
    else:
        backends = {**(settings.get("STORE_BACKENDS_BASE") or {}), **(settings.get("STORE_BACKENDS") or {})}
    return open_storage(uri or settings.get("STORE_URI"), settings, backends)
