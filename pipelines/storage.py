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
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator, Protocol
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

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
        try:
            self.tmp.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"STORE_URI={self.uri}: cannot create the store directory: {exc.strerror}") from exc
        remove_stale_temporaries(self.tmp)

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes, content_type: str = "") -> bool:
        target = self.path(key)
        if target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data:
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f"{os.getpid()}-", suffix=".tmp", dir=self.tmp)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp_name, target)
        except BaseException:
            _unlink(Path(tmp_name))
            raise
        return True

    def get(self, key: str) -> bytes | None:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            return None

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

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
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f"{os.getpid()}-", suffix=".tmp", dir=self.tmp)
        os.close(fd)
        try:
            with open(path, "rb") as source, open(tmp_name, "wb") as handle:
                while chunk := source.read(1024 * 1024):
                    handle.write(chunk)
            os.replace(tmp_name, target)
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


class S3Storage:
    """Objects under ``s3://bucket/prefix`` through boto3's standard credential chain.

    Adaptive retries absorb throttling and short outages; an upload that still
    fails is written to the spool directory and retried by :meth:`flush_spool`.
    """

    def __init__(self, uri: str, spool_dir: str | Path, options: S3Options = S3Options()):
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        parts = urlsplit(uri)
        if parts.scheme != "s3" or not parts.hostname:
            raise StorageError("STORE_URI: expected s3://bucket/prefix")
        if "@" in parts.netloc or parts.password:
            raise StorageError("STORE_URI: credentials do not belong in the URI; use the AWS credential chain")
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self.uri = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        session = boto3.session.Session(profile_name=options.profile) if options.profile else boto3.session.Session()
        self.client = session.client(
            "s3",
            endpoint_url=options.endpoint_url or None,
            region_name=options.region or None,
            config=Config(
                retries={"mode": "adaptive", "max_attempts": options.max_attempts},
                connect_timeout=options.connect_timeout,
                read_timeout=options.read_timeout,
                max_pool_connections=options.max_pool_connections,
                request_checksum_calculation="when_supported",
            ),
        )
        self.transfer = TransferConfig(multipart_threshold=options.multipart_threshold, use_threads=True)
        self.spool = Spool(Path(spool_dir).expanduser() / _spool_name(self.uri))

    def object_key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def describe(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.object_key(key)}"

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> bool:
        digest = sha256_hex(data)
        try:
            if self._stored_digest(key) == digest:
                return False
            self._put_object(key, data, content_type, digest)
        except Exception as exc:  # botocore raises many types; all mean "not stored now"
            if not _is_transient(exc):
                raise StorageError(f"cannot write {self.describe(key)}: {_error_text(exc)}") from exc
            logger.warning("S3 upload failed, spooled for later: %s (%s)", self.describe(key), _error_text(exc))
            self.spool.add(key, data, content_type)
        return True

    def _put_object(self, key: str, data: bytes, content_type: str, digest: str) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=self.object_key(key),
            Body=data,
            ContentType=content_type,
            ChecksumAlgorithm="SHA256",
            Metadata={"sha256": digest},
        )

    def _stored_digest(self, key: str) -> str | None:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return head.get("Metadata", {}).get("sha256")

    def get(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                spooled = self.spool.get(key)
                return spooled
            raise StorageError(f"cannot read {self.describe(key)}: {_error_text(exc)}") from exc

    def exists(self, key: str) -> bool:
        return self._stored_digest(key) is not None or self.spool.get(key) is not None

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))

    def list(self, prefix: str) -> Iterator[str]:
        full = self.object_key(prefix.strip("/")) if prefix.strip("/") else self.prefix
        full = f"{full}/" if full else ""
        paginator = self.client.get_paginator("list_objects_v2")
        strip = len(self.prefix) + 1 if self.prefix else 0
        for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
            for item in page.get("Contents", []):
                yield item["Key"][strip:]

    def open_read(self, key: str) -> BinaryIO:
        return self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))["Body"]

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> None:
        """Managed (multipart above the threshold) upload with SHA-256 checksums; spooled on failure."""
        try:
            self.client.upload_file(
                str(path),
                self.bucket,
                self.object_key(key),
                ExtraArgs={"ContentType": content_type, "ChecksumAlgorithm": "SHA256"},
                Config=self.transfer,
            )
        except Exception as exc:
            if not _is_transient(exc):
                raise StorageError(f"cannot upload {self.describe(key)}: {_error_text(exc)}") from exc
            logger.warning("S3 upload failed, spooled for later: %s (%s)", self.describe(key), _error_text(exc))
            self.spool.add_file(key, Path(path), content_type)

    def open_append(self, key: str) -> AppendLog:
        return SpooledAppendLog(self, key)

    def flush_spool(self) -> tuple[int, int]:
        """Upload what earlier failures left in the spool; returns (uploaded, left)."""
        flushed = 0
        for entry in self.spool.entries():
            try:
                if entry.data_path.stat().st_size > self.transfer.multipart_threshold:
                    self.client.upload_file(str(entry.data_path), self.bucket, self.object_key(entry.key),
                                            ExtraArgs={"ContentType": entry.content_type, "ChecksumAlgorithm": "SHA256"},
                                            Config=self.transfer)
                else:
                    data = entry.data_path.read_bytes()
                    digest = sha256_hex(data)
                    if self._stored_digest(entry.key) != digest:
                        self._put_object(entry.key, data, entry.content_type, digest)
            except Exception as exc:
                if not _is_transient(exc):
                    raise StorageError(f"cannot flush {self.describe(entry.key)}: {_error_text(exc)}") from exc
                logger.warning("S3 still unavailable, %d object(s) stay spooled: %s", self.spool.count(), _error_text(exc))
                break
            entry.remove()
            flushed += 1
        return flushed, self.spool.count()


