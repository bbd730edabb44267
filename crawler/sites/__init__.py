"""Site files: one TOML declaration per publisher, loaded as data.

A site file says where a publisher's articles are announced (feeds,
sitemaps, section pages), which URLs are articles, what the front matter of
its documents holds, and which extra cleaning rules apply. ``scrapy crawl
<key>`` runs it; the key is the file name. TOML is parsed with ``tomllib``:
nothing in a site file runs as code.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from lxml.etree import XPath, XPathSyntaxError

from crawler.errors import ConfigError, reject_unknown_fields
from pipelines.document.render import SITE_KEY_RE
from pipelines.item import SiteProfile

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

SITES_DIR = resources.files(__name__)  # a directory, or a folder inside the zipped egg Scrapyd runs
DEFAULT_FRONT_MATTER: dict[str, Any] = {
    "extends": "_layouts.post",
    "section": "content",
    "categories": ["latest", "news"],
    "featured": True,
}
# Paths that are never articles on a news site (fronts, tags, media pages).
DEFAULT_DENY = (
    r"/(?:video|videos|watch|gallery|galleries|photos?|pictures|slideshows?|podcasts?|live-tv|tv)/",
    r"/(?:tag|tags|topic|topics|category|categories|section|author|authors|profile|search)/",
    r"\.(?:jpe?g|png|gif|webp|svg|mp4|mp3|pdf|zip|css|js)(?:\?|$)",
)
FIELDS = {
    "name", "domains", "feeds", "sitemaps", "pages", "article", "deny", "front_matter", "clean", "settings", "timezone",
}
CLEAN_FIELDS = {"inserts", "drop", "strip"}
FRONT_MATTER_FIELDS = {"extends", "section", "categories", "featured"}
# What a site file may set, and within which bounds: how its site is fetched and read, never what code runs
# (component paths) nor the network guard, and tighter than the command line's checks (crawler/config.py):
# whoever wrote the file cannot lift the crawler's safety limits (no unbounded size, retries or concurrency).
SITE_NUMBERS: dict[str, tuple[float, float]] = {
    "AUTOTHROTTLE_MAX_DELAY": (0, 600), "AUTOTHROTTLE_START_DELAY": (0, 600),
    "AUTOTHROTTLE_TARGET_CONCURRENCY": (0.1, 16), "CONCURRENT_REQUESTS_PER_DOMAIN": (1, 16),
    "DOWNLOAD_DELAY": (0, 600), "DOWNLOAD_MAXSIZE": (1, 100 * 1024 * 1024), "DOWNLOAD_TIMEOUT": (1, 600),
    "DOWNLOAD_WARNSIZE": (1, 100 * 1024 * 1024), "EXTRACT_MIN_WORDS": (0, 10_000), "REDIRECT_MAX_TIMES": (0, 20),
    "RETRY_AFTER_MAX": (0, 3600), "RETRY_BACKOFF_BASE": (0, 60), "RETRY_BACKOFF_MAX": (0, 600),
    "RETRY_TIMES": (0, 10), "REVISIT_AFTER": (0, 365 * 24 * 3600),
}
SITE_FLAGS = frozenset({"AUTOTHROTTLE_ENABLED", "CLEAN_ENABLED", "COOKIES_ENABLED", "EXTRACT_FAVOR_PRECISION",
                        "EXTRACT_INCLUDE_COMMENTS", "EXTRACT_INCLUDE_TABLES"})
SITE_SETTINGS = frozenset(SITE_NUMBERS) | SITE_FLAGS | {"DEFAULT_REQUEST_HEADERS", "RETRY_HTTP_CODES", "USER_AGENT"}


@dataclass(frozen=True)
class SiteConfig:
    key: str
    name: str
    domains: tuple[str, ...]
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    pages: tuple[str, ...] = ()
    article: str = ""  # regular expression an article URL matches (searched, not anchored)
    deny: tuple[str, ...] = ()
    front_matter: dict[str, Any] = field(default_factory=dict)
    inserts: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()
    strip: tuple[str, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)
    timezone: str = ""  # IANA name: the zone of the site's times written without an offset
    path: str = ""

    def __hash__(self) -> int:
        return hash(self.key)

    @property
    def profile(self) -> SiteProfile:
        return SiteProfile(
            key=self.key,
            source=self.name,
            front_matter={**DEFAULT_FRONT_MATTER, **self.front_matter},
            strip=self.strip,
            inserts=self.inserts,
            drop=self.drop,
            article=self.article,
            timezone=self.timezone,
        )

    def owns(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return any(host == domain or host.endswith("." + domain) for domain in self.domains)

    def is_article_url(self, url: str) -> bool:
        return bool(re.search(self.article, url)) if self.article else True


def load_site_file(path: Traversable) -> SiteConfig:
    """Read and check one site file; any problem raises :class:`ConfigError` naming the file and field.

    ``path`` is a :class:`Path` or, for the bundled files, what :data:`SITES_DIR` lists: a Traversable, which
    promises no ``stem``.
    """
    key = Path(path.name).stem
    where = f"site file {path}"
    if not SITE_KEY_RE.match(key):
        raise ConfigError(f"{where}: file name must be a snake_case key (a-z, 0-9, _), got {key!r}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from exc
    reject_unknown_fields(data, FIELDS, where)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: 'name' (the publisher's name) is required")
    domains = tuple(d.lower().removeprefix("www.") for d in _strings(data, "domains", where))
    if not domains:
        raise ConfigError(f"{where}: 'domains' must list at least one domain")
    clean = data.get("clean", {})
    if not isinstance(clean, dict) or set(clean) - CLEAN_FIELDS:
        raise ConfigError(f"{where}: 'clean' is a table with {', '.join(sorted(CLEAN_FIELDS))}")
    front_matter = data.get("front_matter", {})
    if not isinstance(front_matter, dict) or set(front_matter) - FRONT_MATTER_FIELDS:
        raise ConfigError(f"{where}: 'front_matter' is a table with {', '.join(sorted(FRONT_MATTER_FIELDS))}")
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        raise ConfigError(f"{where}: 'settings' is a table of Scrapy settings")
    _check_site_settings(settings, where)
    config = SiteConfig(
        key=key,
        name=name.strip(),
        domains=domains,
        feeds=_urls(data, "feeds", where),
        sitemaps=_urls(data, "sitemaps", where),
        pages=_urls(data, "pages", where),
        article=_regex(data.get("article", ""), "article", where),
        deny=tuple(_regex(p, "deny", where) for p in _strings(data, "deny", where)),
        front_matter=front_matter,
        inserts=tuple(_regex(p, "clean.inserts", where) for p in _strings(clean, "inserts", where)),
        drop=tuple(_regex(p, "clean.drop", where) for p in _strings(clean, "drop", where)),
        strip=tuple(_xpath(p, where) for p in _strings(clean, "strip", where)),
        settings=settings,
        timezone=_timezone(data.get("timezone", ""), where),
        path=str(path),
    )
    if not (config.feeds or config.sitemaps or config.pages):
        raise ConfigError(f"{where}: give at least one of 'feeds', 'sitemaps' or 'pages'")
    return config


def load_sites(directories: Iterable[Path | str] = ()) -> dict[str, SiteConfig]:
    """All site files: the bundled ones, then those of ``directories`` (a later file overrides a key)."""
    sites: dict[str, SiteConfig] = {}
    for directory in (SITES_DIR, *map(Path, directories)):
        if not directory.is_dir():
            raise ConfigError(f"SITES_DIRS: {directory} is not a directory")
        for path in sorted((p for p in directory.iterdir() if p.name.endswith(".toml")), key=lambda p: p.name):
            site = load_site_file(path)
            sites[site.key] = site
    return sites


def get_site(sites: dict[str, SiteConfig], key: str) -> SiteConfig:
    try:
        return sites[key]
    except KeyError:
        raise ConfigError(f"unknown site {key!r}; known sites: {', '.join(sorted(sites)) or 'none'}") from None


def check_site_argument(sites: dict[str, SiteConfig], key: str) -> SiteConfig:
    """``-a site=KEY`` names a site file: a typo must not start a new site in the store."""
    if key not in sites:
        raise ConfigError(f"-a site={key!r}: unknown site; known sites: {', '.join(sorted(sites)) or 'none'} "
                          "(a new site needs a site file, see SITES_DIRS)")
    return sites[key]


def site_for_url(sites: dict[str, SiteConfig], url: str) -> SiteConfig | None:
    return next((site for site in sites.values() if site.owns(url)), None)


def host_key(url: str) -> str:
    """A store-safe site key for a host with no site file: ``www.Example.co.uk`` -> ``example_co_uk``."""
    try:
        host = (urlsplit(url).hostname or "unknown").lower().removeprefix("www.")
    except ValueError:  # not a URL at all (an unclosed IPv6 bracket, say)
        host = "unknown"
    key = re.sub(r"[^a-z0-9]+", "_", host).strip("_")[:63] or "unknown"
    return key if key[0].isalpha() else f"site_{key}"[:63]


def _check_site_settings(settings: dict[str, Any], where: str) -> None:
    refused = sorted(set(settings) - SITE_SETTINGS)
    if refused:
        raise ConfigError(f"{where}: a site file cannot set {', '.join(refused)}; "
                          f"it may set {', '.join(sorted(SITE_SETTINGS))} (others: -s or settings/)")
    for name, value in settings.items():
        if name in SITE_NUMBERS:
            low, high = SITE_NUMBERS[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                raise ConfigError(f"{where}: settings.{name}={value!r}: expected a number from {low:g} to {high:g}")
        elif name in SITE_FLAGS and not isinstance(value, bool):
            raise ConfigError(f"{where}: settings.{name}={value!r}: expected true or false")
        elif name == "USER_AGENT" and not (isinstance(value, str) and value.strip()):
            raise ConfigError(f"{where}: settings.USER_AGENT: expected a non-empty string")
        elif name == "RETRY_HTTP_CODES" and not (
            isinstance(value, list) and all(isinstance(v, int) and 400 <= v <= 599 for v in value)
        ):
            raise ConfigError(f"{where}: settings.RETRY_HTTP_CODES: expected a list of HTTP status codes (400-599)")
        elif name == "DEFAULT_REQUEST_HEADERS" and not (
            isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
        ):
            raise ConfigError(f"{where}: settings.DEFAULT_REQUEST_HEADERS: expected a table of header names to strings")


def _strings(data: dict[str, Any], name: str, where: str) -> tuple[str, ...]:
    value = data.get(name, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where}: '{name}' must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _urls(data: dict[str, Any], name: str, where: str) -> tuple[str, ...]:
    urls = _strings(data, name, where)
    for url in urls:
        problem = url_problem(url)
        if problem:
            raise ConfigError(f"{where}: '{name}' has {url!r}, which is {problem}")
    return urls


def url_problem(url: str) -> str:
    """Why a URL cannot be fetched ("not an http(s) URL", "not a valid URL (...)"), or "" when it can.

    The port is read too: ``urlsplit`` accepts ``:abc`` and ``:99999``, and only ``.port`` refuses them.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "not an http(s) URL"
    if port == 0:
        return "not a valid URL (port 0)"
    if parts.username is not None:  # Scrapy's client refuses it ("invalid hostname"), after a traceback
        return "not a fetchable URL (a user name or password in it)"
    return ""


def _regex(pattern: str, name: str, where: str) -> str:
    if not isinstance(pattern, str):
        raise ConfigError(f"{where}: '{name}' must be a string")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ConfigError(f"{where}: '{name}' has {pattern!r}, not a valid regular expression: {exc}") from exc
    return pattern


def _xpath(expression: str, where: str) -> str:
    try:
        XPath(expression)
    except XPathSyntaxError as exc:
        raise ConfigError(f"{where}: 'clean.strip' has {expression!r}, not a valid XPath: {exc}") from exc
    return expression


def _timezone(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: 'timezone' must be an IANA time zone name such as \"Europe/Berlin\"")
    if not value:
        return ""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{where}: 'timezone' {value!r} is not a known IANA time zone (e.g. \"Europe/Berlin\")"
        ) from None
    return value
