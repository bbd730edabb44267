"""ArchiveMiddleware: every response, with its request, goes to the WARC archive.

Glue only: records are built and written by :class:`pipelines.archive.writer.WarcRecorder`
in its own thread. The middleware sits next to the downloader (order 950), so
it sees responses as they came off the wire: redirects, error statuses and
compressed bodies included, before any other middleware changes them.

The fetch time it stamps on the request (``meta["fetched"]``) becomes both
the record's WARC-Date and the document's ``fetched``; replay reads it back
from WARC-Date, which is why replayed documents are byte-identical.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response

from crawler.sites import host_key
from pipelines.archive.wacz import write_cdxj_beside
from pipelines.archive.writer import Exchange, WarcRecorder
from pipelines.storage import Storage, storage_from_settings

logger = logging.getLogger(__name__)

# Settings worth knowing when reading an archive later; written into each file's warcinfo record.
RECORDED_SETTINGS = ("USER_AGENT", "ROBOTSTXT_OBEY", "DOWNLOAD_MAXSIZE", "OUTPUT_FORMAT", "CRAWL_ID", "BOT_CONTACT")


class ArchiveMiddleware:
    def __init__(self, recorder: WarcRecorder, storage: Storage, stats: Any, site_of: Callable[[str], str],
                 cdxj: bool = False):
        self.recorder = recorder
        self.storage = storage
        self.stats = stats
        self.site_of = site_of  # the site key of a URL no request names one for (robots.txt): as the spider keys it
        self.cdxj = cdxj

    @classmethod
    def from_crawler(cls, crawler: Any) -> ArchiveMiddleware:
        settings = crawler.settings
        if not settings.getbool("ARCHIVE_ENABLED"):
            raise NotConfigured  # no message: an expected state, not a warning
        info = {name.lower(): settings.get(name) for name in RECORDED_SETTINGS if settings.get(name) not in (None, "")}
        info["isPartOf"] = settings["CRAWL_ID"]
        info["spider"] = getattr(crawler.spidercls, "name", "")
        storage = storage_from_settings(settings)
        recorder = WarcRecorder(
            storage,
            settings["RUN_ID"],
            max_size=settings.getint("ARCHIVE_MAX_SIZE"),
            queue_size=settings.getint("ARCHIVE_QUEUE_SIZE"),
            queue_bytes=settings.getint("ARCHIVE_QUEUE_BYTES"),
            gzip_level=settings.getint("ARCHIVE_GZIP_LEVEL"),
            info=info,
        )

        def site_of(url: str) -> str:
            spider = crawler.spider
            return spider.profile_for(url).key if hasattr(spider, "profile_for") else host_key(url)

        middleware = cls(recorder, storage, crawler.stats, site_of, settings.getbool("ARCHIVE_CDXJ"))
        # spider_closed comes after the downloader and the pipelines closed: every response is queued
        # by then, and the run record (written at engine_stopped) sees the archive's totals
        crawler.signals.connect(middleware.close, signal=signals.spider_closed)
        return middleware

    def process_response(self, request: Request, response: Response) -> Response:
        if "replayed" in response.flags or "cached" in response.flags:
            return response
        fetched = datetime.now(UTC).replace(microsecond=0)
        request.meta["fetched"] = fetched
        meta = {"role": request.meta.get("role", "")}
        if request.meta.get("hints"):
            meta["hints"] = request.meta["hints"]
        self.recorder.record(
            Exchange(
                url=response.url,
                site=self._site(request),
                fetched=fetched,
                status=response.status,
                headers=_header_list(response.headers),
                body=response.body,
                method=request.method,
                request_headers=[(k, v) for k, v in _header_list(request.headers) if k.lower() not in PRIVATE_HEADERS],
                protocol=response.protocol or "HTTP/1.1",
                ip_address=str(response.ip_address or ""),
                meta=meta,
            )
        )
        self.stats.inc_value("archive/responses")
        return response

    def _site(self, request: Request) -> str:
        return request.meta.get("site") or self.site_of(request.url)

    def close(self) -> None:
        self.recorder.close()
        stats = self.stats
        stats.set_value("archive/records", self.recorder.records)
        stats.set_value("archive/bytes", self.recorder.bytes)
        stats.set_value("archive/files", len(self.recorder.closed_files))
        if self.recorder.failures:
            stats.set_value("errors/archive_write", self.recorder.failures)
        if self.cdxj:
            self.write_indexes()

    def write_indexes(self) -> None:
        """The CDXJ index of each WARC file this run wrote, beside it (ARCHIVE_CDXJ)."""
        for key in self.recorder.closed_files:
            try:
                write_cdxj_beside(self.storage, key)
                self.stats.inc_value("archive/cdxj_files")
            except Exception:  # the archive is whole without its index: log, count, go on
                logger.exception("could not index %s", key)
                self.stats.inc_value("errors/archive_index")


# Request headers that carry our credentials (a proxy's, HTTP auth, cookies): never archived
PRIVATE_HEADERS = {"authorization", "proxy-authorization", "cookie"}


def _header_list(headers) -> list[tuple[str, str]]:
    # dict.items: Scrapy's Headers.items() normalizes each name again to give back what it already holds
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in dict.items(headers)
        for value in values
    ]
