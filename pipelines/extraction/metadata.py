"""Article metadata from a parsed page: JSON-LD first, then meta tags, then trafilatura.

Where a page carries a schema.org NewsArticle (or another Article type) in
JSON-LD, its values win: publishers fill it for search engines and it is the
most precise source (full timestamps, clean headline). Meta tags (Open Graph,
article:*) come next; trafilatura's own metadata search (title cleaning,
htmldate) fills what is left, field by field, only where it is needed.
"""

from __future__ import annotations

import html
import itertools
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, cached_property
from typing import Any
from urllib.parse import urljoin, urlsplit

from htmldate import find_date
from lxml.etree import XPath
from lxml.html import HtmlElement
from trafilatura import json_metadata as trafilatura_json
from trafilatura import metadata as trafilatura_metadata
from trafilatura.settings import Document, set_date_params
from trafilatura.utils import line_processing

from pipelines.extraction.body import key as words  # the words of a text, as the body compares them
from pipelines.extraction.headline import (
    byline_block,
    choose_authors,
    choose_title,
    drop_confirmed_suffix,
    is_byline,
)
from pipelines.extraction.values import normalize_url, page_key, parse_date, same_site

logger = logging.getLogger(__name__)
ARTICLE_TYPES = frozenset(
    {
        "Article", "NewsArticle", "ReportageNewsArticle", "AnalysisNewsArticle", "OpinionNewsArticle",
        "BackgroundNewsArticle", "ReviewNewsArticle", "AskPublicNewsArticle", "BlogPosting", "LiveBlogPosting",
        "Report", "TechArticle", "SatiricalArticle", "ScholarlyArticle", "SocialMediaPosting", "Review",
    }
)
# Meta tags that describe the article, in order of trust (after the JSON-LD article's own description).
DESCRIPTION_META = ("og:description", "description", "twitter:description")
# Meta tags that carry a precise publication time, in order of trust.
DATE_META = (
    "article:published_time", "datePublished", "og:article:published_time", "article.published",
    "parsely-pub-date", "sailthru.date", "dc.date.issued", "DC.date.issued", "dcterms.created", "pubdate",
    "publish-date", "date", "og:pubdate",
)


@dataclass
class PageMeta:
    url: str = ""
    title: str = ""
    description: str = ""
    # every description the page gives, in order of trust (JSON-LD, og:, the description tag, twitter:):
    # publishers write them apart, and the first is not always the standfirst the page prints (a photo's caption)
    descriptions: list[str] = field(default_factory=list, repr=False)
    date: datetime | None = None  # from the page's own metadata
    image: str = ""
    author: str = ""
    language: str = ""
    site_name: str = ""
    sections: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    og_type: str = ""
    ld_types: frozenset[str] = frozenset()
    site_names: list[str] = field(default_factory=list, repr=False)  # what the site calls itself
    # authors that are the site's account ("/author/admin/"), not a writer: a printed byline names the writer
    accounts: list[str] = field(default_factory=list, repr=False)
    zone: str = ""  # where times without an offset were read: the site's zone, the page's offset, or its country's
    ld_article: dict[str, Any] = field(default_factory=dict, repr=False)  # the page's JSON-LD article object
    ld_own: bool = False  # ld_article names this page (its address, or the headline the page prints): see own_article
    meta_tags: dict[str, list[str]] = field(default_factory=dict, repr=False)
    fallback: TrafilaturaMetadata | None = field(default=None, repr=False, compare=False)

    @property
    def date_guess(self) -> datetime | None:
        """Found by heuristics (htmldate: URL, text; often day precision only): after a sitemap or feed date.

        A day alone gets its time of day from the story's ``<time class="published">`` of that day (the hAtom
        microformat WordPress themes print), else from another ``<time datetime>`` of that day in the story's
        header (:func:`story_times`), which the day-precision search passes over.
        """
        if self.fallback is None:
            return None
        day = self.fallback.date or ""
        guess = parse_date(day, self.zone)
        if guess is not None and day[4:] == "-01-01" and not self.fallback.gives_new_year(day[:4]):
            return None  # a year alone (a footer's "© 2024"), which htmldate gives as January 1st
        if guess is not None and len(day) == 10:
            tree = self.fallback.tree
            for value in itertools.chain(published_times(tree), story_times(tree)):
                if value[:10] == day and len(value) > 10 and (timed := parse_date(value, self.zone)) is not None:
                    return timed
        return guess


@cache
def _new_year(year: str) -> re.Pattern[str]:
    return re.compile(
        rf"{year}\s*[-/._年]\s*0?1\s*[-/._月]\s*0?1(?!\d)|(?<!\d)0?1\s*[-/._]\s*0?1\s*[-/._]\s*{year}"
        rf"|(?<!\d)1(?:st|er|\.|º)?\s*(?:de\s+)?(?:jan(?:uary|uar|vier|\.)?|enero|gennaio|janeiro|januari"
        rf"|stycznia|января|ledna|ocak|ιανουαρίου)\s*(?:de\s+)?{year}|jan(?:uary|\.)?\s+1(?:st)?,?\s+{year}",
        re.IGNORECASE,
    )


