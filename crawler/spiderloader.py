"""Spider loader that adds one spider per site file to the project's spider modules.

A broken site file does not break ``scrapy`` itself: the loader keeps the
error and raises it as a :class:`ConfigError` when a spider is listed or
loaded, so the command prints it as one line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.spiderloader import SpiderLoader

from crawler.errors import ConfigError
from crawler.sites import load_sites
from crawler.spiders.site import spider_for_site

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.settings import BaseSettings


class SiteSpiderLoader(SpiderLoader):
    def __init__(self, settings: BaseSettings):
        super().__init__(settings)
        self.site_error: ConfigError | None = None
        try:
            sites = load_sites(settings.getlist("SITES_DIRS"))
        except ConfigError as exc:
            self.site_error = exc
            return
        for key, site in sites.items():
            if key in self._spiders:
                self.site_error = ConfigError(f"site file {site.path}: key {key!r} is already a spider name")
                return
            self._spiders[key] = spider_for_site(site)

    def load(self, spider_name: str) -> type[Spider]:
        self.check()
        return super().load(spider_name)

    def list(self) -> list[str]:
        self.check()
        return super().list()

    def check(self) -> None:
        if self.site_error:
            raise self.site_error
