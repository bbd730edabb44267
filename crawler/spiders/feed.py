"""``scrapy crawl feed -a url=https://…/rss.xml``: articles announced in RSS 2.0 or Atom feeds."""

from __future__ import annotations

from crawler.spiders.base import ROLE_FEED, SourceSpider


class FeedSpider(SourceSpider):
    """Articles announced in RSS 2.0 or Atom feeds (-a url=URL)."""

    name = "feed"
    source_role = ROLE_FEED
