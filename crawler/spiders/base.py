"""What every spider of the project shares: from a candidate URL to a :class:`Page` item.

Spiders differ only in where candidate URLs come from (a list, sitemaps,
feeds, section pages). The way a candidate becomes a request (URL checks,
revisit policy) and a response becomes a page (or a counted error) is here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler import sources
from crawler.errors import ConfigError, error_detail, error_reason
from crawler.sites import (
    DEFAULT_DENY,
    DEFAULT_FRONT_MATTER,
    SiteConfig,
    check_site_argument,
    host_key,
    load_sites,
    site_for_url,
    url_problem,
)
from pipelines.archive.reader import ARTICLE_ROLE
from pipelines.dedup import DedupPipeline, open_index
from pipelines.document.render import SITE_KEY_RE
from pipelines.extraction.values import normalize_url, same_site
from pipelines.item import Page, SiteProfile
from pipelines.report.runlog import count_failure, count_found
from pipelines.storage import storage_from_settings
from pipelines.storage.index import ArchiveIndex

logger = logging.getLogger(__name__)

ROLE_ARTICLE = ARTICLE_ROLE  # "article": the archive's reader tells articles by it
ROLE_SITEMAP, ROLE_FEED, ROLE_LISTING = "sitemap", "feed", "listing"


# the spider's errback logs and counts a failure after its retries, in one line: Scrapy's "Gave up retrying"
# error for the same request is debug (requests without it, robots.txt, keep Scrapy's error)
_ERRBACK_LOGS = {"give_up_log_level": "DEBUG"}


class ArticleSpider(scrapy.Spider):
    """Base of all spiders: candidate URLs in, :class:`Page` items out."""

    site_config: SiteConfig | None = None  # set on per-site spider classes
    # set by from_crawler, from the crawl's settings
    sites: dict[str, SiteConfig]
    keep_urls: int
    deny: list[re.Pattern[str]]
    revisit: float
    _index: ArchiveIndex | None

    def __init__(self, *args: Any, site: str = "", limit: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.site_arg = site
        self.limit = _positive_int(limit, "limit") if limit else 0
        self.requested_articles = 0
        self._seen: set[str] = set()
        self._sources: set[str] = set()  # sitemaps, feeds and section pages requested in this run
        self._profiles: dict[tuple[str, str], SiteProfile] = {}

    @classmethod
    def check_arguments(cls, *, site: str = "", limit: str = "", **kwargs: Any) -> None:
        """Raise :class:`ConfigError` for a bad ``-a`` argument, before anything starts (each by its name)."""
        if site and not SITE_KEY_RE.match(site):
            raise ConfigError(f"-a site={site!r}: a site key is lower-case letters, digits and _")
        if limit:
            _positive_int(limit, "limit")
        unknown = set(kwargs) - set(cls.arguments) - SCRAPYD_ARGUMENTS
        if unknown:
            known = ", ".join(sorted({"site", "limit", *cls.arguments}))
            raise ConfigError(f"spider {cls.name!r} takes no argument {', '.join(sorted(unknown))}; it takes {known}")

    arguments: tuple[str, ...] = ()  # the spider's own -a names, beside site and limit

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        cls.check_arguments(**kwargs)
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.sites = load_sites(crawler.settings.getlist("SITES_DIRS"))
        spider.keep_urls = crawler.settings.getint("RUN_RECORD_URLS")
        spider._index = None
        if spider.site_arg:
            check_site_argument(spider.sites, spider.site_arg)  # Scrapyd starts spiders without `scrapy crawl`
        spider.deny = [re.compile(p) for p in (*DEFAULT_DENY, *(spider.site_config.deny if spider.site_config else ()))]
        spider.revisit = crawler.settings.getfloat("REVISIT_AFTER")
        crawler.signals.connect(spider.request_dropped, signal=scrapy.signals.request_dropped)
        return spider

    # --- candidates ------------------------------------------------------------------------

    def article_request(self, url: str, hints: dict[str, str] | None = None) -> scrapy.Request | None:
        """A request for a candidate article URL, or None when it is skipped (and counted)."""
        url = url.strip()
        reason = self.skip_reason(url, hints or {})
        if reason:
            site = self.site_key(url)
            self.count_failure("skipped", reason, url, site)
            if reason == "recently_fetched":
                count_found(self.crawler.stats, site)
            logger.debug("skipped (%s): %s", reason, url)
            return None
        self.requested_articles += 1
        site = self.profile_for(url).key
        count_found(self.crawler.stats, site)
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.on_error,
            meta={"role": ROLE_ARTICLE, "hints": dict(hints or {}), "site": site, **_ERRBACK_LOGS},
        )

    def site_key(self, url: str) -> str:
        """The site key of any URL a source listed, even one that is no URL at all ("" then)."""
        try:
            return self.profile_for(url).key
        except ValueError:
            return self.site_config.key if self.site_config else ""

    def skip_reason(self, url: str, hints: dict[str, str]) -> str:
        if url_problem(url):  # a page or a sitemap may list anything: one unparseable URL must not stop the rest
            return "bad_url"
        try:
            parts = urlsplit(url)
            key = normalize_url(url)
        except ValueError:
            return "bad_url"
        if key in self._seen:
            return "duplicate"
        if self.limit and self.requested_articles >= self.limit:
            return "limit"
        site = self.site_config
        if site and not site.owns(url):
            return "offsite"
        if site and not site.is_article_url(url):
            return "not_article_url"
        if any(pattern.search(parts.path) for pattern in self.deny):
            return "not_article_url"
        if self.is_fresh(url, hints):
            return "recently_fetched"
        self._seen.add(key)
        return ""

    def is_fresh(self, url: str, hints: dict[str, str]) -> bool:
        """True when the archive already holds this article and it need not be fetched again."""
        if self.revisit <= 0:  # REVISIT_AFTER = 0: always refetch, and no index to build
            return False
        return self.archive_index().is_fresh(url, self.revisit, hints)

    def archive_index(self) -> ArchiveIndex:
        """The dedup stage's archive index (opened once the crawl's first revisit check needs it), else one of
        the spider's own (a project without DedupPipeline)."""
        if self._index is None:
            dedup = self.crawler.get_item_pipeline(DedupPipeline)
            settings = self.crawler.settings
            self._index = dedup.index if dedup is not None else open_index(storage_from_settings(settings),
                                                                           settings.get("STATE_DIR"))
        return self._index

    def count_failure(self, kind: str, reason: str, url: str, site: str = "", archive: str = "") -> None:
        """An error or skip, for the run record: counted for the run and the site, its URL (or archive part) kept."""
        count_failure(self.crawler.stats, kind, reason, url, site, self.keep_urls, archive)

    def profile_for(self, url: str, key: str = "") -> SiteProfile:
        """The site a URL belongs to: this spider's, ``-a site=``, a site file's domain, else the host's."""
        key = key or self.site_arg
        try:  # the answer depends on the key, else on the host name only: asked for every request and page
            cache_key = ("key", key) if key or self.site_config else ("host", urlsplit(url).hostname or "")
        except ValueError:
            return self._profile_for(url, key)
        profile = self._profiles.get(cache_key)
        if profile is None:
            if len(self._profiles) >= 10_000:
                self._profiles.clear()
            profile = self._profiles[cache_key] = self._profile_for(url, key)
        return profile

    def _profile_for(self, url: str, key: str) -> SiteProfile:
        if self.site_config:
            return self.site_config.profile
        if key:  # -a site= (checked against the site files), or a request's site (a host key too)
            known = self.sites.get(key)
            return known.profile if known else SiteProfile(key=key, front_matter=_default_front_matter())
        known = site_for_url(self.sites, url)
        return known.profile if known else SiteProfile(key=host_key(url), front_matter=_default_front_matter())

    # --- sources ---------------------------------------------------------------------------

    def source_request(self, url: str, role: str, **meta: Any) -> scrapy.Request:
        callback = {ROLE_SITEMAP: self.parse_sitemap, ROLE_FEED: self.parse_feed, ROLE_LISTING: self.parse_listing}[
            role
        ]
        # dont_filter: a source is read on every run, whatever a persistent duplicate filter remembers
        self._sources.add(url)
        return scrapy.Request(
            url, callback=callback, errback=self.on_error, meta={"role": role, **_ERRBACK_LOGS, **meta},
            dont_filter=True,
        )

    def listed_sitemap(self, url: str, listed_by: str, same_site_only: bool = True) -> scrapy.Request | None:
        """A request for a sitemap that an index or robots.txt lists, or None when it is skipped (and counted):
        one no URL, of another site (an index), or requested already in this run (an index that lists itself, or
        two that list each other, looped for ever)."""
        if url_problem(url):
            reason = "bad_url"
        elif same_site_only and not same_site(url, listed_by):
            reason = "offsite"
        elif url in self._sources:
            reason = "duplicate"
        else:
            return self.source_request(url, ROLE_SITEMAP)
        self.count_failure("skipped", reason, url, self.site_key(listed_by))
        logger.debug("skipped (%s): sitemap %s listed by %s", reason, url, listed_by)
        return None

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        if response.url.endswith("/robots.txt"):
            for url in sources.sitemaps_in_robots(response.body, response.url):
                if request := self.listed_sitemap(url, response.url, same_site_only=False):
                    yield request
            return
        try:
            sitemap = sources.parse_sitemap(response.body, response.url)
        except sources.SourceError as exc:
            self.count_error("bad_sitemap", f"{exc}: {response.url}", response.url)
            return
        if sitemap.kind == "index":
            for entry in sitemap.entries:
                if request := self.listed_sitemap(entry.url, response.url):
                    yield request
            return
        for entry in sitemap.entries:
            request = self.article_request(entry.url, entry.hints)
            if request:
                yield request

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        try:
            entries = sources.parse_feed(response.body, response.url)
        except sources.SourceError as exc:
            self.count_error("bad_feed", f"{exc}: {response.url}", response.url)
            return
        for entry in entries:
            request = self.article_request(entry.url, entry.hints)
            if request:
                yield request

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        """A section page: follow the links that the site file says are articles."""
        if not isinstance(response, TextResponse):
            self.count_error("not_html", f"section page is not HTML: {response.url}", response.url)
            return
        for href in response.xpath("//a/@href").getall():
            try:
                url = response.urljoin(href.strip()).split("#", 1)[0]
            except ValueError:  # an href that is no URL (an unclosed IPv6 bracket): the other links still count
                self.count_failure("skipped", "bad_url", href.strip()[:300], self.site_key(response.url))
                continue
            if same_site(url, response.url) and (not self.site_config or self.site_config.is_article_url(url)):
                request = self.article_request(url)
                if request:
                    yield request

    # --- pages -----------------------------------------------------------------------------

    def parse_article(self, response: Response) -> Iterator[Page]:
        body = response.body
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        if not body.strip():
            self.count_error("empty", f"empty page: {response.url}", response.url, response.meta.get("site", ""))
            return
        if not isinstance(response, TextResponse) and not content_type.startswith(("text/", "application/xhtml")):
            self.count_error(
                "not_html",
                f"not HTML ({content_type or 'no Content-Type'}): {response.url}",
                response.url,
                response.meta.get("site", ""),
            )
            return
        yield Page(
            url=response.url,
            body=body,
            site=self.profile_for(response.url, response.meta.get("site", "")),
            fetched=response.meta.get("fetched") or datetime.now(UTC).replace(microsecond=0),
            status=response.status,
            content_type=content_type,
            hints=response.meta.get("hints", {}),
        )

    def on_error(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]  # Scrapy sets it on an errback's Failure
        site = request.meta.get("site") or self.site_key(request.url)
        if failure.check(HttpError):
            status = failure.value.response.status
            if 300 <= status < 400 and status != 304:  # a redirect Scrapy would not follow: no Location, not http(s)
                location = failure.value.response.headers.get(b"Location", b"").decode("latin-1")[:200]
                self.count_error("bad_redirect", f"HTTP {status} to {location or 'nowhere'!r}: {request.url}",
                                 request.url, site)
            else:
                self.count_error(f"http_{status}", f"HTTP {status}: {request.url}", request.url, site)
        else:
            reason = error_reason(failure)
            if reason.startswith("skipped/"):
                self.count_failure("skipped", reason.removeprefix("skipped/"), request.url, site)
                logger.debug("%s: %s", reason, request.url)
            else:
                detail = error_detail(failure)
                self.count_error(reason, f"{reason}: {detail} ({request.url})", request.url, site)

    def request_dropped(self, request: scrapy.Request) -> None:
        """Scrapy's duplicate filter dropped a request (a redirect to a page already fetched): counted, not silent."""
        self.count_failure("skipped", "duplicate", request.url,
                              request.meta.get("site") or self.site_key(request.url))
        logger.debug("skipped (duplicate): %s", request.url)

    def count_error(self, reason: str, message: str, url: str = "", site: str = "", archive: str = "") -> None:
        self.count_failure("errors", reason, url, site or (self.site_key(url) if url else ""), archive)
        logger.warning(message)