class SpooledAppendLog:
    """An append log for S3: chunks go to a spool file, uploaded whole on sync and close.

    Until its last upload succeeds the file stays in the spool, so a crash or
    an outage leaves it for the next run's flush.
    """

    def __init__(self, storage: S3Storage, key: str):
        self.storage = storage
        self.key = key
        self.inner = storage.spool.open_append(key)
        self.size = self.inner.size
        self.uploaded = -1

    def write(self, data: bytes) -> None:
        self.inner.write(data)
        self.size = self.inner.size

    def sync(self) -> None:
        if self.uploaded == self.size:
            return
        content_type = "application/warc" if self.key.endswith(".warc.gz") else "application/x-ndjson"
        try:
            self.storage.client.upload_file(
                str(self.inner.path), self.storage.bucket, self.storage.object_key(self.key),
                ExtraArgs={"ContentType": content_type, "ChecksumAlgorithm": "SHA256"}, Config=self.storage.transfer,
            )
        except Exception as exc:
            if not _is_transient(exc):
                raise StorageError(f"cannot upload {self.storage.describe(self.key)}: {_error_text(exc)}") from exc
            logger.warning("S3 upload failed, kept in spool: %s (%s)", self.storage.describe(self.key), _error_text(exc))
            return
        self.uploaded = self.size

    def close(self) -> None:
        self.inner.close()
        self.sync()
        self.storage.spool.release(self.key, uploaded=self.uploaded == self.size)


# --- spool -------------------------------------------------------------------------------


@dataclass
class SpoolEntry:
    key: str
    data_path: Path
    meta_path: Path
    content_type: str

    def remove(self) -> None:
        _unlink(self.data_path)
        _unlink(self.meta_path)


