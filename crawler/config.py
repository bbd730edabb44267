"""Settings checks: a bad value is one line naming the setting, before anything starts."""

from __future__ import annotations

import difflib
import importlib
import logging
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

from scrapy.utils.misc import load_object

from crawler.errors import ConfigError
from crawler.frontier import check_frontier_settings
from crawler.identity import check_ids
from pipelines.document.render import FORMATS
from pipelines.storage import StorageError, backend_class, storage_from_settings
from pipelines.storage import check_uri as storage_check_uri
from pipelines.storage.local import LocalStorage

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
    "RUN_RECORD_URLS": ("getint", lambda v: v >= 0, "a whole number, 0 or more"),
    "ALARM_DROP": ("getfloat", lambda v: 0 < v < 1, "a share between 0 and 1 (0.5: below half the usual value)"),
    "ALARM_HISTORY_RUNS": ("getint", lambda v: v > 0, "a whole number above 0"),
    "ALARM_MIN_ARTICLES": ("getint", lambda v: v >= 0, "a whole number, 0 or more"),
    "ALARM_MIN_RUNS": ("getint", lambda v: v > 0, "a whole number above 0"),
    "REPLAY_LEASE": ("getfloat", lambda v: v >= 1, "seconds, 1 or more"),
    "REPLAY_UNIT_SIZE": ("getint", lambda v: v > 0, "a size in bytes above 0"),
    "REVISIT_AFTER": ("getfloat", lambda v: v >= 0, "seconds, 0 or more (0: always refetch)"),
    "STORE_THREADS": ("getint", lambda v: v > 0, "a whole number above 0"),
    "STORE_MANIFEST_SYNC_EVERY": ("getint", lambda v: v >= 0, "a whole number, 0 or more"),
    "S3_MAX_ATTEMPTS": ("getint", lambda v: v > 0, "a whole number above 0"),
    "S3_MULTIPART_THRESHOLD": ("getint", lambda v: v > 0, "a size in bytes above 0"),
    "S3_OUTAGE_PAUSE": ("getfloat", lambda v: v >= 0, "seconds, 0 or more"),
    # the other numbers settings/base.py gives a value (Scrapy's, the retry middleware's)
    "AUTOTHROTTLE_MAX_DELAY": ("getfloat", lambda v: v >= 0, "seconds, 0 or more"),
    "AUTOTHROTTLE_START_DELAY": ("getfloat", lambda v: v >= 0, "seconds, 0 or more"),
    "AUTOTHROTTLE_TARGET_CONCURRENCY": ("getfloat", lambda v: v > 0, "a number above 0"),
    "CONCURRENT_ITEMS": ("getint", lambda v: v > 0, "a whole number above 0"),
    "DNS_TIMEOUT": ("getfloat", lambda v: v > 0, "seconds above 0"),
    "DOWNLOAD_WARNSIZE": ("getint", lambda v: v >= 0, "a size in bytes (0: no warning)"),
    "LOGSTATS_INTERVAL": ("getfloat", lambda v: v >= 0, "seconds, 0 or more (0: none)"),
    "REDIRECT_MAX_TIMES": ("getint", lambda v: v >= 0, "a whole number, 0 or more"),
    "RETRY_AFTER_MAX": ("getfloat", lambda v: v >= 0, "seconds, 0 or more"),
    "RETRY_BACKOFF_BASE": ("getfloat", lambda v: v >= 0, "seconds, 0 or more"),
    "RETRY_BACKOFF_MAX": ("getfloat", lambda v: v >= 0, "seconds, 0 or more"),
    "RETRY_TIMES": ("getint", lambda v: v >= 0, "a whole number, 0 or more"),
    "SCRAPER_SLOT_MAX_ACTIVE_SIZE": ("getint", lambda v: v > 0, "a size in bytes above 0"),
}
# every true/false setting settings/base.py gives a value (a test keeps both tables in step with it)
BOOLEANS = ("ALLOW_PRIVATE_NETWORKS", "ALARM_ENABLED", "ARCHIVE_ENABLED", "ARCHIVE_CDXJ", "AUTOTHROTTLE_ENABLED",
            "CLEAN_ENABLED", "COOKIES_ENABLED", "EXTRACT_FAVOR_PRECISION", "EXTRACT_INCLUDE_COMMENTS",
            "EXTRACT_INCLUDE_TABLES", "EXTRACT_WORKERS_FIRST", "PROGRESS_SUMMARY", "REMOTE_CONTROL_ENABLED",
            "REPLAY_DIFF", "REPLAY_STREAM", "RETRY_ENABLED", "ROBOTSTXT_OBEY", "TELNETCONSOLE_ENABLED")


def check_log_level(settings: Any) -> None:
    """``-L`` / ``LOG_LEVEL`` names a level logging knows (else a traceback from the logging set-up)."""
    level = settings.get("LOG_LEVEL")
    if not isinstance(level, int) and level not in logging.getLevelNamesMapping():
        raise ConfigError(f"setting LOG_LEVEL={level!r} (-L): expected one of CRITICAL, ERROR, WARNING, INFO, DEBUG")


def check_settings(settings: Any) -> None:
    check_log_level(settings)
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
        raise ConfigError(
            f"setting OUTPUT_FORMAT={settings.get('OUTPUT_FORMAT')!r}: expected one of {', '.join(FORMATS)}"
        )
    check_store_uri(settings.get("STORE_URI") or "", settings.getwithbase("STORE_BACKENDS"))
    check_ids(settings)
    replay = settings.get("REPLAY_WARC") or ""
    if replay and "://" not in replay:
        path = Path(replay)
        if not path.exists():
            raise ConfigError(f"setting REPLAY_WARC={replay!r}: no such file or directory")
        if path.is_dir() and not any(path.rglob("*.warc*")):
            raise ConfigError(f"setting REPLAY_WARC={replay!r}: no WARC files in that directory")
    check_jobdir(settings.get("JOBDIR") or "")
    check_frontier_settings(settings)
    check_servers_loaded(settings)


