"""The article body: trafilatura's extraction, as paragraph-level blocks in reading order.

trafilatura with ``favor_precision`` scores best on both corpora, but on some
layouts it stops after the first part of the text (an article split into
several containers around an ad). :func:`recover` then takes what the default
extraction found in the same article container, and :func:`printed_lead`
brings back the standfirst the page prints above the text (see
docs/extraction.md for the measurements behind both rules).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from copy import copy
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING

import lxml.html
from lxml import etree
from lxml.etree import XPath
from lxml.html import HtmlElement

from pipelines.extraction.textsize import text_size
from pipelines.item import Block

if TYPE_CHECKING:
    from trafilatura.settings import Extractor

    from pipelines.extraction.options import ExtractOptions

# precision's text below this share of the page's paragraph text: the default extraction is asked too
# (13 of 205 corpus pages; 0.8 asked it on 58 pages and recovered the same one)
RECOVER_BELOW = 0.5
_TOKEN = re.compile(r"\w+")
# the elements a paragraph of trafilatura's output comes from
_BLOCK_TAGS = (
    "p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "td", "th", "dd", "dt", "figcaption", "pre",
    "div", "section", "span", "strong", "b", "em",
)
_ARTICLE_SCOPE = "ancestor-or-self::*[self::article or @itemprop='articleBody' or @itemprop='articlebody'][1]"


def extract_blocks(tree: lxml.html.HtmlElement, url: str, options: ExtractOptions) -> list[Block]:
    """The article body as paragraph-level blocks, in reading order."""
    import trafilatura
    from trafilatura.settings import Document
    from trafilatura.xml import xmltotxt

    from pipelines.extraction.comparison import install

    install()  # the readability comparison only where it can change the text: the same text, 4.7% less CPU
    document = trafilatura.bare_extraction(tree, url=url, options=_extractor(options, url))
    if not isinstance(document, Document) or document.body is None:  # a dict only when as_dict is asked
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
    extractor = copy(_settings(options))  # bare_extraction leaves its options as they are; a copy all the same
    extractor.url = url
    extractor.source = url and url.encode("utf-8", "replace").decode("utf-8")  # as Extractor(url=url) sets it
    return extractor


@lru_cache(maxsize=16)
def _settings(options: ExtractOptions) -> Extractor:
    """trafilatura's settings for ``options``, built once: Extractor() reads its configuration file's values
    each time, 1% of a page's extraction CPU (dev and fundus-dev pages, measured side by side). Its date
    limit (the day it was built) serves only trafilatura's metadata search, which is not asked of it here."""
    from trafilatura.settings import Extractor

    extractor = Extractor(
        output_format="python",
        precision=options.favor_precision,
        comments=options.include_comments,
        tables=options.include_tables,
    )
    extractor.max_file_size = options.max_bytes
    return extractor


def extract_body(
    tree: HtmlElement, url: str, options: ExtractOptions, page_size: int | None = None, live: bool = False
) -> tuple[list[Block], str]:
    """The body's blocks and how they were found: ``precision``, ``scope`` (recovered) or ``default``.

    A live blog (``live``) always gets the default extraction's entries within its article: precision
    drops entries that end in a "Share" link and the oldest entry at the bottom, each a small part of
    the page, so no share of the page's text tells they are missing.
    """
    blocks = extract_blocks(tree, url, options)
    page_size = paragraph_size(tree) if page_size is None else page_size
    if not options.favor_precision or (not live and size(blocks) >= RECOVER_BELOW * page_size):
        return blocks, "precision" if options.favor_precision else "default"
    default = extract_blocks(tree, url, replace(options, favor_precision=False))
    if not blocks:
        return default, "default"
    return recover(tree, blocks, default, live)


def size(blocks: list[Block]) -> int:
    return sum(text_size(block.text) for block in blocks)


def paragraph_size(tree: HtmlElement) -> int:
    """What the page holds: the size of the text of all its <p> elements."""
    return sum(text_size(p.text_content()) for p in tree.iter("p"))


def recover(
    tree: HtmlElement, precision: list[Block], default: list[Block], live: bool = False
) -> tuple[list[Block], str]:
    """Add to the precision extraction what the default one found in the same article container.

    The default extraction is trusted only inside the element that holds the precision
    paragraphs (their <article>, else their common ancestor): beyond it lie the next article
    of an endless page, related stories and comments. The result is taken when that adds more
    text than precision found: the precision text was then less than half of the article. A live
    blog's entries are taken whatever they add.
    """
    keys = {key(block.text) for block in precision}
    needed = 0 if live else size(precision)
    # what the default extraction found beyond precision's blocks bounds what can be added: when that is no more
    # than needed, precision's text stands without indexing the page's elements (10 ms on a large page)
    if sum(text_size(block.text) for block in default if key(block.text) not in keys) <= needed:
        return precision, "precision"
    index = _element_index(tree)
    scope = article_scope([index[k] for k in keys if k in index])
    if scope is None:
        return precision, "precision"
    # a live blog's missing entries lie where most of its found text does: in the part of the article that is its
    # feed, or in parts of the same kind (tag and class: each entry's <div>); the article's other parts (key
    # events, "our other live blogs", a poll) are no entries, and whatever they add would be taken
    kinds = _feed_kind(precision, index, scope) if live else set()
    kept, extra = [], 0
    for block in default:
        k = key(block.text)
        element = index.get(k)
        if k in keys:
            kept.append(block)
        elif element is not None and _inside(element, scope) and (
            not live or ((part := _part(element, scope)) is not None and _kind(part) in kinds)
        ):
            kept.append(block)
            extra += text_size(block.text)
    if extra > needed:
        return kept, "scope"
    return precision, "precision"


