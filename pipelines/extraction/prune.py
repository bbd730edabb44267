"""What goes from the HTML before extraction: hidden elements and a site file's strip XPaths."""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml.etree import XPath, XPathError
from lxml.html import HtmlElement

from pipelines.extraction.textsize import text_size

# Hidden elements: the XPath finds the candidates, Python reads their style (an XPath translate() on
# every element's style took 1.7 ms of a page's 35)
# "/descendant::*" selects what "//*" does, without first listing every node of the page
HIDDEN_CANDIDATES = XPath("/descendant::*[@hidden or @aria-hidden='true' or @style]")
_STYLE_KEY = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz", " \t")  # lower case, no blanks


def prune_tree(tree: HtmlElement, strip: Iterable[str] = ()) -> int:
    """Remove hidden elements and a site's strip XPaths from ``tree`` in place; return how many went."""
    removed = 0
    targets = hidden_elements(tree)
    for expression in strip:
        try:
            targets.extend(tree.xpath(expression))
        except XPathError as exc:  # site files are checked at load time; this guards replays of old ones
            raise ValueError(f"bad strip XPath {expression!r}: {exc}") from exc
    for element in targets:
        if not isinstance(element, HtmlElement) or element.tag in ("html", "body"):
            continue
        parent = element.getparent()
        if parent is None:
            continue
        _drop_keep_tail(element, parent)
        removed += 1
    return removed


def hidden_elements(tree: HtmlElement) -> list[HtmlElement]:
    """Elements marked hidden (``hidden``, ``aria-hidden="true"``, ``display:none``, ``visibility:hidden``).

    Except those that hold the article: a page may hide its paywalled part until a
    script checks the reader, and React streams a page into ``<div hidden id="S:0">``
    for a script to move in place. On both corpora no hidden element passes
    :func:`holds_article_text` (menus, dialogs, consent layers and hidden copies of the
    shown text all fail it), so the rule changes no corpus page; the fixtures in
    tests/test_pipelines_extract.py hold the pages it is for.
    """
    found = []
    for element in HIDDEN_CANDIDATES(tree):
        if element.get("hidden") is not None or element.get("aria-hidden") == "true":
            hidden = True
        else:
            style = (element.get("style") or "").translate(_STYLE_KEY)
            hidden = "display:none" in style or "visibility:hidden" in style
        if hidden and not holds_article_text(element):
            found.append(element)
    return found


# what pages keep hidden until asked for: menus, dialogs, consent and newsletter layers
_CHROME = re.compile(
    r"nav|menu|modal|dialog|popup|overlay|consent|cookie|cmp|gdpr|privacy|newsletter|signup|share|search|comment"
    r"|login|sidebar|footer|header|drawer|rank|popular|trending|recommend|related|teaser",
    re.IGNORECASE,
)
_NEVER_ARTICLE = ("script", "style", "template", "noscript", "nav", "aside", "footer", "header", "form", "dialog")
HIDDEN_ARTICLE_WORDS = 60  # a hidden element with this much paragraph text may be the article


def holds_article_text(element: HtmlElement) -> bool:
    """A hidden element whose paragraphs are article text that the page shows nowhere else."""
    if element.tag in _NEVER_ARTICLE or _CHROME.search(f"{element.get('class', '')} {element.get('id', '')}"):
        return False
    paragraphs = [" ".join(p.text_content().split()) for p in element.iter("p")]
    if sum(text_size(p) for p in paragraphs) < HIDDEN_ARTICLE_WORDS:
        return False
    longest = max(paragraphs, key=len)
    for p in element.getroottree().iter("p"):  # a hidden copy of shown text (print or AMP copy) still goes
        if " ".join(p.text_content().split()) == longest and not any(a is element for a in p.iterancestors()):
            return False
    return True


def _drop_keep_tail(element: HtmlElement, parent: HtmlElement) -> None:
    tail = element.tail
    previous = element.getprevious()
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)
