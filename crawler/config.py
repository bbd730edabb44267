"""Settings checks: a bad value is one line naming the setting, before anything starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from crawler.errors import ConfigError
from crawler.frontier import check_frontier_settings
from pipelines.document.render import FORMATS
from pipelines.runtime import CRAWL_ID_RE, store_from_settings
from pipelines.storage import StorageError, check_uri as storage_check_uri

# name -> (reader, check, what it must be)
NUMBERS: dict[str, tuple[str, Callable[[float], bool], str]] = {
    "ARCHIVE_GZIP_LEVEL": ("getint", lambda v: 0 <= v <= 3, "an ISA-L level from 0 (fastest) to 3 (smallest)"),
    "ARCHIVE_MAX_SIZE": ("getint", lambda v: v > 0, "a size in bytes above 0"),
    "ARCHIVE_QUEUE_BYTES": ("getint", lambda v: v > 0, "a size in bytes above 0"),
    "ARCHIVE_QUEUE_SIZE": ("getint", lambda v: v > 0, "a whole number above 0"),
    "CONCURRENT_REQUESTS": ("getint", lambda v: v > 0, "a whole number above 0"),
    "CONCURRENT_REQUESTS_PER_DOMAIN": ("getint", lambda v: v > 0, "a whole number above 0"),
    "DOWNLOAD_DELAY": ("getfloat", lambda v: v >= 0, "seconds, 0 or more"),
    "DOWNLOAD_MAXSIZE": ("getint", lambda v: v >= 0, "a size in bytes (0: no limit)"),
    "DOWNLOAD_TIMEOUT": ("getfloat", lambda v: v > 0, "seconds above 0"),
    "EXTRACT_MAX_BYTES": ("getint", lambda v: v > 0, "a size in bytes above 0"),
    "EXTRACT_MIN_WORDS": ("getint", lambda v: v >= 0, "a whole number, 0 or more"),
    "EXTRACT_TIMEOUT": ("getfloat", lambda v: v > 0, "seconds above 0"),
    "EXTRACT_WORKERS": ("getint", lambda v: v >= -1, "a number of processes (-1: one per core, 0: none)"),
    "FRONTIER_EXPIRE": ("getint", lambda v: v > 0, "seconds above 0"),
    "FRONTIER_IDLE_TIMEOUT": ("getfloat", lambda v: v > 0, "seconds above 0"),
    "PROGRESS_INTERVAL": ("getfloat", lambda v: v >= 0, "seconds, 0 or more"),
    "REVISIT_AFTER": ("getfloat", lambda v: v >= 0, "seconds, 0 or more (0: always refetch)"),
    "STORE_THREADS": ("getint", lambda v: v > 0, "a whole number above 0"),
    "STORE_MANIFEST_SYNC_EVERY": ("getint", lambda v: v >= 0, "a whole number, 0 or more"),
    "S3_MAX_ATTEMPTS": ("getint", lambda v: v > 0, "a whole number above 0"),
    "S3_MULTIPART_THRESHOLD": ("getint", lambda v: v > 0, "a size in bytes above 0"),
    "S3_OUTAGE_PAUSE": ("getfloat", lambda v: v >= 0, "seconds, 0 or more"),
}
BOOLEANS = ("ALLOW_PRIVATE_NETWORKS", "ARCHIVE_ENABLED", "ARCHIVE_CDXJ", "CLEAN_ENABLED", "ROBOTSTXT_OBEY", "AUTOTHROTTLE_ENABLED")


def check_settings(settings: Any) -> None:
    for name, (reader, check, expected) in NUMBERS.items():
        try:
            value = getattr(settings, reader)(name)
        except (TypeError, ValueError):
            raise ConfigError(f"setting {name}={settings.get(name)!r}: expected {expected}") from None
        if not check(value):
            raise ConfigError(f"setting {name}={settings.get(name)!r}: expected {expected}")
    for name in BOOLEANS:
        try:
            settings.getbool(name)
        except ValueError:
            raise ConfigError(f"setting {name}={settings.get(name)!r}: expected true or false") from None
    if settings.get("OUTPUT_FORMAT") not in FORMATS:
        raise ConfigError(f"setting OUTPUT_FORMAT={settings.get('OUTPUT_FORMAT')!r}: expected one of {', '.join(FORMATS)}")
    check_store_uri(settings.get("STORE_URI") or "", settings.getwithbase("STORE_BACKENDS"))
    crawl_id = settings.get("CRAWL_ID") or ""
    if crawl_id and not CRAWL_ID_RE.match(crawl_id):
        raise ConfigError(f"setting CRAWL_ID={crawl_id!r}: use letters, digits, '.', '_' and '-'")
    worker = settings.get("WORKER_ID") or ""
    if worker and not CRAWL_ID_RE.match(worker):
        raise ConfigError(f"setting WORKER_ID={worker!r}: use letters, digits, '.', '_' and '-'")
    replay = settings.get("REPLAY_WARC") or ""
    if replay and "://" not in replay:
        path = Path(replay)
        if not path.exists():
            raise ConfigError(f"setting REPLAY_WARC={replay!r}: no such file or directory")
        if path.is_dir() and not any(path.rglob("*.warc*")):
            raise ConfigError(f"setting REPLAY_WARC={replay!r}: no WARC files in that directory")
    check_frontier_settings(settings)


def check_store(settings: Any) -> None:
    """The store can be used: on S3 the bucket exists and the credentials work (one request, before a crawl)."""
    check = getattr(store_from_settings(settings), "check", None)
    if check:
        check()


def check_store_uri(uri: str, backends: Any = None) -> None:
    """One line naming what is wrong with a ``STORE_URI``; the backend for its scheme says what it needs."""
    try:
        storage_check_uri(uri, backends)
    except StorageError as exc:
        raise ConfigError(f"setting {exc}") from None