def key(text: str) -> str:
    return " ".join(_TOKEN.findall(text.lower()))


def _element_index(tree: HtmlElement) -> dict[str, HtmlElement]:
    index: dict[str, HtmlElement] = {}
    for element in tree.iter(*_BLOCK_TAGS):
        k = key(element.text_content())
        if k and k not in index:
            index[k] = element
    return index


def article_scope(elements: list[HtmlElement]) -> HtmlElement | None:
    """The element that holds the article: the <article> (or articleBody) around its paragraphs, else their
    common ancestor."""
    if not elements:
        return None
    ancestors = [elements[0], *elements[0].iterancestors()]
    for element in elements[1:]:
        mine = {id(x) for x in (element, *element.iterancestors())}
        common = next((i for i, x in enumerate(ancestors) if id(x) in mine), None)
        if common is None:
            return None
        ancestors = ancestors[common:]
    found = ancestors[0].xpath(_ARTICLE_SCOPE)
    return found[0] if found else ancestors[0]


def _part(element: HtmlElement, scope: HtmlElement) -> HtmlElement | None:
    """The child of ``scope`` that holds ``element`` (itself, or one of its ancestors), None for ``scope`` itself."""
    for node in (element, *element.iterancestors()):
        parent = node.getparent()
        if parent is scope:
            return node
        if parent is None:
            break
    return None


def _feed_kind(precision: list[Block], index: dict[str, HtmlElement], scope: HtmlElement) -> set[tuple[str, str]]:
    """The kind of the parts of ``scope`` that hold the most of the precision text: a live blog's feed or entries."""
    text: dict[tuple[str, str], int] = {}
    for block in precision:
        element = index.get(key(block.text))
        if element is not None and (part := _part(element, scope)) is not None:
            text[_kind(part)] = text.get(_kind(part), 0) + text_size(block.text)
    return {max(text, key=text.__getitem__)} if text else set()


def _kind(element: HtmlElement) -> tuple[str, str]:
    return element.tag, " ".join(sorted(element.get("class", "").split()))


def _inside(element: HtmlElement, scope: HtmlElement) -> bool:
    return element is scope or any(ancestor is scope for ancestor in element.iterancestors())


# --- the lead ------------------------------------------------------------------------------------

_NOT_LEAD = ("head", "script", "style", "noscript", "template", "title", "nav", "footer", "button", "a", "figure",
             "figcaption", "picture")
_CAPTION = re.compile(r"caption|credit|copyright|photo|image|img|media|gallery|related", re.IGNORECASE)
LEAD_SHARE = 0.5  # a printed standfirst shorter than its description holds at least this share of it
LEAD_WORDS = 8  # and this many words


def printed_lead(tree: HtmlElement, descriptions: Iterable[str], blocks: list[Block]) -> Block | None:
    """The first of the page's descriptions that the page prints as text before the body, as its lead.

    Publishers put the standfirst in a description tag and print it above the
    text, where precision extraction leaves it out (docs/extraction.md gives how
    often each rule keeps it). They write their descriptions apart (JSON-LD,
    og:, the description tag), and the first is not always the one printed: one
    publisher's JSON-LD gives a photo's caption. A copy printed as a photo
    caption is no lead.
    """
    keys = dict.fromkeys(k for text in descriptions if (k := key(text.rstrip("…. "))) and text_size(text) >= 8)
    if not keys:
        return None
    body = [key(block.text) for block in blocks]
    first = body[0] if body else ""
    # one in the body is kept already, or is the body's opening copied (no standfirst): the next may be printed
    printed = (_printed(tree, k, first) for k in keys if not any(k in block for block in body))
    return next(filter(None, printed), None)