def read_metadata(tree: HtmlElement, url: str, site_zone: str = "") -> PageMeta:
    """The page's metadata; times without an offset are read in ``site_zone``, else in the page's own zone."""
    tags = meta_tags(tree)
    base = document_base(tree, url)
    objects = list(json_ld_objects(tree))
    types = frozenset(t for obj in objects for t in _types(obj))
    article, own = own_article([obj for obj in objects if ARTICLE_TYPES & set(_types(obj))], tree, url, tags, base)
    fallback = TrafilaturaMetadata(tree, url)
    language = _language(
        tree.get("lang")
        or _first(tags, "content-language", "og:locale", "language")
        or _text(article.get("inLanguage"))
    )
    zone = site_zone or page_zone(tags, article, tree.get("lang") or "", url)

    meta = PageMeta(
        og_type=_first(tags, "og:type").lower(), ld_types=types, ld_article=article, ld_own=own, meta_tags=tags,
        fallback=fallback,
    )
    meta.url = canonical_url(tree, url, tags, article, base)
    site_names = _site_names(tags, article, url)
    # in order of trust; trafilatura's title search (8 ms a page) only when the JSON-LD has no headline
    meta.title = choose_title(
        [_text(article.get("headline")) or _clean_text(fallback.title or "") or _first(tags, "og:title")], site_names
    )
    meta.title = drop_confirmed_suffix(meta.title, [*tags.get("og:title", []), *tags.get("twitter:title", []),
                                                    *(h1.text_content() for h1 in tree.iter("h1"))])
    meta.descriptions = list(dict.fromkeys(
        text for text in (_text(article.get("description")),
                          *(_clean_text(value) for name in DESCRIPTION_META for value in tags.get(name, [])))
        if text
    ))
    if not meta.descriptions and fallback.description:
        meta.descriptions = [fallback.description]
    meta.description = next(iter(meta.descriptions), "")
    meta.zone = zone
    meta.date = (
        parse_date(_text(article.get("datePublished")), zone)
        or _first_date((_first(tags, name) for name in DATE_META), zone)
        or _first_date(tree.xpath("//time[@itemprop='datePublished' or @pubdate]/@datetime"), zone)
        or _first_date(tree.xpath("//*[@itemprop='datePublished']/@content"), zone)
        or parse_date(_text(article.get("dateCreated")), zone)
    )
    image = _first(tags, "og:image", "og:image:url", "twitter:image") or _ld_image(article.get("image"))
    meta.image = _absolute(base, image or (fallback.image or ""))
    meta.site_names = site_names
    meta.accounts = account_authors(article)
    ld_authors = _ld_name_list(article.get("author"))
    shown = cache(lambda: shown_authors(tree))
    # the page prints one more author than its JSON-LD lists (a co-author); more are other articles' authors
    if (
        ld_authors
        and len(shown()) == len(ld_authors) + 1
        and {a.casefold() for a in ld_authors} <= {a.casefold() for a in shown()}
    ):
        ld_authors = shown()
    # the searches of the page run only when the sources before them name no one
    meta.author = ", ".join(
        choose_authors(
            [ld_authors, _meta_author(tags).split(", "), shown, lambda: (fallback.author or "").split("; "),
             lambda: profile_link_author(tree), lambda: byline_element_author(tree)],
            [*site_names, *meta.accounts],
        )
    )
    meta.language = language
    meta.site_name = (
        _first(tags, "og:site_name", "application-name")
        or _ld_names(article.get("publisher"))
        or (fallback.sitename or "")
    )
    meta.sections = _unique(
        _as_list(article.get("articleSection")) + tags.get("article:section", []) + list(fallback.categories or [])
    )
    meta.tags = _unique(
        [t for value in tags.get("article:tag", []) for t in _split_keywords(value)]
        + _split_keywords(article.get("keywords"))
        + _split_keywords(_first(tags, "news_keywords", "keywords"))
        + [t for value in (fallback.tags or []) for t in _split_keywords(value)]
    )[:25]
    return meta