class SourceSpider(ArticleSpider):
    """A generic spider that starts from the sitemaps or feeds given with ``-a url=`` (comma-separated)."""

    arguments = ("url",)
    source_role = ""  # ROLE_SITEMAP or ROLE_FEED, set by the subclass

    def __init__(self, *args: Any, url: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.source_urls = check_source_urls(self.name, url)

    @classmethod
    def check_arguments(cls, *, url: str = "", **kwargs: Any) -> None:
        super().check_arguments(**kwargs)
        check_source_urls(cls.name, url)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.source_urls:
            yield self.source_request(url, self.source_role)


SCRAPYD_ARGUMENTS = {"_job", "_version"}  # Scrapyd adds these to every crawl it starts


def check_source_urls(spider: str, value: str, argument: str = "url") -> list[str]:
    """The ``-a url=`` of a sitemap or feed spider (or ``-a urls=``): one URL, or several separated by commas."""
    if not value:
        raise ConfigError(f"spider {spider!r} needs -a {argument}=URL")
    urls = [part.strip() for part in value.split(",") if part.strip()]
    for url in urls:
        problem = url_problem(url)
        if problem:
            raise ConfigError(f"-a {argument}={url!r}: {problem}")
    return urls


def _positive_int(value: str, name: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"-a {name}={value!r}: expected a whole number") from None
    if number <= 0:
        raise ConfigError(f"-a {name}={value!r}: expected a number above 0")
    return number


def _default_front_matter() -> dict[str, Any]:
    return dict(DEFAULT_FRONT_MATTER)