def _printed(tree: HtmlElement, wanted: str, first: str) -> Block | None:
    """The block that prints the description whose key is ``wanted`` before the body (whose first block's key
    is ``first``), if any."""
    body_opening = " ".join(first.split()[:3])
    opening = " ".join(wanted.split()[:3])
    seen: set[HtmlElement] = set()  # the elements, not their id(): lxml reuses the id of a proxy it freed
    # a text matters only if its key starts as the description's or the body's does: its first letter tells
    starts = {opening[0], body_opening[:1]} - {""}
    # the text node that starts the description, then the block around it: a walk over text, not over
    # every element's text_content (5 ms a page)
    for node in _TEXT_NODES(tree):
        lowered = node.lower()
        initial = _TOKEN.search(lowered)
        if initial is None or lowered[initial.start()] not in starts:
            continue
        node_key = " ".join(_TOKEN.findall(lowered))  # key(node)
        if body_opening and node_key.startswith(body_opening) and not opening.startswith(node_key[:len(opening)]):
            return None  # the body's first paragraph comes first: a copy further down is no lead
        if not node_key or not opening.startswith(node_key[: len(opening)]):
            continue  # the description starts with this text (which may end at the first inline tag)
        element = node.getparent()
        while element is not None and element.tag not in _LEAD_BLOCKS:
            element = element.getparent()
        if element is None or element in seen:
            continue
        seen.add(element)
        text = block_text(element)
        k = key(text)
        if first and k == first:
            return None  # the body's first paragraph comes first: a copy further down is no lead
        if _holds_first(k, first):
            continue  # a wrapper of the headline (or a caption) and the body: the standfirst may come further
        # a standfirst that starts with an inline part (<span>Berlin.</span> <span>…</span>, <p><strong>…) or
        # is printed as several paragraphs: the block around it holds the rest, but not the body's first
        # paragraph (a description made of the body's opening paragraphs is no standfirst)
        while len(k) < len(wanted) and wanted.startswith(k):
            parent = element.getparent()
            if parent is None or parent.tag not in _LEAD_BLOCKS:
                break
            parent_text = block_text(parent)
            parent_key = key(parent_text)
            if not (parent_key.startswith(wanted) or wanted.startswith(parent_key)) or parent_key == k:
                break
            if _holds_first(parent_key, first):
                if first.startswith(k):
                    return None  # it opens the body's first paragraph: the description copies the body
                break  # the block around holds the body too: no further
            element, text, k = parent, parent_text, parent_key
            seen.add(element)
        if not _prints(k, text, wanted):
            continue
        if _in_caption(element):
            continue
        return Block(text=text, kind="lead")
    return None


def _holds_first(k: str, first: str) -> bool:
    """A block that holds the body's first paragraph (of 3 words or more: a dateline may recur)."""
    return len(first.split()) >= 3 and first in k


_BLOCK_BREAKS = frozenset(("p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "section", "br",
                           "blockquote", "header", "article"))


def block_text(element: HtmlElement) -> str:
    """The element's text, blank-normalized, with a space between its blocks: ``text_content()`` runs
    ``<p>…night.</p><p>Fishermen…</p>`` together as "night.Fishermen" where the HTML has no blank between."""
    pieces: list[str] = []
    for event, node in etree.iterwalk(element, events=("start", "end", "comment", "pi")):
        if event in ("comment", "pi"):  # not text, but its tail is
            if node.tail and node is not element:
                pieces.append(node.tail)
            continue
        if node.tag in _BLOCK_BREAKS:
            pieces.append(" ")
        if event == "start" and node.text:
            pieces.append(node.text)
        elif event == "end" and node.tail and node is not element:
            pieces.append(node.tail)
    return " ".join("".join(pieces).split())


def _prints(k: str, text: str, wanted: str) -> bool:
    """The printed text is the description (with a little more: a dateline, a credit), or its larger first
    part: descriptions often run on past what the page prints as its standfirst."""
    if "©" in text:
        return False
    if k.startswith(wanted):
        return len(k) <= 1.3 * len(wanted) + 20
    return wanted.startswith(k) and len(k) >= LEAD_SHARE * len(wanted) and text_size(text) >= LEAD_WORDS


def _in_caption(element: HtmlElement) -> bool:
    """Inside a figure, a link, navigation, or a block whose class says caption or credit."""
    if any(ancestor.tag in _NOT_LEAD for ancestor in (element, *element.iterancestors())):
        return True
    return any(_CAPTION.search(classes) for classes in _classes_within_article(element))


def _classes_within_article(element: HtmlElement) -> Iterator[str]:
    """The classes of ``element`` and of its ancestors up to the article (or main, or body): the classes of
    those (``has-post-thumbnail`` on <article>, ``hero-style-image`` on <body>) describe the page."""
    for ancestor in (element, *element.iterancestors()):
        if ancestor.tag in ("article", "main", "body"):
            return
        yield ancestor.get("class", "")


# "/descendant::" as "//" selects, without first listing every node of the page
_TEXT_NODES = XPath(
    "/descendant::body/descendant::text()[normalize-space()]"
    "[not(ancestor::script or ancestor::style or ancestor::template)]"
)
_LEAD_BLOCKS = ("p", "div", "h2", "h3", "span", "section", "strong", "li")