class TrafilaturaMetadata:
    """trafilatura's ``extract_metadata``, one field at a time, each computed when first read.

    The same steps in the same order give the same values; the costly ones
    (the author search copies the whole tree, the date runs htmldate) run
    only for the pages whose JSON-LD and meta tags lack that field, and the
    licence, which nothing uses, never: reading a page's metadata went from
    about 9 to 5 ms on the sample pages.
    """

    def __init__(self, tree: HtmlElement, url: str):
        self.tree = tree
        self.default_url = url
        self._unparsed = False  # a JSON-LD script did not parse: _found lacks the authors trafilatura finds in it

    @cached_property
    def _found(self) -> Document:
        """What the page's meta tags and JSON-LD say, as trafilatura reads them; see :attr:`author` for the authors."""
        return self._read(json_authors=False)

    def _read(self, json_authors: bool) -> Document:
        found = trafilatura_metadata.examine_meta(self.tree)
        if found.author and " " not in found.author:
            found.author = None
        try:
            if json_authors:
                found = trafilatura_metadata.extract_meta_json(self.tree, found)
            else:
                found, self._unparsed = read_json_ld(self.tree, found)
        except Exception as exc:  # bugs in trafilatura's JSON-LD reader
            logger.debug("trafilatura's JSON-LD reader failed: %s", exc)
            self._unparsed = True  # authors as trafilatura's whole reading leaves them, up to the same failure
        return found

    @cached_property
    def title(self) -> str | None:
        return _trimmed(self._found.title or trafilatura_metadata.extract_title(self.tree))

    @cached_property
    def author(self) -> str | None:
        found = self._found
        if self._unparsed:  # the authors of JSON-LD that does not parse count: trafilatura's whole reading, this once
            found = self._read(json_authors=True)
        return _trimmed(found.author or trafilatura_metadata.extract_author(self.tree))

    @cached_property
    def description(self) -> str | None:
        return _trimmed(self._found.description)

    @cached_property
    def image(self) -> str | None:
        return _trimmed(self._found.image)

    @cached_property
    def _url(self) -> str | None:  # untrimmed: htmldate and the site name read it before the trimming
        return self._found.url or trafilatura_metadata.extract_url(self.tree, self.default_url)

    @cached_property
    def date(self) -> str | None:
        return _trimmed(find_date(self.tree, **{**set_date_params(True), "url": self._url}))

    def gives_new_year(self, year: str) -> bool:
        """Whether the page gives January 1st of ``year`` as a day: in its markup (htmldate's search without its
        fallbacks: ``<time datetime>``, meta tags, the address), or printed in its text ("01.01.2024", "1 January
        2024", "1. Januar", "1er janvier", "1 de enero", "1 января", "2024年1月1日"). htmldate, finding no day,
        falls back to a copyright year or any year, as January 1st."""
        if find_date(self.tree, **{**set_date_params(False), "url": self._url}) == f"{year}-01-01":
            return True
        return _new_year(year).search(" ".join(self.tree.itertext())) is not None

    @cached_property
    def sitename(self) -> str | None:
        name = self._found.sitename or trafilatura_metadata.extract_sitename(self.tree)
        if name:
            name = name.lstrip("@")
            if name and "." not in name and not name[0].isupper():
                name = name.title()
        elif self._url and (match := trafilatura_metadata.META_URL.match(self._url)):
            name = match[1]
        return _trimmed(name)

    @cached_property
    def categories(self) -> list[str]:
        return self._found.categories or trafilatura_metadata.extract_catstags("category", self.tree)

    @cached_property
    def tags(self) -> list[str]:
        return self._found.tags or trafilatura_metadata.extract_catstags("tag", self.tree)


_JSON_TYPES = ("application/ld+json", "application/settings+json")  # the scripts trafilatura reads


def read_json_ld(tree: HtmlElement, found: Document) -> tuple[Document, bool]:
    """trafilatura's ``extract_meta_json`` without its author search in JSON-LD that does not parse; and
    whether some did not.

    That search cuts the text after each match and searches it again from the start: on a
    live blog's 800 kB of JSON-LD it took 0.96 s, a fifth of the extraction CPU of all 115
    fundus-dev pages (8 ms a page on average, measured; no change on the dev pages), for a
    byline the page's JSON-LD gives anyway. :attr:`TrafilaturaMetadata.author` runs
    trafilatura's whole reading when it needs these authors (2 of the 205 corpus pages).
    The test that compares each field with trafilatura's ``extract_metadata`` guards the copy.
    """
    unparsed = False
    for element in tree.iterdescendants("script"):
        if element.get("type") not in _JSON_TYPES or not element.text:
            continue
        text = trafilatura_json.normalize_json(trafilatura_metadata.JSON_MINIFY.sub(r"\1", element.text))
        try:
            found = trafilatura_json.extract_json(json.loads(text, strict=False), found)
            continue
        except json.JSONDecodeError:
            unparsed = True
        # the rest of trafilatura's extract_json_parse_error, as it is
        if "@type" in text and (match := trafilatura_json.JSON_TYPE.search(text)):
            candidate = trafilatura_json.normalize_json(match[1].lower())
            if candidate in trafilatura_json.JSON_OGTYPE_SCHEMA:
                found.pagetype = candidate
        if '"publisher"' in text and (match := trafilatura_json.JSON_PUBLISHER.search(text)) and "," not in match[1]:
            candidate = trafilatura_json.normalize_json(match[1])
            if trafilatura_json.is_plausible_sitename(found, candidate):
                found.sitename = candidate
        if '"articleSection"' in text and (match := trafilatura_json.JSON_CATEGORY.search(text)):
            found.categories = [trafilatura_json.normalize_json(match[1])]
        for key, regex in trafilatura_json.JSON_SEQ:
            if key in text and not found.title and (match := regex.search(text)):
                found.title = trafilatura_json.normalize_json(match[1])
                break
    return found, unparsed


def _trimmed(value: str | None) -> str | None:
    """trafilatura's last step (``Document.clean_and_trim``) on one value."""
    if not isinstance(value, str):
        return value
    if len(value) > 10000:
        value = value[:9999] + "…"
    return line_processing(html.unescape(value))


def meta_tags(tree: HtmlElement) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for node in tree.iter("meta"):
        name = node.get("property") or node.get("name") or node.get("itemprop") or node.get("http-equiv")
        content = node.get("content")
        if name and content and content.strip():
            key = name.strip().lower() if ":" in name or name.islower() else name.strip()
            found.setdefault(key, []).append(content.strip())
    # a few names are written in varying case; keep a lower-case alias
    for name in list(found):
        found.setdefault(name.lower(), found[name])
    return found


