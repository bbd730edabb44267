"""``scrapy extract URL|FILE``: print the document of one page, for trying a site quickly.

A URL is fetched through the project's own downloader stack (robots.txt,
address guard, User-Agent) by the ``urls`` spider. An archive (``.warc.gz``,
``.warc``, ``.wacz``) goes through the same stack answered from the file
(REPLAY_WARC): its one article page, or the one ``--url`` names, decoded as the
crawl decodes it. An HTML file (or ``.html.gz``) is read from disk; its URL is
``--url``, else the one the page gives itself (canonical link, og:url, JSON-LD).
Nothing is stored.
"""

from __future__ import annotations

import gzip
import sys
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy.exceptions import UsageError

from crawler.cli import ProjectCommand
from crawler.commands.crawl import crawler_process
from crawler.config import check_settings
from crawler.errors import ConfigError
from crawler.sites import DEFAULT_FRONT_MATTER, get_site, host_key, load_sites, site_for_url, url_problem
from pipelines.archive.files import is_archive, warc_sources
from pipelines.archive.reader import READ_ERRORS, is_article, iter_exchanges
from pipelines.document.render import FORMATS, to_document
from pipelines.extraction.options import ExtractOptions
from pipelines.extraction.page import ExtractError, decode_page, extract_and_clean, parse_html
from pipelines.extraction.values import normalize_url
from pipelines.item import Page, SiteProfile
from pipelines.report.runlog import printable


def document_for(page: Page, output_format: str, options: ExtractOptions | None = None) -> str:
    article = extract_and_clean(page, options or ExtractOptions())
    return to_document(article, output_format).text


NOT_EXTRACTED = "extract/print_failed"  # pages the print pipeline could not make a document of (said on stderr)


class PrintPipeline:
    """Prints each page's document instead of storing it (used by this command only)."""

    def __init__(self, output_format: str, stats: Any):
        self.output_format = output_format
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.get("OUTPUT_FORMAT"), crawler.stats)

    def process_item(self, item):
        if isinstance(item, Page):
            try:
                sys.stdout.write(document_for(item, self.output_format))
            except ExtractError as exc:
                sys.stderr.write(f"error: {exc}\n")
                self.stats.inc_value(NOT_EXTRACTED)
        return item