# switched off, and left out of EXTENSIONS_BASE so that a crawl does not even import them (settings/base.py)
SERVER_EXTENSIONS = {"TELNETCONSOLE_ENABLED": "scrapy.extensions.telnet.TelnetConsole",
                     "REMOTE_CONTROL_ENABLED": "scrapy.extensions.remote_control.RemoteControl"}


def check_servers_loaded(settings: Any) -> None:
    """A console or remote control switched on that no EXTENSIONS entry loads would silently not run.

    An entry is a path or a class (a settings module's, ``CrawlerProcess({...})``'s), Scrapy's or a subclass of it.
    """
    switched_on = [(setting, path) for setting, path in SERVER_EXTENSIONS.items() if settings.getbool(setting)]
    if not switched_on:
        return  # nothing imported: the remote control's aiohttp is what settings/base.py keeps out of a crawl
    loaded = [_component(name) for name, order in settings.getwithbase("EXTENSIONS").items() if order is not None]
    for setting, path in switched_on:
        server = load_object(path)
        if not any(isinstance(cls, type) and issubclass(cls, server) for cls in loaded):
            raise ConfigError(f"setting {setting}=True: also name the extension to load it, "
                              f"-s 'EXTENSIONS={{\"{path}\": 0}}' (docs/safety.md)")


def _component(name: Any) -> Any:
    """An EXTENSIONS key as its class; a path that does not load is Scrapy's to report, when it loads them."""
    if not isinstance(name, str):
        return name
    try:
        return load_object(name)
    except (ImportError, NameError, ValueError, AttributeError):
        return None


def check_jobdir(jobdir: str) -> None:
    """A ``JOBDIR`` that is a file, or lies under one, is refused here: Scrapy fails on it inside the engine."""
    if not jobdir:
        return
    path = Path(jobdir).expanduser()
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise ConfigError(f"setting JOBDIR={jobdir!r}: expected a directory; {existing} is not one")


def check_store(settings: Any) -> None:
    """The store can be used: on S3 the bucket exists and the credentials work (one request, before a crawl)."""
    check = getattr(storage_from_settings(settings), "check", None)
    if check:
        check()


def check_existing_store(settings: Any) -> None:
    """For commands that only read a store (report, browse): its URI is valid and a local one exists."""
    uri = settings.get("STORE_URI") or ""
    backends = settings.getwithbase("STORE_BACKENDS")
    check_store_uri(uri, backends)
    backend = backend_class(uri, backends)  # a file:// URI is a directory as much as a path is
    if isinstance(backend, type) and issubclass(backend, LocalStorage) and not backend.location(uri).is_dir():
        raise ConfigError(f"setting STORE_URI={uri!r}: no such store directory")


def check_store_uri(uri: str, backends: Any = None) -> None:
    """One line naming what is wrong with a ``STORE_URI``; the backend for its scheme says what it needs."""
    try:
        storage_check_uri(uri, backends)
    except StorageError as exc:
        raise ConfigError(f"setting {exc}") from None


# Settings of libraries the project runs with, not in Scrapy's defaults nor ours (scrapy-redis reads these)
LIBRARY_SETTINGS = ("scrapy_redis.defaults",)
EXTRA_KNOWN = frozenset(
    {
        "REDIS_URL",
        "REDIS_HOST",
        "REDIS_PORT",
        "REDIS_PARAMS",
        "REDIS_ENCODING",
        "REDIS_START_URLS_KEY",
        "REDIS_START_URLS_AS_SET",
        "REDIS_ITEMS_KEY",
        "REDIS_ITEMS_SERIALIZER",
        "SCHEDULER_PERSIST",
        "SCHEDULER_QUEUE_CLASS",
        "SCHEDULER_QUEUE_KEY",
        "SCHEDULER_DUPEFILTER_KEY",
        "SCHEDULER_DUPEFILTER_CLASS",
        "SCHEDULER_FLUSH_ON_START",
        "SCHEDULER_IDLE_BEFORE_CLOSE",
        "SCHEDULER_SERIALIZER",
        "DUPEFILTER_KEY",
        "DUPEFILTER_DEBUG",
    }
)


def check_setting_names(settings: Any, given: Iterable[str], where: str = "") -> None:
    """A setting name given on the command line (or in a schedule) that is unknown but close to a known one.

    Only near misses are refused: a name unlike any known one may belong to an add-on, a
    middleware or a library the project does not know of, and is left alone.
    """
    known = known_settings(settings)
    for name in given:
        if name in known:
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.85)
        if close:
            raise ConfigError(f"{where}{name}: unknown setting; did you mean {close[0]}?")


def known_settings(settings: Any) -> frozenset[str]:
    """Scrapy's settings, the project's (settings/base.py and the module in use), and the libraries'."""
    names = set(_module_settings("scrapy.settings.default_settings", "settings.base", *LIBRARY_SETTINGS))
    for name in settings.attributes if hasattr(settings, "attributes") else ():
        if (settings.getpriority(name) or 0) <= 20:  # 'project' and below: set by code, not by a user's -s
            names.add(name)
    return frozenset(names | EXTRA_KNOWN)


@cache
def _module_settings(*modules: str) -> frozenset[str]:
    names: set[str] = set()
    for module in modules:
        try:
            names.update(name for name in dir(importlib.import_module(module)) if name.isupper())
        except ImportError:
            continue
    return frozenset(names)