def own_article(
    articles: list[dict[str, Any]], tree: HtmlElement, url: str, tags: dict[str, list[str]], base: str = ""
) -> tuple[dict[str, Any], bool]:
    """The page's own article object among its JSON-LD's, and whether it names this page.

    A page's JSON-LD may list other stories before its own (a related story, a tag page's items): the one
    whose ``url``, ``@id`` or ``mainEntityOfPage`` is the page's address (fetched, canonical, og:url) is the
    page's, else the one whose headline the page's title or ``<h1>`` gives; else the first, naming nothing. A
    page's only article object is its own (syndicated copies keep their first publisher's address and headline).
    Relative addresses are read against ``base``, the page's :func:`document_base` (its URL by default).
    """
    if len(articles) < 2:
        return (articles[0], True) if articles else ({}, False)
    def address(value: Any) -> str:
        if not isinstance(value, str) or not value.strip() or value.strip().startswith("#"):
            return ""
        return page_key(_absolute(base or url, value.strip().split("#")[0]))

    addresses = {address(value) for value in (url, *tree.xpath("//link[@rel='canonical']/@href"),
                                              *tags.get("og:url", []))} - {""}

    def names_page(obj: dict[str, Any]) -> bool:
        main = obj.get("mainEntityOfPage")
        return any(address(value) in addresses
                   for value in (obj.get("url"), obj.get("@id"), main.get("@id") if isinstance(main, dict) else main))

    first = words(_text(articles[0].get("headline")))
    for obj in articles:
        if names_page(obj):
            # a copy of the first object under another address (http and https) is the same article: the first
            # stays, as before this choice existed, with whatever it carries that the copy lacks (keywords)
            return (articles[0] if first and words(_text(obj.get("headline"))) == first else obj), True
    shown = [words(text) for text in (*tags.get("og:title", []), tree.findtext(".//title") or "",
                                       *(h1.text_content() for h1 in tree.iter("h1")))]
    for obj in articles:
        headline = words(_text(obj.get("headline")))
        if headline and any(headline in text for text in shown):
            return obj, True
    return articles[0], False


def json_ld_objects(tree: HtmlElement) -> Iterator[dict[str, Any]]:
    for script in tree.getroottree().iter("script"):  # as //script, without the XPath's walk over every node
        if script.get("type") != "application/ld+json":
            continue
        raw = (script.text or "").strip().lstrip("\ufeff").strip()  # a byte-order mark: json refuses it
        if not raw:
            continue
        try:
            data = json.loads(raw, strict=False)
        except (ValueError, RecursionError):
            try:
                data = _lenient_json(raw)
            except (ValueError, RecursionError):
                continue  # broken JSON-LD is common; the other sources still apply
        try:
            yield from list(_walk(data))
        except RecursionError:
            continue  # absurdly nested: ignored like broken JSON-LD


def _lenient_json(raw: str) -> list[Any]:
    """The JSON values of a script as pages break it: wrapped as old XHTML pages wrap scripts ("//<![CDATA[ … //]]>",
    "<!-- … -->"), ended with a semicolon as JavaScript, several objects one after the other, or HTML-escaped
    whole by a CMS ({&quot;@type&quot;: …}, which a browser leaves as it is inside a script)."""
    text = _WRAPPER.sub("", raw)
    try:
        return _json_values(text)
    except ValueError:
        if "&quot;" not in text and "&#34;" not in text:
            raise
        return _json_values(html.unescape(text))


def _json_values(text: str) -> list[Any]:
    values: list[Any] = []
    at = _gap_end(text, 0)
    while at < len(text):
        value, at = _DECODER.raw_decode(text, at)
        values.append(value)
        at = _gap_end(text, at)
    return values


def _gap_end(text: str, at: int) -> int:
    while at < len(text) and (text[at].isspace() or text[at] == ";"):
        at += 1
    return at


# possessive (*+): a broken script's "-->" before a long run of spaces took seconds to minutes with \s*\s*$
_WRAPPER = re.compile(
    r"^\s*+(?:(?://|/\*)\s*+)?(?:<!\[CDATA\[|<!--)(?:\s*+\*/)?|(?:(?://|/\*)\s*+)?(?:\]\]>|-->)(?:\s*+\*/)?\s*+$"
)
_DECODER = json.JSONDecoder(strict=False)


