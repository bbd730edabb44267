"""``scrapy crawl feed -a url=https://…/rss.xml``: articles announced in RSS 2.0 or Atom feeds."""

from __future__ import annotations

from typing import Any, AsyncIterator

import scrapy

from crawler.spiders.base import ROLE_FEED, ArticleSpider, check_source_urls


class FeedSpider(ArticleSpider):
    """Articles announced in RSS 2.0 or Atom feeds (-a url=URL)."""

    name = "feed"
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
            yield self.source_request(url, ROLE_FEED)
