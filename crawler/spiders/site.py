"""One spider class per site file, made from its declaration: no hand-written per-site spiders."""

from __future__ import annotations

from collections.abc import AsyncIterator

import scrapy

from crawler.sites import SiteConfig
from crawler.spiders.base import ROLE_FEED, ROLE_LISTING, ROLE_SITEMAP, ArticleSpider


class SiteSpider(ArticleSpider):
    """Crawls one site from its feeds, sitemaps and section pages."""

    async def start(self) -> AsyncIterator[scrapy.Request]:
        site = self.site_config
        assert site is not None
        for url in site.sitemaps:
            yield self.source_request(url, ROLE_SITEMAP)
        for url in site.feeds:
            yield self.source_request(url, ROLE_FEED)
        for url in site.pages:
            yield self.source_request(url, ROLE_LISTING)


def spider_for_site(site: SiteConfig) -> type[SiteSpider]:
    attributes = {
        "name": site.key,
        "site_config": site,
        "allowed_domains": list(site.domains),
        "custom_settings": dict(site.settings),
        "__doc__": f"{site.name}: {site.path}",
    }
    return type(f"{site.key.title().replace('_', '')}Spider", (SiteSpider,), attributes)