def _walk(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _walk(item)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from _walk(data["@graph"])
        main = data.get("mainEntity")
        if isinstance(main, dict) and "@type" in main:
            yield from _walk(main)


def _types(obj: dict[str, Any]) -> list[str]:
    value = obj.get("@type", [])
    values = value if isinstance(value, list) else [value]
    return [v.rsplit("/", 1)[-1] for v in values if isinstance(v, str)]


def _first_date(values: Any, zone: str = "") -> datetime | None:
    for value in values:
        parsed = parse_date(value or "", zone)
        if parsed:
            return parsed
    return None


def canonical_url(
    tree: HtmlElement, url: str, tags: dict[str, list[str]], article: dict[str, Any], base: str = ""
) -> str:
    """The page's canonical URL when it stays on the fetched site, else the fetched URL.

    A page may claim any canonical URL; accepting one on another site would let
    it overwrite that site's articles in the store. One of its own home page (a
    template's og:url) would give all its articles one address, one store key.
    A relative one is read against ``base``, the page's :func:`document_base`
    (its URL by default), as browsers and search engines read it; both checks
    compare the result with the fetched URL, never with the base (a base on a
    CDN makes a relative canonical URL one of the CDN's: refused). One that is
    the base itself ("#", "?", "./" read against a base of the site's section,
    /en/) names the section, as the home page's does: all the section's
    articles would get one store key.
    """
    base_key = page_key(base) if base and page_key(base) != page_key(url) else ""
    for candidate in _url_candidates(tree, tags, article):
        absolute = _absolute(base or url, candidate.strip()) if candidate else ""
        if absolute and same_site(absolute, url) and not _home_page(absolute, url) and page_key(absolute) != base_key:
            return normalize_url(absolute)
    return normalize_url(url)


def _home_page(candidate: str, url: str) -> bool:
    """Whether ``candidate`` is the site's home page (not a plain permalink, /?p=123) and the fetched page is
    not. A section's address is not refused: /news/123456 or /story/ is as often the article's own."""
    if urlsplit(candidate).path.strip("/") or urlsplit(candidate).query:
        return False
    return bool(urlsplit(url).path.strip("/") or urlsplit(url).query)


def declared_url(tree: HtmlElement) -> str:
    """The absolute URL a page gives itself (canonical link, og:url, JSON-LD), or "": where a saved page was
    published. A relative one counts when the page's ``<base href>`` is absolute, after the absolute ones (a base
    on a CDN puts a relative one there), and not when it is the base itself (a template's "#" or "./" against a
    base of a section names the section: every page saved from it would be stored as one)."""
    article = next((obj for obj in json_ld_objects(tree) if ARTICLE_TYPES & set(_types(obj))), {})
    candidates = [(candidate or "").strip() for candidate in _url_candidates(tree, meta_tags(tree), article)]
    for candidate in candidates:
        if candidate.startswith(("http://", "https://")) and _absolute(candidate, candidate):
            return normalize_url(candidate)
    base = document_base(tree, "")
    for candidate in candidates:
        if (absolute := _absolute(base, candidate)) and page_key(absolute) != page_key(base):
            return normalize_url(absolute)
    return ""


_IGNORED_BASES = ("javascript:", "data:")


def document_base(tree: HtmlElement, url: str) -> str:
    """The URL the page's relative URLs resolve against, as browsers take it (HTML's document base URL): the
    ``href`` of its first ``<base>`` that has one, itself read against the page's ``url``; ``url`` without one.

    A javascript: or data: base is ignored, as Chromium ignores it; so is one that does not parse (HTML's rule;
    Chromium resolves nothing against it). One in a ``<noscript>`` or ``<template>`` is no element for a browser.
    Another scheme (ftp:) is kept: what resolves against it is no web address, and is dropped as such.
    """
    for element in tree.iter("base"):
        href = element.get("href")
        if href is None or any(parent.tag in ("noscript", "template") for parent in element.iterancestors()):
            continue
        try:
            base = urljoin(url, href.strip())
            _ = urlsplit(base).hostname  # raises for a broken host such as "http://[oops"
        except ValueError:
            return url
        return url if base.lower().startswith(_IGNORED_BASES) else base
    return url


def _url_candidates(tree: HtmlElement, tags: dict[str, list[str]], article: dict[str, Any]) -> list[str]:
    main_entity = article.get("mainEntityOfPage")
    canonical = [link.get("href") for link in tree.getroottree().iter("link")  # rel="Canonical" too: a token list
                 if "canonical" in (link.get("rel") or "").lower().split()]
    return [href for href in canonical if href is not None] + tags.get("og:url", []) + [
        _text(article.get("url")),
        _text(main_entity.get("@id")) if isinstance(main_entity, dict) else _text(main_entity),
    ]


def _absolute(base: str, value: str) -> str:
    if not value:
        return ""
    try:
        absolute = urljoin(base, value.strip())
        _ = urlsplit(absolute).hostname  # raises for a broken host such as "http://[oops"
    except ValueError:
        return ""  # a page's broken URL costs that one field, never the article
    return absolute if absolute.startswith(("http://", "https://")) else ""


def _meta_author(tags: dict[str, list[str]]) -> str:
    # article:author is often a profile URL, never a name we can print
    names = [value for value in tags.get("author", []) + tags.get("parsely-author", []) if not _is_url(value)]
    return ", ".join(_unique(names))


def _is_url(value: str) -> bool:
    return value.startswith(("http://", "https://", "/"))


def _first(tags: dict[str, list[str]], *names: str) -> str:
    for name in names:
        for value in tags.get(name, []) + tags.get(name.lower(), []):
            if value:
                return _clean_text(value)
    return ""


_MARKUP = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")


def _clean_text(value: str) -> str:
    """Collapse whitespace, decode entities publishers double-escape ("&amp;#8211;"), drop stray markup."""
    text = html.unescape(value)
    if "&" in text:
        text = html.unescape(text)
    if "<" in text:
        text = _MARKUP.sub(" ", text)
    return " ".join(text.split())


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = value.get("@id") or value.get("url") or value.get("name") or ""
    return _clean_text(str(value)) if isinstance(value, (str, int, float)) else ""


def _ld_image(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = value.get("url") or value.get("contentUrl") or value.get("@id") or ""
    return value if isinstance(value, str) else ""


def _ld_names(value: Any) -> str:
    return ", ".join(_unique(_ld_name_list(value)))


def _ld_name_list(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    names = []
    for item in values:
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, list):
            name = name[0] if name else ""
        if isinstance(name, str) and name.strip() and not _is_url(name.strip()):
            names.append(_clean_text(name))
    return names


# the slugs of a site's own account on an author page's address: what a CMS publishes under, no writer's name
_ACCOUNTS = frozenset({"admin", "administrator", "webmaster", "siteadmin", "wpadmin", "superadmin"})
_AUTHOR_PAGE = re.compile(r"/(?:author|authors|autor|autoren|auteur|autore)/([^/?#]+)/?(?:[?#]|$)", re.IGNORECASE)


def account_authors(article: dict[str, Any]) -> list[str]:
    """The JSON-LD authors whose page is the site's account ("Ilanga D" at /author/admin/). The page's
    ``rel=author`` links say it too, but reading them costs a scan of the whole page (0.26 ms)."""
    def account(url: Any) -> bool:
        match = _AUTHOR_PAGE.search(url) if isinstance(url, str) else None
        return match is not None and match[1].lower() in _ACCOUNTS

    items = article.get("author")
    return [name for item in (items if isinstance(items, list) else [items]) if isinstance(item, dict)
            and (account(item.get("url")) or account(item.get("@id"))) for name in _ld_name_list(item)]


_AUTHOR_LABELS = (
    "autor", "autorin", "autorin/autor", "autor/autorin", "autoren", "author", "authors", "auteur", "auteurs", "autore",
    "autores", "författare", "forfatter", "yazar", "автор", "text", "von",
)
# "/descendant::*" where "//*" would first list every node of the page: a fifth less time
_SHOWN_AUTHORS = XPath(
    "/descendant::a[@rel='author'] | /descendant::*[@itemprop='author']/descendant::*[@itemprop='name']"
    " | /descendant::*[@itemprop='author'][not(descendant::*[@itemprop='name'])]"
)
# not in a picture (a photo credit, "By John Smith/Getty Images", is classed as the picture's author)
_BYLINE_ELEMENTS = XPath(
    "//*[self::p or self::span or self::div or self::address][contains(@class, 'byline') or contains(@class, 'author')]"
    "[not(ancestor::figure or ancestor::figcaption)]"
)
# readers' comments sign as bylines do ("comment-author": "By Jane Doe"); "commentary" is an opinion piece
_COMMENTS = re.compile(r"(?:^|[\s_-])comments?(?:$|[\s_-])", re.IGNORECASE)


def _in_comments(element: HtmlElement) -> bool:
    """Whether ``element`` is, or stands in, a readers' comment (by the class or id of it or an ancestor)."""
    return any(_COMMENTS.search(f"{node.get('class', '')} {node.get('id', '')}")
               for node in (element, *element.iterancestors()))

_LABELS = ("strong", "b", "dt", "span")  # where pages print "Autor:" before a name (a span without elements in it)
# a link to an author's page ("von <a href='/autoren/name/max-kolter'>Dr. Max Kolter</a>"): the first one only,
# and only when nothing else names someone (related stories link their authors too)
_PROFILE_LINKS = XPath(
    "//a[contains(@href, '/autor') or contains(@href, '/author') or contains(@href, '/auteur')]"
    "[contains(normalize-space(), ' ')][string-length(normalize-space()) < 60][not(ancestor::nav or ancestor::footer)]"
)


def profile_link_author(tree: HtmlElement) -> list[str]:
    """The name of the first link to an author's page whose text reads as a name."""
    for link in _PROFILE_LINKS(tree)[:20]:
        names = byline_block(link.text_content())
        if names:
            return names[:1]
    return []


_PUBLISHED = XPath("//time[contains(concat(' ', normalize-space(@class), ' '), ' published ')][@datetime]")


def published_times(tree: HtmlElement) -> list[str]:
    """The ``datetime`` of ``<time class="published">`` elements, none of a reader's comment, the story's only when
    the headline stands in an ``<article>`` (related posts print theirs too).

    The headline is the first ``<h1>`` in an ``<article>``: a site's logo is often an ``<h1>`` above them all. With
    no headline in any, the ``<article>`` that holds the story (:func:`_story`) and times outside any count.
    """
    times = [time for time in _PUBLISHED(tree) if not _in_comments(time)]
    story = next((article for h1 in tree.iter("h1") if (article := _article_of(h1)) is not None), None)
    if story is not None:
        times = [time for time in times if _article_of(time) is story]
    elif (story := _story([_article_of(time) for time in times])) is not None:
        times = [time for time in times if _article_of(time) in (None, story)]
    return [time.get("datetime", "").strip() for time in times]


_DATED = XPath("descendant::time[@datetime]")
_UPDATED = re.compile(r"updat|modif|aktualisiert|actualiz|mis à jour", re.IGNORECASE)


def story_times(tree: HtmlElement) -> Iterator[str]:
    """The ``datetime`` of the ``<time>`` elements of the story's header: those of the smallest box around a
    headline (an ``<h1>``) that holds some, up to the headline's ``<article>``; found lazily.

    A page prints many times of the same day (related stories, the sidebar's latest news, comments): a box that
    holds another headline, or, around a headline outside any ``<article>``, an ``<article>`` (a teaser card),
    is no story's header, nor is ``<body>``. Times of an update, a comment, an ``<aside>`` or ``<nav>`` or
    another story's ``<article>`` do not count.
    """
    for h1 in tree.iter("h1"):
        story = _article_of(h1)
        for box in h1.iterancestors():
            if box.tag in ("body", "html") or _HEADLINES(box) > 1 or (story is None and _HOLDS_ARTICLE(box)):
                break
            if _DATED(box):
                yield from _header_times(box, story)
                return
            if box is story:
                break


def _header_times(box: HtmlElement, story: HtmlElement | None) -> Iterator[str]:
    """The times of ``box`` before the story's second paragraph (the first may be a lead): the end of a story
    lists related ones, often under no element of their own."""
    paragraphs = 0
    for element in box.iter("p", "time"):
        if element.tag == "p" and len(element.text_content()) >= PARAGRAPH_CHARS:
            paragraphs += 1
            if paragraphs > 1:
                return
        elif element.tag == "time" and _article_of(element) is story and not _not_published(element):
            yield element.get("datetime", "").strip()


PARAGRAPH_CHARS = 80  # a paragraph of a story, not a byline ("Von Anna Beispiel, 10.03.2024 14:30")
_HEADLINES = XPath("count(descendant::h1)")
_HOLDS_ARTICLE = XPath("boolean(descendant::article)")


def _not_published(time: HtmlElement) -> bool:
    """Whether a ``<time>`` is no story's publication: an update's, a comment's, or in an aside or a menu."""
    parent = time.getparent()
    classes = f"{time.get('class', '')} {time.get('itemprop', '')} {'' if parent is None else parent.get('class', '')}"
    return (_UPDATED.search(classes) is not None or _in_comments(time)
            or next(time.iterancestors("aside", "nav"), None) is not None)


def byline_element_author(tree: HtmlElement) -> list[str]:
    """The names of the first element classed as a byline or author whose text is only a byline ("von David
    Straub, MDR THÜRINGEN"): the last source, for pages whose metadata names only the publisher.

    Found where nothing else names a person, it must not name someone else: only after the headline (a trending
    bar above it prints other stories' bylines), in the story's ``<article>`` or outside any (teaser cards),
    not in a reader's comment, and names written as names ("By the numbers" is no byline).
    """
    elements = _BYLINE_ELEMENTS(tree)
    if not elements:
        return []
    h1 = next(tree.iter("h1"), None)
    if h1 is not None:
        candidates, above = set(elements), set()
        for element in tree.iter():  # document order: what comes before the headline
            if element is h1:
                break
            if element in candidates:
                above.add(element)
        elements = [e for e in elements if e not in above]
    # the story's <article>: the one with the headline, whether or not it prints a byline element
    articles = list(tree.iter("article"))
    story = next((a for a in articles if _HOLDS_STORY(a)), None) if len(articles) > 1 else None
    if story is None:
        story = _story([_article_of(element) for element in elements])
    for element in [e for e in elements if story is None or _article_of(e) in (None, story)][:20]:
        if _in_comments(element):
            continue
        text = " ".join(" ".join(element.itertext()).split())  # "Von<a>Name</a>": words apart
        names = byline_block(text, classed=True) if is_byline(text) else []
        if names:  # byline_block turns down prose after a byline's word ("By the numbers") itself
            return names
    return []


def shown_authors(tree: HtmlElement) -> list[str]:
    """The authors the page prints: rel=author links, schema.org author names, "Autor: Name" labels.

    When bylines stand in several ``<article>`` elements, only the story's count (with those outside any
    ``<article>``): the others are teaser cards of other stories (related, recommended, more from the
    author), which print their own authors, before the story or after it.
    """
    elements = _SHOWN_AUTHORS(tree)
    story = _story([_article_of(element) for element in elements])
    if story is not None:
        elements = [e for e in elements if _article_of(e) in (None, story)]
    names = [" ".join(element.text_content().split()) for element in elements]
    for label in tree.getroottree().iter(*_LABELS):
        if not (label.tail and label.tail.strip()) or (label.tag == "span" and label.find("*") is not None):
            continue  # nothing after it: no name to take (the test before reading its text, which costs more)
        if story is not None and _article_of(label) not in (None, story):
            continue
        text = " ".join(label.text_content().split()).rstrip(":").casefold()
        if text in _AUTHOR_LABELS:
            names.append(" ".join(label.tail.split()))
    return _unique([name for name in names if 0 < len(name) <= 80])[:8]


def _article_of(element: HtmlElement) -> HtmlElement | None:
    return next(element.iterancestors("article"), None)


_HOLDS_STORY = XPath("boolean(descendant::h1 | descendant::*[@itemprop='articleBody' or @itemprop='articlebody'])")


def _story(articles: list[HtmlElement | None]) -> HtmlElement | None:
    """Of the ``<article>`` elements that hold bylines, the story's: the one with the page's headline or
    its articleBody, else the one with the most text. None when there are fewer than two."""
    candidates = list(dict.fromkeys(article for article in articles if article is not None))
    if len(candidates) < 2:
        return None
    story = next((article for article in candidates if _HOLDS_STORY(article)), None)
    return story if story is not None else max(candidates, key=lambda article: len(article.text_content()))


def _site_names(tags: dict[str, list[str]], article: dict[str, Any], url: str) -> list[str]:
    """What the site calls itself: og:site_name, the JSON-LD publisher, its host name (golem.de, golem)."""
    try:
        host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    except ValueError:
        host = ""
    label = host.split(".")[-2] if host.count(".") >= 1 else host
    names = [_first(tags, "og:site_name"), _first(tags, "application-name"), _ld_names(article.get("publisher"))]
    names += [host, label]
    return [name for name in names if name]


def _as_list(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [_clean_text(v) for v in values if isinstance(v, str) and v.strip()]


def _split_keywords(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    parts = [part for v in values if isinstance(v, str) for part in _clean_text(v).split(",")]
    return [part.strip() for part in parts if _WORD.search(part) and len(part.strip()) <= 80]


_WORD = re.compile(r"\w")


def _unique(values: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for value in values:
        value = value.strip()
        if value and value.lower() not in seen:
            seen[value.lower()] = value
    return list(seen.values())


_LANGUAGE_RE = re.compile(r"^([a-zA-Z]{2,3})(?:[-_][a-zA-Z0-9]+)*$")


def _language(value: str) -> str:
    match = _LANGUAGE_RE.match((value or "").strip())
    return match.group(1).lower() if match else ""


# --- time zones ------------------------------------------------------------------------------------

_OFFSET_AT_END = re.compile(r"(?:[+-]\d\d:?\d\d|Z)$")
_ZONE_DATES = (*DATE_META, "article:modified_time", "og:updated_time", "dateModified", "last-modified")
# the zone of a country's news sites, by top-level domain (one zone where a country has several: its capital's)
TLD_ZONES = {
    "de": "Europe/Berlin", "at": "Europe/Vienna", "ch": "Europe/Zurich", "li": "Europe/Vaduz",
    "lu": "Europe/Luxembourg", "fr": "Europe/Paris", "be": "Europe/Brussels", "nl": "Europe/Amsterdam",
    "it": "Europe/Rome", "es": "Europe/Madrid", "pt": "Europe/Lisbon", "uk": "Europe/London", "ie": "Europe/Dublin",
    "pl": "Europe/Warsaw", "cz": "Europe/Prague", "sk": "Europe/Bratislava", "hu": "Europe/Budapest",
    "se": "Europe/Stockholm", "no": "Europe/Oslo", "dk": "Europe/Copenhagen", "fi": "Europe/Helsinki",
    "gr": "Europe/Athens", "tr": "Europe/Istanbul", "ru": "Europe/Moscow", "ua": "Europe/Kyiv",
    "ro": "Europe/Bucharest", "bg": "Europe/Sofia", "hr": "Europe/Zagreb", "rs": "Europe/Belgrade",
    "si": "Europe/Ljubljana", "il": "Asia/Jerusalem", "jp": "Asia/Tokyo", "kr": "Asia/Seoul", "cn": "Asia/Shanghai",
    "tw": "Asia/Taipei", "hk": "Asia/Hong_Kong", "sg": "Asia/Singapore", "my": "Asia/Kuala_Lumpur",
    "id": "Asia/Jakarta", "th": "Asia/Bangkok", "vn": "Asia/Ho_Chi_Minh", "ph": "Asia/Manila", "in": "Asia/Kolkata",
    "pk": "Asia/Karachi", "ae": "Asia/Dubai", "sa": "Asia/Riyadh", "qa": "Asia/Qatar", "eg": "Africa/Cairo",
    "ng": "Africa/Lagos", "ke": "Africa/Nairobi", "tz": "Africa/Dar_es_Salaam", "za": "Africa/Johannesburg",
    "ls": "Africa/Maseru", "gh": "Africa/Accra", "ma": "Africa/Casablanca", "br": "America/Sao_Paulo",
    "ar": "America/Argentina/Buenos_Aires", "mx": "America/Mexico_City", "cl": "America/Santiago",
    "co": "America/Bogota", "pe": "America/Lima", "nz": "Pacific/Auckland", "gl": "America/Nuuk",
}
# languages spoken in one time zone, for sites under .com or .org
LANGUAGE_ZONES = {
    "de": "Europe/Berlin", "ja": "Asia/Tokyo", "ko": "Asia/Seoul", "it": "Europe/Rome", "pl": "Europe/Warsaw",
    "cs": "Europe/Prague", "nl": "Europe/Amsterdam", "sv": "Europe/Stockholm", "no": "Europe/Oslo", "nb": "Europe/Oslo",
    "nn": "Europe/Oslo", "da": "Europe/Copenhagen", "fi": "Europe/Helsinki", "tr": "Europe/Istanbul",
    "uk": "Europe/Kyiv", "el": "Europe/Athens", "he": "Asia/Jerusalem", "th": "Asia/Bangkok", "vi": "Asia/Ho_Chi_Minh",
    "id": "Asia/Jakarta", "hu": "Europe/Budapest", "ro": "Europe/Bucharest",
}


def page_zone(tags: dict[str, list[str]], article: dict[str, Any], lang: str, url: str) -> str:
    """The zone of a page's times written without an offset.

    The offset of another time on the same page first (publishers write all their times
    alike, and some leave the offset off only one of them), then the country of the site's
    domain or of the page's language (``de-AT``), then its language where one zone speaks it.
    """
    values = [_text(article.get(name)) for name in ("datePublished", "dateModified", "dateCreated", "uploadDate")]
    values += [value for name in _ZONE_DATES for value in tags.get(name, []) + tags.get(name.lower(), [])]
    for value in values:
        value = (value or "").strip()
        match = _OFFSET_AT_END.search(value)
        if match and _TIME_IN.search(value):
            offset = match.group(0)
            return "+00:00" if offset == "Z" else f"{offset[:3]}:{offset[-2:]}"
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        host = ""
    tld = host.rsplit(".", 1)[-1]
    if tld in TLD_ZONES:
        return TLD_ZONES[tld]
    parts = lang.replace("_", "-").lower().split("-")
    if len(parts) > 1 and parts[1] in TLD_ZONES:
        return TLD_ZONES["uk" if parts[1] == "gb" else parts[1]]
    return LANGUAGE_ZONES.get(parts[0], "")


_TIME_IN = re.compile(r"\d{1,2}:\d\d")
