"""``scrapy crawl sitemap -a url=https://…/sitemap.xml``: articles listed in sitemaps.

Follows sitemap indexes (same site only), reads Google News sitemaps
(publication date and title become hints) and ``lastmod``; a robots.txt URL
is read for its ``Sitemap:`` lines.
"""

from __future__ import annotations

from typing import Any, AsyncIterator

import scrapy

from crawler.spiders.base import ROLE_SITEMAP, ArticleSpider, check_source_urls


class SitemapSpider(ArticleSpider):
    """Articles listed in sitemaps: indexes, news sitemaps, robots.txt (-a url=URL)."""

    name = "sitemap"
    arguments = ("url",)

    def __init__(self, *args: Any, url: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.source_urls = check_source_urls(self.name, url)

    @classmethod
    def check_arguments(cls, url: str = "", **kwargs: Any) -> None:
        super().check_arguments(**kwargs)
        check_source_urls(cls.name, url)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.source_urls:
            yield self.source_request(url, ROLE_SITEMAP)
