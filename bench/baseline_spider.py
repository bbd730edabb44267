"""The baseline: what a user would write by hand with Scrapy and trafilatura.

A sitemap spider whose callback extracts each page with trafilatura (text and
metadata, the same options as the project) and writes one file per article.
Run with `scrapy runspider` outside the project, so none of the project's
settings apply; bench/run.py passes the same concurrency settings to both.
"""

import hashlib
import json
import os

import trafilatura
from scrapy.spiders import SitemapSpider


class BaselineSpider(SitemapSpider):
    name = "baseline"
    custom_settings = {"LOG_LEVEL": "WARNING", "TELNETCONSOLE_ENABLED": False}

    def __init__(self, url: str = "", out: str = "out", **kwargs):
        super().__init__(**kwargs)
        self.sitemap_urls = [url]
        self.out = out
        os.makedirs(out, exist_ok=True)

    def parse(self, response):
        document = trafilatura.bare_extraction(
            response.text, url=response.url, favor_precision=True, include_comments=False, with_metadata=True
        )
        if document is None or not document.text:
            return
        name = hashlib.sha256(response.url.encode()).hexdigest()[:16]
        with open(os.path.join(self.out, f"{name}.json"), "w", encoding="utf-8") as handle:
            json.dump(
                {"url": response.url, "title": document.title, "date": document.date, "text": document.text}, handle
            )
        yield {"url": response.url}