class Command(ProjectCommand):
    requires_crawler_process = False  # made only for a URL, after the checks

    def syntax(self) -> str:
        return "[options] <url | html file | .html.gz | .warc.gz | .wacz>"

    def short_desc(self) -> str:
        return "Print the document extracted from one page (nothing is stored)"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("--site", default="", help="site key whose rules apply (default: by the URL's domain)")
        parser.add_argument("--url", default="", help="with an HTML file: the URL it was published at (default: its "
                            "canonical URL); with an archive: the page to extract (default: its only article)")
        parser.add_argument("--format", choices=FORMATS, help="frontmatter (default: OUTPUT_FORMAT) or plain")

    def run_checked(self, args: list[str], opts: Any) -> None:
        if len(args) != 1:
            raise UsageError("give one URL, HTML file or archive (WARC, WACZ)")
        target = args[0]
        if opts.format:
            self.settings.set("OUTPUT_FORMAT", opts.format, priority="cmdline")
        check_settings(self.settings)
        if target.startswith(("http://", "https://")):
            if problem := url_problem(target):  # found by its spider, inside the crawl, it was a traceback
                raise ConfigError(f"{target!r}: {problem}")
            self.fetch_and_print(target, opts)
        elif is_archive(target):
            if not Path(target).is_file():
                raise ConfigError(f"{target}: no such file")
            self.fetch_and_print(archived_page(Path(target), opts.url), opts, replay=target)
        else:
            self.print_file(Path(target), opts)

    def profile(self, url: str, key: str) -> SiteProfile:
        sites = load_sites(self.settings.getlist("SITES_DIRS"))
        if key:
            return get_site(sites, key).profile
        site = site_for_url(sites, url)
        return site.profile if site else SiteProfile(key=host_key(url), front_matter=dict(DEFAULT_FRONT_MATTER))

    def print_file(self, path: Path, opts: Any) -> None:
        body = read_html_file(path)
        url = opts.url or own_url(body)
        if not url:
            url = path.resolve().as_uri().replace("file://", "http://localhost")
            sys.stderr.write(
                f"warning: the page names no URL of its own (canonical, og:url); give --url, using {url}\n"
            )
        page = Page(url=url, body=body, site=self.profile(url, opts.site),
                    fetched=datetime.now(UTC).replace(microsecond=0), content_type="text/html")
        try:
            sys.stdout.write(document_for(page, self.settings.get("OUTPUT_FORMAT")))
        except ExtractError as exc:
            sys.stderr.write(f"error: {exc}\n")
            self.exitcode = 1

    def fetch_and_print(self, url: str, opts: Any, replay: str = "") -> None:
        """Fetch ``url`` through the crawl's downloader stack, or answer it from the archive ``replay``."""
        from crawler.spiders.urls import UrlsSpider

        if replay:
            self.settings.setdict({"REPLAY_WARC": replay, "ROBOTSTXT_OBEY": False}, priority="cmdline")
        self.settings.setdict(
            {
                "ITEM_PIPELINES": {"crawler.commands.extract.PrintPipeline": 100},
                "ARCHIVE_ENABLED": False,
                "EXTENSIONS": {
                    "crawler.extensions.runrecord.RunRecord": None,
                    "crawler.extensions.progress.Progress": None,
                },
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
        failed = crawler.stats.get_value(NOT_EXTRACTED)
        if failed or not crawler.stats.get_value("item_scraped_count"):
            if not failed:
                sys.stderr.write(f"error: nothing fetched from {url}; see the log above\n")
            self.exitcode = 1


def read_html_file(path: Path) -> bytes:
    try:
        body = path.read_bytes()
        return gzip.decompress(body) if path.name.endswith(".gz") else body
    except OSError as exc:  # a missing file, or a .gz that is no gzip
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except (EOFError, zlib.error) as exc:
        raise ConfigError(f"{path}: broken gzip: {exc}") from exc


def own_url(body: bytes) -> str:
    """The URL a page gives itself, or "" (a page that does not decode says so when it is extracted)."""
    from pipelines.extraction.metadata import declared_url  # loads trafilatura: not at a crawl's start

    try:
        return declared_url(parse_html(decode_page(Page(url="", body=body, site=SiteProfile(key="file"),
                                                        fetched=datetime.now(UTC)), ExtractOptions())))
    except ExtractError:
        return ""


def archived_page(path: Path, wanted: str) -> str:
    """The URL of the page to extract from an archive: ``wanted`` if the archive holds it, else its only article."""
    urls: set[str] = set()
    articles: set[str] = set()
    skipped: list[str] = []  # records skipped are logged by the replay that follows
    try:
        for _, opener in warc_sources(str(path), None):
            with opener() as stream:
                for response in iter_exchanges(stream, skipped.append):
                    urls.add(normalize_url(response.url))
                    if is_article(response):
                        articles.add(response.url)
    except READ_ERRORS as exc:
        raise ConfigError(f"{path}: not a readable WARC file ({printable(str(exc))})") from exc
    if wanted:
        if normalize_url(wanted) not in urls:
            raise ConfigError(f"{path}: no archived response for {wanted}")
        return wanted
    if len(articles) == 1:
        return articles.pop()
    if not articles:
        unreadable = f" ({len(skipped)} unreadable record(s) skipped: {skipped[0]})" if skipped else ""
        raise ConfigError(f"{path}: no article page (a 200 HTML response) in it{unreadable}; name one with --url")
    raise ConfigError(f"{path} holds {len(articles)} pages: pick one with --url (e.g. {min(articles)})")
