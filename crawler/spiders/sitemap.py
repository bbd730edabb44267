"""``scrapy crawl sitemap -a url=https://…/sitemap.xml``: articles listed in sitemaps.

Follows sitemap indexes (same site only), reads Google News sitemaps
(publication date and title become hints) and ``lastmod``; a robots.txt URL
is read for its ``Sitemap:`` lines.
"""

from __future__ import annotations

from crawler.spiders.base import ROLE_SITEMAP, SourceSpider


class SitemapSpider(SourceSpider):
    """Articles listed in sitemaps: indexes, news sitemaps, robots.txt (-a url=URL)."""

    name = "sitemap"
    source_role = ROLE_SITEMAP
