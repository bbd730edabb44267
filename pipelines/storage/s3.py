"""The S3 backend: objects under ``s3://bucket/prefix`` through boto3, with a local spool.

Credentials, region and endpoint come from boto3's standard chain
(environment, ``AWS_PROFILE``/``S3_PROFILE``, config files, instance roles,
``AWS_ENDPOINT_URL`` for MinIO, SeaweedFS, R2 and the like); the project
never holds a key. Every upload carries a SHA-256 checksum that S3 verifies,
and the body's SHA-256 in the ``sha256`` metadata, so content already stored
is not uploaded again.

Nothing is lost when S3 fails: an upload that still fails after boto3's
adaptive retries goes to the spool (a local directory), and for
``S3Options.outage_pause`` seconds new objects go straight there instead of
waiting on retries. :meth:`S3Storage.flush_spool` uploads the spool later;
until then reads see spooled objects as if they were stored.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import shutil
import stat
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from pipelines.storage import AppendLog, StorageError, check_key, content_type_for, sha256_hex
from pipelines.storage.local import LocalAppendLog, read_range
from pipelines.storage.spool import Spool, SpoolEntry, SpoolOperation

logger = logging.getLogger(__name__)
NOT_FOUND = ("404", "NoSuchKey", "NotFound")
TRANSIENT_CODES = ("SlowDown", "RequestTimeout", "RequestTimeTooSkewed", "Throttling", "ThrottlingException",
                   "ServiceUnavailable", "InternalError")
# At DEBUG these log every request with its Authorization header (the access key id): never below WARNING.
AWS_LOGGERS = ("botocore", "boto3", "s3transfer", "urllib3")


_sessions_lock = threading.RLock()  # a botocore session is not thread-safe, its clients are
# sessions kept, the most recently used: a crawl uses one; a process that moves between S3 setups (tests, each
# with its own server) must not keep a session (the S3 model loaded: see aws_session) for every one it ever used
KEEP_SESSIONS = 4
# the files boto3 reads credentials and profiles from: the variable that moves each, and where it is by default
AWS_FILES = (("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"), ("AWS_CONFIG_FILE", "~/.aws/config"))


def aws_session(profile: str | None = None) -> Any:
    """The process's boto3 session for a profile and the ``AWS_*`` environment it started with.

    Each component of a crawl opens the store (the stages, the WARC writer, the run record, the spool's
    flush: about six S3Storage a crawl). A new session loads S3's service model every time (0.07-0.19 s
    and 12 MB each, measured on the 2-core development machine); a client of a session made already costs
    about 5 ms and no memory to speak of. A changed ``AWS_*`` variable (other keys, another endpoint)
    gets a session of its own, and so does a rewritten credentials or config file (a tool renewing a
    temporary token), so that what the environment says always holds.
    """
    with _sessions_lock:
        return _session(*_session_key(profile))


@lru_cache(maxsize=KEEP_SESSIONS)
def _session(profile: str | None, setup: str) -> Any:
    """A new session; ``setup`` (the environment's digest) only keys the cache."""
    import boto3

    return boto3.session.Session(profile_name=profile or None)


def _session_key(profile: str | None) -> tuple[str | None, str]:
    """The profile and a digest of what boto3 reads at a session's start: the ``AWS_*`` variables and the
    times the credentials and config files were written (a digest: the key must not hold a secret)."""
    environment = sorted((name, value) for name, value in os.environ.items() if name.startswith("AWS_"))
    files = []
    for variable, default in AWS_FILES:
        path = os.path.expanduser(os.environ.get(variable) or default)
        try:
            found = os.stat(path)
        except OSError:
            found = None
        # a regular file's write time; not a device's (/dev/null's changes with every write to it)
        files.append((path, found.st_mtime_ns if found and stat.S_ISREG(found.st_mode) else None))
    return profile, hashlib.sha256(repr((environment, files)).encode()).hexdigest()


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


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


class S3Storage:
    """Objects under ``s3://bucket/prefix``; what cannot be uploaded waits in the spool."""

    def __init__(self, uri: str, spool_dir: str | Path, options: S3Options = S3Options()):
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        self.check_uri(uri)
        parts = urlsplit(uri)
        for name in AWS_LOGGERS:
            if logging.getLogger(name).level < logging.WARNING:
                logging.getLogger(name).setLevel(logging.WARNING)
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self.uri = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        config = Config(
            retries={"mode": "adaptive", "max_attempts": options.max_attempts},
            connect_timeout=options.connect_timeout,
            read_timeout=options.read_timeout,
            max_pool_connections=options.max_pool_connections,
        )
        with _sessions_lock:
            self.client = aws_session(options.profile).client(
                "s3", endpoint_url=options.endpoint_url or None, region_name=options.region or None, config=config
            )
        self.transfer = TransferConfig(multipart_threshold=options.multipart_threshold, use_threads=True)
        self.spool = Spool(Path(spool_dir).expanduser() / _spool_name(self.uri))
        self.outage_pause = options.outage_pause
        self._down_until = 0.0
        self._lock = threading.Lock()
        self.spooled_keys: set[str] = set()  # objects this process left in the spool
        self.flushed = 0  # spooled objects this process uploaded

    @staticmethod
    def check_uri(uri: str) -> None:
        parts = urlsplit(uri)
        if "@" in parts.netloc:
            raise StorageError("STORE_URI: credentials do not belong in the URI; use the AWS credential chain")
        if parts.scheme != "s3" or not parts.hostname:
            raise StorageError(f"STORE_URI={uri!r}: expected s3://bucket/prefix")

    @classmethod
    def from_settings(cls, uri: str, settings: Mapping[str, Any]) -> S3Storage:
        """The S3 settings (S3_ENDPOINT_URL, S3_REGION, S3_PROFILE, S3_MAX_ATTEMPTS, ...) and the spool's directory."""
        defaults = S3Options()
        options = S3Options(
            endpoint_url=settings.get("S3_ENDPOINT_URL") or None,
            region=settings.get("S3_REGION") or None,
            profile=settings.get("S3_PROFILE") or None,
            max_attempts=int(settings.get("S3_MAX_ATTEMPTS") or defaults.max_attempts),
            multipart_threshold=int(settings.get("S3_MULTIPART_THRESHOLD") or defaults.multipart_threshold),
            outage_pause=float(settings.get("S3_OUTAGE_PAUSE", defaults.outage_pause)),
        )
        return cls(uri, settings.get("STORE_SPOOL_DIR") or ".spool", options)

    # --- names -----------------------------------------------------------------------------

    def object_key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def describe(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.object_key(key)}"

    @property
    def spooled(self) -> int:
        return len(self.spooled_keys)

    @property
    def available(self) -> bool:
        """False for ``outage_pause`` seconds after an upload failed past its retries."""
        return time.monotonic() >= self._down_until

    def check(self) -> None:
        """Fail early, in one line, when the bucket is missing, forbidden or unreachable."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except Exception as exc:
            code = _error_code(exc)
            if code in NOT_FOUND or code == "NoSuchBucket":
                raise StorageError(f"STORE_URI={self.uri}: bucket {self.bucket!r} does not exist") from None
            if code in ("403", "AccessDenied"):
                raise StorageError(f"STORE_URI={self.uri}: access denied to bucket {self.bucket!r} "
                                   "(check the AWS credentials and the bucket policy)") from None
            raise StorageError(f"STORE_URI={self.uri}: cannot reach S3: {_error_text(exc)}") from None

    # --- writing ---------------------------------------------------------------------------

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> bool:
        digest = sha256_hex(data)
        if self.available:
            try:
                self._copy_pending(key)
                if self._stored_digest(key) == digest:
                    self.spool.discard(key)
                    return False
                self.client.put_object(
                    Bucket=self.bucket, Key=self.object_key(key), Body=data, ContentType=content_type,
                    ChecksumAlgorithm="SHA256", ChecksumSHA256=base64.b64encode(bytes.fromhex(digest)).decode(),
                    Metadata={"sha256": digest},
                )
                self.spool.discard(key)  # an older spooled version must not overwrite this one at the next flush
                return True
            except Exception as exc:  # botocore raises many types; _unavailable sorts them
                self._unavailable(key, exc)
        if self.spool.get(key) == data:
            return False
        self.spool.add(key, data, content_type)
        self._spooled(key)
        return True

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> None:
        """Managed upload (multipart above ``multipart_threshold``), checksummed; spooled on failure."""
        if self.available:
            try:
                self._upload_path(key, Path(path), content_type)
                self.spool.discard(key)
                return
            except Exception as exc:
                self._unavailable(key, exc)
        self.spool.add_file(key, Path(path), content_type)
        self._spooled(key)

    def open_append(self, key: str) -> AppendLog:
        check_key(key)
        return SpooledAppendLog(self, key)

    def delete(self, key: str) -> None:
        """Delete an object; while S3 is down the delete waits in the spool, made after the spooled uploads."""
        self.spool.discard(key)
        if self.available:
            try:
                self._delete_in_s3(key)
                return
            except Exception as exc:
                if not _is_transient(exc):
                    raise StorageError(f"cannot delete {self.describe(key)}: {_error_text(exc)}") from None
                self._unavailable(key, exc)
        self.spool.add_delete(key)
        self._spooled(key)

    def copy(self, source: str, key: str) -> bool:
        """Copy an object (S3 copies it server-side); False when there is no ``source``.

        While S3 is down the copy waits in the spool. It is made before ``source`` is next uploaded or
        deleted, so that a revision keeps the text it replaces even when that text is only in S3.
        """
        entry = self.spool.entry(source)
        if entry is not None:  # the newest version of source is spooled: it is the one to copy
            try:
                data = entry.data_path.read_bytes()
            except FileNotFoundError:  # flushed meanwhile: now in S3
                pass
            else:
                self.put(key, data, entry.content_type)
                return True
        if self.spool.deleting(source):
            return False
        if self.available:
            try:
                self._copy_pending(source)
                self._copy_in_s3(source, key)
                self.spool.discard(key)
                return True
            except Exception as exc:
                if _error_code(exc) in NOT_FOUND:
                    return False
                self._unavailable(key, exc)
        self.spool.add_copy(source, key)
        self._spooled(key)
        return True

    def _copy_in_s3(self, source: str, key: str) -> None:
        # the copy keeps the original's metadata (its sha256) and content type
        self.client.copy_object(Bucket=self.bucket, Key=self.object_key(key),
                                CopySource={"Bucket": self.bucket, "Key": self.object_key(source)})

    def _delete_in_s3(self, key: str) -> None:
        self._copy_pending(key)
        self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))

    def _copy_pending(self, source: str) -> None:
        """Make the copy waiting in the spool from ``source`` before ``source`` changes in S3."""
        operation = self.spool.copy_from(source)
        if operation is None:
            return
        try:
            self._copy_in_s3(operation.source, operation.key)
        except Exception as exc:
            if _error_code(exc) not in NOT_FOUND:
                raise
            logger.warning("nothing to copy to %s: %s is gone", self.describe(operation.key), self.describe(source))
        operation.remove()

    def _upload_path(self, key: str, path: Path, content_type: str) -> bool:
        """Upload a file unless the same content is stored; False when it was."""
        self._copy_pending(key)
        digest = file_sha256(path)
        if self._stored_digest(key) == digest:
            return False
        self.client.upload_file(
            str(path), self.bucket, self.object_key(key), Config=self.transfer,
            ExtraArgs={"ContentType": content_type, "ChecksumAlgorithm": "SHA256", "Metadata": {"sha256": digest}},
        )
        return True

    def _head(self, key: str) -> dict | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except Exception as exc:
            if _error_code(exc) in NOT_FOUND:
                return None
            raise

    def _stored_digest(self, key: str) -> str | None:
        head = self._head(key)
        return head.get("Metadata", {}).get("sha256") if head else None

    # --- outages ---------------------------------------------------------------------------

    def _unavailable(self, key: str, exc: Exception) -> None:
        """A failed upload: raise when retrying cannot help, else spool for a while."""
        if not _is_transient(exc):
            raise StorageError(f"cannot write {self.describe(key)}: {_error_text(exc)}") from None
        with self._lock:
            first = self.available
            self._down_until = time.monotonic() + self.outage_pause
        if first:
            logger.warning("S3 unavailable (%s): objects go to the spool %s for %gs, then S3 is tried again; "
                           "`scrapy flush` uploads them", _error_text(exc), self.spool.directory, self.outage_pause)

    def _spooled(self, key: str) -> None:
        with self._lock:
            self.spooled_keys.add(key)
        logger.debug("spooled %s", self.describe(key))

    # --- reading (the spool holds newer versions than S3) -----------------------------------

    def get(self, key: str) -> bytes | None:
        spooled = self.spool.get(key)
        if spooled is not None:
            return spooled
        if self.spool.deleting(key):
            return None
        key = self.spool.copied_from(key) or key  # a copy not made yet: S3 still holds it under its source
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))["Body"].read()
        except Exception as exc:
            if _error_code(exc) in NOT_FOUND:
                return None
            raise StorageError(f"cannot read {self.describe(key)}: {_error_text(exc)}") from None

    def exists(self, key: str) -> bool:
        if self.spool.path(key) is not None:
            return True
        if self.spool.deleting(key):
            return False
        if self.spool.copied_from(key):
            return True
        try:
            return self.exists_in_s3(key)
        except Exception as exc:
            raise StorageError(f"cannot read {self.describe(key)}: {_error_text(exc)}") from None

    def size(self, key: str) -> int | None:
        spooled = self.spool.path(key)
        if spooled is not None:
            return spooled.stat().st_size
        if self.spool.deleting(key):
            return None
        try:
            head = self._head(self.spool.copied_from(key) or key)
        except Exception as exc:
            raise StorageError(f"cannot read {self.describe(key)}: {_error_text(exc)}") from None
        return head["ContentLength"] if head is not None else None

    def exists_in_s3(self, key: str) -> bool:
        return self._head(key) is not None

    def list(self, prefix: str) -> Iterator[str]:
        prefix = prefix.strip("/")
        full = self.object_key(prefix) + "/" if prefix else (f"{self.prefix}/" if self.prefix else "")
        strip = len(self.prefix) + 1 if self.prefix else 0
        keys = set(self.spool.keys(f"{prefix}/" if prefix else ""))
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=full):
                keys.update(item["Key"][strip:] for item in page.get("Contents", []))
        except Exception as exc:
            raise StorageError(f"cannot list s3://{self.bucket}/{full}: {_error_text(exc)}") from None
        keys.update(op.key for op in self.spool.operations("copy") if op.key.startswith(f"{prefix}/" if prefix else ""))
        keys.difference_update(operation.key for operation in self.spool.operations("delete"))
        yield from sorted(keys)

    def open_read(self, key: str) -> BinaryIO:
        path = self.spool.path(key)
        if path is not None:
            return open(path, "rb")
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))["Body"]
        except Exception as exc:
            if _error_code(exc) in NOT_FOUND:
                raise FileNotFoundError(f"{self.describe(key)}: no such object") from None
            raise StorageError(f"cannot read {self.describe(key)}: {_error_text(exc)}") from None

    def open_range(self, key: str, start: int, end: int | None = None) -> BinaryIO:
        """Bytes ``[start, end)`` of an object with one ranged GET: a replay of a few records reads only those."""
        path = self.spool.path(key)
        if path is not None:
            return read_range(path, start, end)
        try:
            span = f"bytes={start}-{'' if end is None else end - 1}"
            return self.client.get_object(Bucket=self.bucket, Key=self.object_key(key), Range=span)["Body"]
        except Exception as exc:
            if _error_code(exc) in NOT_FOUND:
                raise FileNotFoundError(f"{self.describe(key)}: no such object") from None
            raise StorageError(f"cannot read {self.describe(key)}: {_error_text(exc)}") from None

    # --- the spool -------------------------------------------------------------------------

    def flush_spool(self) -> tuple[int, int]:
        """Make what earlier failures left in the spool; returns (objects and changes made, left).

        Copies first (each keeps a text that an upload or a delete would replace), then uploads, then
        deletes (a moved article's old file goes once its new one is there).
        """
        steps: list[tuple[str, Any]] = [(op.source, partial(self._copy_pending, op.source))
                                        for op in self.spool.operations("copy")]
        steps += [(entry.key, partial(self._flush_entry, entry)) for entry in self.spool.entries()]
        steps += [(op.key, partial(self._flush_delete, op)) for op in self.spool.operations("delete")]
        flushed = 0
        for key, step in steps:
            try:
                step()
            except Exception as exc:
                if _is_transient(exc):
                    self._unavailable(key, exc)
                    break
                logger.error("cannot flush %s, it stays in the spool: %s", self.describe(key), _error_text(exc))
                continue
            flushed += 1
        with self._lock:
            self.flushed += flushed
            if flushed:
                self._down_until = 0.0  # S3 answers again
        return flushed, self.spool.count()

    def _flush_entry(self, entry: SpoolEntry) -> None:
        self._settle(entry)
        self._upload_path(entry.key, entry.data_path, entry.content_type)
        entry.remove()

    def _flush_delete(self, operation: SpoolOperation) -> None:
        self._delete_in_s3(operation.key)
        operation.remove()

    def _seed(self, log: LocalAppendLog) -> bool:
        """Start a new spool file with what S3 holds under its key, as a local append would; False if unknown."""
        if not self.available:
            return False
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.object_key(log.key))["Body"]
        except Exception as exc:
            if _error_code(exc) in NOT_FOUND:
                return True
            if not _is_transient(exc):
                raise StorageError(f"cannot read {self.describe(log.key)}: {_error_text(exc)}") from None
            self._unavailable(log.key, exc)
            return False
        while chunk := body.read(1024 * 1024):
            log.write(chunk)
        return True

    def _settle(self, entry: SpoolEntry) -> None:
        """A closed append log opened while S3 was down: put what S3 held under its key before its chunks."""
        if entry.seeded:
            return
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.object_key(entry.key))["Body"]
        except Exception as exc:
            if _error_code(exc) not in NOT_FOUND:
                raise
        else:
            merged = entry.data_path.with_name(f"{os.getpid()}-{threading.get_ident()}-merge.tmp")
            with open(merged, "wb") as handle, open(entry.data_path, "rb") as source:
                shutil.copyfileobj(body, handle)
                shutil.copyfileobj(source, handle)
            os.replace(merged, entry.data_path)
        # a crash right here merges once more at the next flush: repeated lines or records, never lost ones
        self.spool.mark_seeded(entry.key)


class SpooledAppendLog:
    """An append log for S3: chunks go to a spool file, uploaded whole on ``sync`` and ``close``.

    Until an upload of its final size succeeds the file stays in the spool, so
    a crash or an outage leaves it for the next flush. A key that S3 already
    holds (a resumed run) is continued, as a local file would be.
    """

    def __init__(self, storage: S3Storage, key: str):
        self.storage = storage
        self.key = key
        self.inner, fresh = storage.spool.open_append(key)
        self.seeded = storage._seed(self.inner) if fresh else storage.spool.is_seeded(key)
        if not self.seeded:
            storage.spool.mark_seeded(key, False)
        self.size = self.inner.size
        self.uploaded = -1

    def write(self, data: bytes) -> None:
        self.inner.write(data)
        self.size = self.inner.size

    def sync(self) -> None:
        if self.uploaded == self.size or not self.storage.available:
            return
        try:
            if not self.seeded:
                if self.storage.exists_in_s3(self.key):
                    return  # S3 holds an earlier part: merged once the log is closed (see S3Storage._settle)
                self.seeded = True
                self.storage.spool.mark_seeded(self.key)
            self.storage._upload_path(self.key, self.inner.path, content_type_for(self.key))
        except Exception as exc:
            self.storage._unavailable(self.key, exc)
            return
        self.uploaded = self.size

    def close(self) -> None:
        if self.inner.fd < 0:
            return
        self.inner.close()
        try:
            self.sync()
        finally:
            uploaded = self.uploaded == self.size
            self.storage.spool.release(self.key, uploaded)
            if not uploaded:
                self.storage._spooled(self.key)


def _spool_name(uri: str) -> str:
    return "s3-" + sha256_hex(uri.encode())[:16]


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    return str((response or {}).get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def _is_transient(exc: Exception) -> bool:
    """Connection problems, throttling and server errors: worth spooling and retrying later."""
    from botocore.exceptions import ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as BotoConnectionError

    if isinstance(exc, (BotoConnectionError, HTTPClientError, ConnectionError, TimeoutError)):
        return True
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return status >= 500 or status == 429 or _error_code(exc) in TRANSIENT_CODES
    if type(exc).__name__ == "S3UploadFailedError":  # boto3's managed transfer wraps the ClientError
        cause = exc.__cause__ or exc.__context__
        return _is_transient(cause) if isinstance(cause, Exception) else True
    return type(exc).__name__ == "RetriesExceededError"


def _error_text(exc: Exception) -> str:
    """A one-line description of an S3 error that never includes credentials or signed URLs."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    text = re.sub(r"(X-Amz-Credential|X-Amz-Signature|X-Amz-Security-Token|Signature|AWSAccessKeyId|Credential)"
                  r"=[^&\s,]+", r"\1=***", text)
    text = re.sub(r"\b(AKIA|ASIA)[A-Z0-9]{12,}\b", "***", text)
    return f"{type(exc).__name__}: {text}"[:300]
