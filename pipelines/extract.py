"""Extract stage: one fetched page in, one :class:`Article` out.

trafilatura finds the article body (options chosen by measurement on the dev
corpus, see README); page metadata, JSON-LD and htmldate give the fields of
the front matter. Everything here is a plain function of its inputs, so that
it runs in a worker process and tests call it directly.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import lxml.html
from w3lib.encoding import html_to_unicode

from pipelines import clean, values
from pipelines.item import Article, Block, Page
from pipelines.pool import TaskFailed

if TYPE_CHECKING:
    from trafilatura.settings import Extractor

# trafilatura and pipelines.metadata (htmldate) are imported where they are used: the crawl process
# imports this module for ExtractPipeline and never extracts; loading them there cost every command
# 30 ms of start-up (workers have them preloaded: pipelines.pool)

logger = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xml", "text/xml", "text/plain")


class ExtractError(Exception):
    """A page that yields no article; ``reason`` is a short stats/run-record key."""

    def __init__(self, reason: str, message: str):
        super().__init__(reason, message)  # both in args: the error pickles back from a worker process
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class ExtractOptions:
    favor_precision: bool = True  # dev corpus F1 0.973 vs 0.955 with defaults
    include_comments: bool = False
    include_tables: bool = True
    max_bytes: int = 10 * 1024 * 1024
    min_words: int = 30
    max_replacement_ratio: float = 0.02  # share of U+FFFD after decoding that marks a page undecodable


def extract_page(page: Page, options: ExtractOptions = ExtractOptions()) -> Article:
    """Extract the article of ``page`` or raise :class:`ExtractError` saying why not."""
    from pipelines import metadata

    text = decode_page(page, options)
    tree = parse_html(text)
    meta = metadata.read_metadata(tree, page.url)
    page_type = metadata.classify(tree, meta, page.url)
    if page_type != "article":
        raise ExtractError(f"not_article/{page_type}", f"not an article ({page_type}): {page.url}")
    # here, while the tree is as served: pruning and extraction change it, and the date guess reads it
    date = meta.date or values.parse_date(page.hints.get("date", "")) or meta.date_guess

    clean.prune_tree(tree, page.site.strip)
    blocks = extract_blocks(tree, page.url, options)
    words = sum(len(block.text.split()) for block in blocks)
    if words < options.min_words:
        raise ExtractError("no_article", f"no article text ({words} words): {page.url}")

    return Article(
        url=meta.url or page.url,
        site=page.site,
        fetched=page.fetched,
        blocks=blocks,
        title=meta.title or page.hints.get("title", ""),
        description=meta.description,
        date=date,
        image=meta.image,
        categories=meta.sections,
        tags=meta.tags,
        author=meta.author,
        language=meta.language,
        source=page.site.source or meta.site_name,
        page_type=page_type,
        page_url=page.url,
    )


def extract_and_clean(page: Page, options: ExtractOptions = ExtractOptions(), cleaning: bool = True) -> Article:
    """:func:`extract_page`, then :func:`pipelines.clean.clean_article` unless ``cleaning`` is off.

    The crawl runs both in one worker task: one round trip per page, and the
    extracted text never travels back and forth between the stages.
    """
    article = extract_page(page, options)
    if cleaning:
        article, _ = clean.clean_article(article)
    return article


def decode_page(page: Page, options: ExtractOptions) -> str:
    body = page.body
    if not body or not body.strip():
        raise ExtractError("empty", f"empty page: {page.url}")
    if len(body) > options.max_bytes:
        raise ExtractError("too_large", f"page of {len(body)} bytes exceeds {options.max_bytes}: {page.url}")
    content_type = page.content_type.split(";", 1)[0].strip().lower()
    if content_type and content_type not in HTML_TYPES:
        raise ExtractError("not_html", f"not HTML ({content_type}): {page.url}")
    if b"\x00" in body[:4096] and not body.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ExtractError("not_html", f"binary content: {page.url}")
    _, text = html_to_unicode(page.content_type or None, body)
    if "\ufffd" in text and page.content_type:
        # servers mislabel pages; the page's own <meta charset> (or BOM) may be the truth
        _, own = html_to_unicode(None, body)
        text = own if own.count("\ufffd") < text.count("\ufffd") else text
    if text.count("\ufffd") > options.max_replacement_ratio * len(text):
        raise ExtractError("undecodable", f"text does not decode in its declared or detected encoding: {page.url}")
    if "<" not in text[:65536]:
        raise ExtractError("not_html", f"no markup: {page.url}")
    return text


def parse_html(text: str) -> lxml.html.HtmlElement:
    # lxml refuses str input with an XML encoding declaration; drop it, the text is decoded already
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1)
    try:
        tree = lxml.html.document_fromstring(text)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise ExtractError("unparseable", f"HTML does not parse: {exc}") from exc
    return tree


def extract_blocks(tree: lxml.html.HtmlElement, url: str, options: ExtractOptions) -> list[Block]:
    """The article body as paragraph-level blocks, in reading order."""
    import trafilatura
    from trafilatura.xml import xmltotxt

    document = trafilatura.bare_extraction(tree, url=url, options=_extractor(options, url))
    if document is None or document.body is None:
        return []
    blocks: list[Block] = []
    for element in document.body:
        kind = _KINDS.get(element.tag, "p")
        for line in xmltotxt(element, False).split("\n"):
            line = " ".join(line.split())
            if line:
                blocks.append(Block(text=line, kind=kind))
    return blocks


_KINDS = {"p": "p", "head": "head", "list": "item", "quote": "quote", "table": "table"}


def _extractor(options: ExtractOptions, url: str) -> Extractor:
    from trafilatura.settings import Extractor

    extractor = Extractor(
        output_format="python",
        precision=options.favor_precision,
        comments=options.include_comments,
        tables=options.include_tables,
        url=url,
    )
    extractor.max_file_size = options.max_bytes
    return extractor


class ExtractPipeline:
    """Runs :func:`extract_and_clean` in the worker pool; a page with no article is dropped with its reason.

    Cleaning happens in the same task when ``CLEAN_ENABLED``; the clean stage
    that follows records what it removed.
    """

    def __init__(self, crawler, options: ExtractOptions):
        # Scrapy is imported here, not at the top: worker processes import this module for the
        # plain functions, and without Scrapy each one starts in half the time and 24 MB less memory
        from pipelines import runtime

        self.crawler = crawler
        self.options = options
        self.cleaning = crawler.settings.getbool("CLEAN_ENABLED")
        self.pool = runtime.worker_pool(crawler)
        self.in_flight = 0  # pages sent to the pool and not back yet: bounded by SCRAPER_SLOT_MAX_ACTIVE_SIZE

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        options = ExtractOptions(
            favor_precision=settings.getbool("EXTRACT_FAVOR_PRECISION"),
            include_comments=settings.getbool("EXTRACT_INCLUDE_COMMENTS"),
            include_tables=settings.getbool("EXTRACT_INCLUDE_TABLES"),
            max_bytes=settings.getint("EXTRACT_MAX_BYTES"),
            min_words=settings.getint("EXTRACT_MIN_WORDS"),
        )
        return cls(crawler, options)

    async def process_item(self, item):
        from scrapy.exceptions import DropItem  # see ExtractPipeline's imports

        if not isinstance(item, Page):
            return item
        stats = self.crawler.stats
        self.in_flight += 1
        stats.max_value("extract/in_flight_max", self.in_flight)
        try:
            article = await self.pool.run(extract_and_clean, item, self.options, self.cleaning)
        except ExtractError as exc:
            stage = "skipped" if exc.reason.startswith("not_article") else "errors"
            stats.inc_value(f"{stage}/{exc.reason}")
            raise DropItem(str(exc)) from None
        except TaskFailed as exc:
            stats.inc_value(f"errors/extract_{exc.reason}")
            raise DropItem(f"extraction {exc}: {item.url}") from None
        except Exception as exc:  # a bug or a library crash on one page must not stop the crawl
            logger.exception("extraction failed: %s", item.url)
            stats.inc_value("errors/extract_failed")
            raise DropItem(f"extraction failed ({type(exc).__name__}): {item.url}") from None
        finally:
            self.in_flight -= 1
        stats.inc_value("extract/articles")
        return article
