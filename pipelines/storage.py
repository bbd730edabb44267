"""One storage interface, two backends: a local directory and S3, chosen by the URI scheme.

Keys are ``/``-separated paths made by the project (site keys and hashes,
never text from a page). Every write is atomic: a reader sees the old object
or the new one, never half of one. Objects that cannot be uploaded after
retries go to a local spool and are flushed later, so nothing is lost when
S3 is down.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator, Protocol
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

_UMASK = os.umask(0o022)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK  # what open() would give: the mode of every other file the store writes
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
    def list(self, prefix: str) -> Iterator[str]: ...
    def open_read(self, key: str) -> BinaryIO: ...
    def put_file(self, key: str, path: Path, content_type: str = ...) -> None: ...
    def open_append(self, key: str) -> AppendLog: ...
    def flush_spool(self) -> tuple[int, int]: ...  # (flushed, still spooled)
    def describe(self, key: str) -> str: ...  # where a key lives, for messages (never with credentials)


# --- local directory ---------------------------------------------------------------------


class LocalStorage:
    """Files under a directory. Writes go to ``.tmp/`` and are renamed into place."""

    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser().absolute()
        self.uri = str(self.root)
        self.tmp = self.root / ".tmp"
        self._made: set[str] = set()  # directories this store made or found
        try:
            self.tmp.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"STORE_URI={self.uri}: cannot create the store directory: {exc.strerror}") from exc
        remove_stale_temporaries(self.tmp)

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes, content_type: str = "") -> bool:
        target = self.path(key)
        try:
            if target.stat().st_size == len(data) and target.read_bytes() == data:
                return False
        except (FileNotFoundError, IsADirectoryError):
            pass
        self._make_parent(target)
        fd, tmp_name = tempfile.mkstemp(prefix=f"{os.getpid()}-", suffix=".tmp", dir=self.tmp)
        os.fchmod(fd, FILE_MODE)  # mkstemp makes 0600; stored files are as readable as the WARC and manifests
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            self._replace(tmp_name, target)
        except BaseException:
            _unlink(Path(tmp_name))
            raise
        return True

    def _make_parent(self, target: Path) -> None:
        # a day's directory holds hundreds of articles: made once, not asked for again at every write
        parent = str(target.parent)
        if parent not in self._made:
            target.parent.mkdir(parents=True, exist_ok=True)
            if len(self._made) > 10_000:
                self._made.clear()
            self._made.add(parent)

    def _replace(self, tmp_name: str, target: Path) -> None:
        try:
            os.replace(tmp_name, target)
        except FileNotFoundError:  # someone removed the directory since: make it again
            self._made.discard(str(target.parent))
            self._make_parent(target)
            os.replace(tmp_name, target)

    def get(self, key: str) -> bytes | None:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            return None

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def size(self, key: str) -> int | None:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        _unlink(self.path(key))

    def list(self, prefix: str) -> Iterator[str]:
        base = self.root / prefix.strip("/") if prefix.strip("/") else self.root
        if not base.is_dir():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file() and ".tmp" not in path.relative_to(self.root).parts[:1]:
                yield path.relative_to(self.root).as_posix()

    def open_read(self, key: str) -> BinaryIO:
        return open(self.path(key), "rb")

    def put_file(self, key: str, path: Path, content_type: str = "") -> None:
        target = self.path(key)
        if Path(path).absolute() == target:
            return
        self._make_parent(target)
        fd, tmp_name = tempfile.mkstemp(prefix=f"{os.getpid()}-", suffix=".tmp", dir=self.tmp)
        os.fchmod(fd, FILE_MODE)
        os.close(fd)
        try:
            with open(path, "rb") as source, open(tmp_name, "wb") as handle:
                while chunk := source.read(1024 * 1024):
                    handle.write(chunk)
            self._replace(tmp_name, target)
        except BaseException:
            _unlink(Path(tmp_name))
            raise

    def open_append(self, key: str) -> AppendLog:
        return LocalAppendLog(key, self.path(key))

    def flush_spool(self) -> tuple[int, int]:
        return (0, 0)

    def describe(self, key: str) -> str:
        return str(self.path(key))


class LocalAppendLog:
    """Appends whole chunks with one ``write(2)`` each: a killed process leaves only whole chunks."""

    def __init__(self, key: str, path: Path):
        self.key = key
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.size = os.fstat(self.fd).st_size
        self.path = path

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]
        self.size += len(data)

    def sync(self) -> None:
        pass  # the file in place is the object

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


# --- S3 ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class S3Options:
    endpoint_url: str | None = None  # else AWS_ENDPOINT_URL / the profile's endpoint / AWS
    region: str | None = None
    profile: str | None = None
    max_attempts: int = 5
    multipart_threshold: int = 16 * 1024 * 1024
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_pool_connections: int = 32
    outage_pause: float = 30.0  # seconds: after an upload fails past its retries, new objects go to the spool


# --- choosing a backend ------------------------------------------------------------------


def open_storage(uri: str, spool_dir: str | Path = ".spool", s3: S3Options = S3Options()) -> Storage:
    """``STORE_URI`` to a backend: a path (or file://) is local, s3:// is S3."""
    if not uri or not uri.strip():
        raise StorageError("STORE_URI is empty: give a directory or s3://bucket/prefix")
    parts = urlsplit(uri)
    if parts.scheme == "s3":
        from pipelines.s3 import S3Storage  # boto3 only when S3 is used

        return S3Storage(uri, spool_dir, s3)
    if parts.scheme == "file":
        return LocalStorage(parts.path)
    if parts.scheme and len(parts.scheme) > 1:  # a one-letter scheme is a Windows drive
        raise StorageError(f"STORE_URI={uri!r}: unsupported scheme {parts.scheme!r}; use a directory or s3://")
    return LocalStorage(uri)


# --- helpers -----------------------------------------------------------------------------


def remove_stale_temporaries(directory: Path) -> None:
    """Delete temporary files left by processes that no longer run (a kill -9 mid-write)."""
    for path in directory.glob("*.tmp"):
        pid = path.name.split("-", 1)[0].split(".", 1)[0]
        if pid.isdigit() and _alive_other(int(pid)):
            continue
        _unlink(path)


def _alive_other(pid: object) -> bool:
    if not isinstance(pid, int) or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.parent / f"{os.getpid()}-{threading.get_ident()}-{path.name}.tmp"  # threads share the spool
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
