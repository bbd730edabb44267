"""The types that travel from a spider through the pipeline stages.

A spider yields a :class:`Page` (what was fetched, plus what the spider knew
about it). Extraction turns it into an :class:`Article` (text blocks and
metadata); normalization turns that into a :class:`Document` (the rendered
file and the values of its front matter). All three are plain dataclasses so
that they pickle cheaply into the extraction worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class SiteProfile:
    """What the pipeline stages need to know of a site: data, never code.

    ``crawler.sites`` builds one from a site file; a generic spider builds one
    from the host name. The pipeline never imports the site registry.
    """

    key: str
    source: str = ""
    front_matter: dict[str, Any] = field(default_factory=dict)
    strip: tuple[str, ...] = ()  # XPath expressions removed before extraction
    inserts: tuple[str, ...] = ()  # extra insert prefixes for the clean stage
    drop: tuple[str, ...] = ()  # extra regular expressions: whole paragraphs dropped
    article: str = ""  # regular expression an article URL of the site matches: evidence for the classifier
    timezone: str = ""  # IANA zone of the site's times written without an offset (else the page's own)

    def __hash__(self) -> int:  # front_matter is a dict; the key identifies a profile
        return hash(self.key)


@dataclass
class Page:
    """One fetched response that a spider believes holds an article."""

    url: str
    body: bytes
    site: SiteProfile
    fetched: datetime  # fetch time in UTC, the WARC-Date of the response record
    status: int = 200
    content_type: str = ""
    hints: dict[str, str] = field(default_factory=dict)  # date/title from a feed or sitemap

    def __repr__(self) -> str:  # keeps logs to one line: never print the body
        return f"<Page {self.url} {len(self.body)} bytes>"


@dataclass
class Block:
    """One paragraph-level unit of article text."""

    text: str
    kind: str = "p"  # p, head, item, quote, table
    link_ratio: float = 0.0  # share of the text that sits inside links


@dataclass
class Article:
    """What extraction found in a page, before and after cleaning."""

    url: str
    site: SiteProfile
    fetched: datetime
    blocks: list[Block]
    title: str = ""
    description: str = ""
    date: datetime | None = None
    image: str = ""
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    author: str = ""
    language: str = ""
    source: str = ""
    page_type: str = "article"
    page_url: str = ""  # the URL fetched, when the canonical URL differs
    cleaned: dict[str, int] | None = None  # once cleaned: how many blocks each clean rule removed
    access: str = ""  # "paywalled" when the publisher says the article is not free to read
    truncated: bool = False  # the body is much shorter than the article the page declares
    body_from: str = ""  # "ld": the text is the page's JSON-LD articleBody, the HTML showing part of it (counted only)

    @property
    def paragraphs(self) -> list[str]:
        return [block.text for block in self.blocks]

    def __repr__(self) -> str:
        return f"<Article {self.url} {len(self.blocks)} blocks>"


@dataclass
class Document:
    """A normalized article: the values of its metadata and its rendered file."""

    url: str
    site: str
    meta: dict[str, Any]
    body: str
    text: str  # the whole file as written to the store (rendered by the store stage, once its revision is known)
    body_sha256: str
    key: str = ""
    revision: int = 1
    status: str = ""  # set by dedup: new, unchanged, revised
    known: Any = None  # what the archive index held for its URL when dedup looked (pipelines.storage.index.Known)
    diff: Any = None  # replay --diff: how it compares with the stored text (pipelines.store.DiffOutcome)
    previous_key: str = ""  # where the previous revision lives, when revised
    page_url: str = ""
    fetched: str = ""  # ISO 8601 UTC

    def __repr__(self) -> str:
        return f"<Document {self.key or self.url}>"