class Spool:
    """Objects waiting for upload: ``<sha of key>.data`` beside a ``.json`` naming the key.

    File names come from a hash, never from the key, and each file is written
    then renamed, so a crash leaves whole entries only.
    """

    def __init__(self, directory: Path):
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()
        self.open_logs: set[str] = set()
        remove_stale_temporaries(self.directory)

    def _paths(self, key: str) -> tuple[Path, Path]:
        name = sha256_hex(key.encode())[:40]
        return self.directory / f"{name}.data", self.directory / f"{name}.json"

    def add(self, key: str, data: bytes, content_type: str) -> None:
        data_path, meta_path = self._paths(key)
        _write_atomic(data_path, data)
        _write_atomic(meta_path, json.dumps({"key": key, "content_type": content_type}).encode())

    def add_file(self, key: str, path: Path, content_type: str) -> None:
        data_path, meta_path = self._paths(key)
        if path.absolute() != data_path.absolute():
            tmp = data_path.with_suffix(f".{os.getpid()}.tmp")
            with open(path, "rb") as source, open(tmp, "wb") as handle:
                while chunk := source.read(1024 * 1024):
                    handle.write(chunk)
            os.replace(tmp, data_path)
        _write_atomic(meta_path, json.dumps({"key": key, "content_type": content_type}).encode())

    def open_append(self, key: str) -> LocalAppendLog:
        data_path, meta_path = self._paths(key)
        content_type = "application/warc" if key.endswith(".warc.gz") else "application/x-ndjson"
        _write_atomic(meta_path, json.dumps({"key": key, "content_type": content_type, "open_pid": os.getpid()}).encode())
        with self.lock:
            self.open_logs.add(key)
        return LocalAppendLog(key, data_path)

    def release(self, key: str, uploaded: bool) -> None:
        """An append log is closed: drop its spool files once uploaded, else leave them to a flush."""
        data_path, meta_path = self._paths(key)
        with self.lock:
            self.open_logs.discard(key)
        if uploaded:
            SpoolEntry(key, data_path, meta_path, "").remove()
        else:
            meta = _read_json(meta_path) or {"key": key}
            meta.pop("open_pid", None)
            _write_atomic(meta_path, json.dumps(meta).encode())

    def get(self, key: str) -> bytes | None:
        data_path, meta_path = self._paths(key)
        if meta_path.exists() and data_path.exists():
            return data_path.read_bytes()
        return None

    def entries(self) -> Iterator[SpoolEntry]:
        for meta_path in sorted(self.directory.glob("*.json")):
            meta = _read_json(meta_path)
            data_path = meta_path.with_suffix(".data")
            if not meta or not data_path.exists():
                continue
            if meta["key"] in self.open_logs or _alive_other(meta.get("open_pid")):
                continue  # still being written by this or another live process
            yield SpoolEntry(meta["key"], data_path, meta_path, meta.get("content_type", "application/octet-stream"))

    def count(self) -> int:
        return sum(1 for _ in self.entries())


# --- choosing a backend ------------------------------------------------------------------


def open_storage(uri: str, spool_dir: str | Path = ".spool", s3: S3Options = S3Options()) -> Storage:
    """``STORE_URI`` to a backend: a path (or file://) is local, s3:// is S3."""
    if not uri or not uri.strip():
        raise StorageError("STORE_URI is empty: give a directory or s3://bucket/prefix")
    parts = urlsplit(uri)
    if parts.scheme == "s3":
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
    tmp = path.parent / f"{os.getpid()}-{path.name}.tmp"
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


def _spool_name(uri: str) -> str:
    return "s3-" + sha256_hex(uri.encode())[:16]


def _is_transient(exc: Exception) -> bool:
    """Connection problems, throttling and server errors: worth spooling and retrying later."""
    from botocore.exceptions import ClientError, ConnectionError as BotoConnectionError, HTTPClientError

    if isinstance(exc, (BotoConnectionError, HTTPClientError, ConnectionError, TimeoutError)):
        return True
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        code = exc.response.get("Error", {}).get("Code", "")
        return status >= 500 or status == 429 or code in ("SlowDown", "RequestTimeout", "Throttling")
    return type(exc).__name__ in ("S3UploadFailedError", "ReadTimeoutError", "EndpointConnectionError")


def _error_text(exc: Exception) -> str:
    """A one-line description of an S3 error that never includes credentials or signed URLs."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    text = re.sub(r"(X-Amz-Credential|X-Amz-Signature|Signature|AWSAccessKeyId)=[^&\s]+", r"\1=***", text)
    text = re.sub(r"\b(AKIA|ASIA)[A-Z0-9]{12,}\b", "***", text)
    return f"{type(exc).__name__}: {text}"[:300]
