"""``scrapy list``: the generic spiders and one per site file (a broken site file is one line on stderr)."""

from __future__ import annotations

from typing import Any, ClassVar

from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader

from crawler.cli import ProjectCommand


class Command(ProjectCommand):
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def short_desc(self) -> str:
        return "List spiders: generic ones (urls, sitemap, feed) and one per site file"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("-v", "--verbose", action="store_true", help="say what each spider crawls")

    def run_checked(self, args: list[str], opts: Any) -> None:
        if args:  # `scrapy list nytimes` printed every spider, as if the name had been looked up
            raise UsageError(f"list takes no arguments ({args[0]!r}); `scrapy list -v` says what each spider crawls")
        loader = get_spider_loader(self.settings)
        for name in sorted(loader.list()):
            if not opts.verbose:
                print(name)
                continue
            spidercls = loader.load(name)
            site = getattr(spidercls, "site_config", None)
            about = site.name if site else (spidercls.__doc__ or "").strip().splitlines()[0]
            print(f"{name:<20} {about}")
