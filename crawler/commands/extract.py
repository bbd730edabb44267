"""``scrapy extract URL|FILE``: print the document of one page, for trying a site quickly.

A URL is fetched through the project's own downloader stack (robots.txt,
address guard, User-Agent) by the ``urls`` spider; a file is read from disk.
Nothing is stored.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from scrapy.exceptions import UsageError

from crawler.cli import ProjectCommand
from crawler.commands.crawl import crawler_process
from crawler.config import check_settings
from crawler.errors import ConfigError
from crawler.sites import DEFAULT_FRONT_MATTER, get_site, host_key, load_sites, site_for_url
from pipelines.extraction.page import ExtractError, ExtractOptions, extract_and_clean
from pipelines.item import Page, SiteProfile
from pipelines.document.render import FORMATS, to_document


def document_for(page: Page, output_format: str, options: ExtractOptions = ExtractOptions()) -> str:
    article = extract_and_clean(page, options)
    return to_document(article, output_format).text


class PrintPipeline:
    """Prints each page's document instead of storing it (used by this command only)."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.output_format = crawler.settings.get("OUTPUT_FORMAT")

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        if isinstance(item, Page):
            try:
                sys.stdout.write(document_for(item, self.output_format))
            except ExtractError as exc:
                sys.stderr.write(f"error: {exc}\n")
                self.crawler.extract_failed = True
        return item


class Command(ProjectCommand):
    requires_crawler_process = False  # made only for a URL, after the checks

    def syntax(self) -> str:
        return "[options] <url | html file>"

    def short_desc(self) -> str:
        return "Print the document extracted from one page (nothing is stored)"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("--site", default="", help="site key whose rules apply (default: by the URL's domain)")
        parser.add_argument("--url", default="", help="with a file: the URL the page was published at")
        parser.add_argument("--format", choices=FORMATS, help="frontmatter (default: OUTPUT_FORMAT) or plain")

    def run_checked(self, args: list[str], opts: Any) -> None:
        if len(args) != 1:
            raise UsageError("give one URL or HTML file")
        target = args[0]
        if opts.format:
            self.settings.set("OUTPUT_FORMAT", opts.format, priority="cmdline")
        check_settings(self.settings)
        if target.startswith(("http://", "https://")):
            self.fetch_and_print(target, opts)
        else:
            self.print_file(Path(target), opts)

    def profile(self, url: str, key: str) -> SiteProfile:
        sites = load_sites(self.settings.getlist("SITES_DIRS"))
        if key:
            return get_site(sites, key).profile
        site = site_for_url(sites, url)
        return site.profile if site else SiteProfile(key=host_key(url), front_matter=dict(DEFAULT_FRONT_MATTER))

    def print_file(self, path: Path, opts: Any) -> None:
        try:
            body = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
        url = opts.url or path.resolve().as_uri().replace("file://", "http://localhost")
        page = Page(url=url, body=body, site=self.profile(url, opts.site),
                    fetched=datetime.now(timezone.utc).replace(microsecond=0), content_type="text/html")
        try:
            sys.stdout.write(document_for(page, self.settings.get("OUTPUT_FORMAT")))
        except ExtractError as exc:
            sys.stderr.write(f"error: {exc}\n")
            self.exitcode = 1

    def fetch_and_print(self, url: str, opts: Any) -> None:
        from crawler.spiders.urls import UrlsSpider

        self.settings.setdict(
            {
                "ITEM_PIPELINES": {"crawler.commands.extract.PrintPipeline": 100},
                "ARCHIVE_ENABLED": False,
                "EXTENSIONS": {"crawler.extensions.runrecord.RunRecord": None, "crawler.extensions.progress.Progress": None},
                "LOG_LEVEL": "WARNING",
                "REVISIT_AFTER": 0,
                "FRONTIER_URL": "",  # one page for this process, never a shared crawl
            },
            priority="cmdline",
        )
        process = crawler_process(self.settings)
        crawler = process.create_crawler(UrlsSpider)
        process.crawl(crawler, urls=url, site=opts.site)
        process.start()
        if getattr(crawler, "extract_failed", False) or not crawler.stats.get_value("item_scraped_count"):
            if not getattr(crawler, "extract_failed", False):
                sys.stderr.write(f"error: nothing fetched from {url}; see the log above\n")
            self.exitcode = 1
