"""The local backend: files under a directory, written to ``.tmp/`` and renamed into place."""

from __future__ import annotations

import fcntl
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from warcio.limitreader import LimitReader

from pipelines.storage import AppendLog, StorageError, check_key
from pipelines.storage.files import FILE_MODE, remove_stale_temporaries, unlink


class LocalStorage:
    """Files under a directory. Writes go to ``.tmp/`` and are renamed into place."""

    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser().absolute()
        self.uri = str(self.root)
        self.tmp = self.root / ".tmp"
        self._made: set[str] = set()  # directories this store made or found
        self._tmp_ready = False  # made on the first write: a store that is only read (wacz, replay) is left as it is
        self._tmp_lock = threading.Lock()

    def check(self) -> None:
        """Fail early, in one line, when the store directory cannot be made (a crawl calls it before it starts)."""
        self._temporaries()

    def _temporaries(self) -> Path:
        if not self._tmp_ready:
            with self._tmp_lock:
                if not self._tmp_ready:
                    try:
                        self.tmp.mkdir(parents=True, exist_ok=True)
                    except OSError as exc:
                        raise StorageError(
                            f"STORE_URI={self.uri}: cannot create the store directory: {exc.strerror}"
                        ) from exc
                    remove_stale_temporaries(self.tmp)
                    self._tmp_ready = True
        return self.tmp

    @staticmethod
    def location(uri: str) -> Path:
        parts = urlsplit(uri)
        return Path(parts.path if parts.scheme == "file" else uri).expanduser()

    @classmethod
    def check_uri(cls, uri: str) -> None:
        parts = urlsplit(uri)
        if parts.scheme == "file" and parts.netloc not in ("", "localhost"):  # file://store: a host named "store"
            raise StorageError(f"STORE_URI={uri!r}: a file URI names a path after three slashes (file:///path)")
        path = cls.location(uri)
        if path.exists() and not path.is_dir():
            raise StorageError(f"STORE_URI={uri!r}: exists and is not a directory")
        existing = next((p for p in path.parents if p.exists()), None)
        if existing is not None and not existing.is_dir():
            raise StorageError(f"STORE_URI={uri!r}: {existing} is not a directory")

    @classmethod
    def from_settings(cls, uri: str, settings: Mapping[str, Any]) -> LocalStorage:
        return cls(cls.location(uri))

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
        fd, tmp_name = tempfile.mkstemp(prefix=f"{os.getpid()}-", suffix=".tmp", dir=self._temporaries())
        os.fchmod(fd, FILE_MODE)  # mkstemp makes 0600; stored files are as readable as the WARC and manifests
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            self._replace(tmp_name, target)
        except BaseException:
            unlink(Path(tmp_name))
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
        unlink(self.path(key))

    def copy(self, source: str, key: str) -> bool:
        data = self.get(source)
        if data is None:
            return False
        self.put(key, data)
        return True

    def list(self, prefix: str) -> Iterator[str]:
        base = self.root / prefix.strip("/") if prefix.strip("/") else self.root
        if not base.is_dir():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file() and ".tmp" not in path.relative_to(self.root).parts[:1]:
                yield path.relative_to(self.root).as_posix()

    def open_read(self, key: str) -> BinaryIO:
        return open(self.path(key), "rb")

    def open_range(self, key: str, start: int, end: int | None = None) -> BinaryIO:
        return read_range(self.path(key), start, end)

    def put_file(self, key: str, path: Path, content_type: str = "") -> None:
        target = self.path(key)
        if Path(path).absolute() == target:
            return
        self._make_parent(target)
        fd, tmp_name = tempfile.mkstemp(prefix=f"{os.getpid()}-", suffix=".tmp", dir=self._temporaries())
        os.fchmod(fd, FILE_MODE)
        os.close(fd)
        try:
            with open(path, "rb") as source, open(tmp_name, "wb") as handle:
                while chunk := source.read(1024 * 1024):
                    handle.write(chunk)
            self._replace(tmp_name, target)
        except BaseException:
            unlink(Path(tmp_name))
            raise

    def open_append(self, key: str) -> AppendLog:
        return LocalAppendLog(key, self.path(key))

    def flush_spool(self) -> tuple[int, int]:
        return (0, 0)

    def describe(self, key: str) -> str:
        return str(self.path(key))


def read_range(path: Path, start: int, end: int | None = None) -> BinaryIO:
    """Bytes ``[start, end)`` of a file (to its end when ``end`` is None), as a stream that stops there."""
    handle = open(path, "rb")  # noqa: SIM115 - the caller closes it
    handle.seek(start)
    return handle if end is None else _Limited(handle, end - start)


class _Limited(LimitReader):
    """warcio's LimitReader (whose close() closes the file it reads), as a context manager."""

    def __enter__(self) -> _Limited:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


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
        written = 0
        # locked: another process appending to the same file (a resumed run beside its first) must not add
        # its chunk between a failed write and its rollback
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        try:
            while written < len(data):
                written += os.write(self.fd, view[written:])
        except BaseException:
            if written:  # a full disk took part of the chunk: take it back, or every chunk after it is unreadable
                os.ftruncate(self.fd, os.fstat(self.fd).st_size - written)
            raise
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        self.size += len(data)

    def sync(self) -> None:
        pass  # the file in place is the object

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
