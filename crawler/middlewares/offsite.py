"""Scrapy's OffsiteMiddleware, counting what it filters.

Scrapy (2.19) filters a request that leaves a site spider's ``allowed_domains``
when the request is scheduled (its ``request_scheduled`` handler), where no
errback runs and no ``request_dropped`` signal fires: an article whose address
redirects to another domain (a publisher that moved, a consent host) was
dropped with one DEBUG line for the first request to that domain, and nothing
in the run record. Each is counted here as ``skipped/offsite`` with its URL, as
the spider counts an offsite URL that a source lists.
"""

from __future__ import annotations

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware as ScrapyOffsiteMiddleware
from scrapy.exceptions import IgnoreRequest


class OffsiteMiddleware(ScrapyOffsiteMiddleware):
    def request_scheduled(self, request: Request, spider: Spider) -> None:
        try:
            super().request_scheduled(request, spider)
        except IgnoreRequest:
            count_failure = getattr(spider, "count_failure", None)  # the project's spiders; others: Scrapy's stats
            if count_failure is not None:
                count_failure("skipped", "offsite", request.url, request.meta.get("site", ""))
            raise
