"""What goes from the HTML before extraction: hidden elements and a site file's strip XPaths."""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml.etree import XPath, XPathError
from lxml.html import HtmlElement

from pipelines.extraction.textsize import text_size

# Hidden elements: the XPath finds the candidates, Python reads their style (an XPath translate() on
# every element's style took 1.7 ms of a page's 35)
# "/descendant::*" selects what "//*" does, without first listing every node of the page. Blocks hidden by a class
# alone ("read-more hidden", "is-collapsed", "d-none") are not candidates: testing divs' and sections' classes cost
# 0.39 ms a page (0.63 -> 1.02 ms, 200 corpus pages, best of 12), about 2% of a page's extraction, and changed the
# text of no corpus page (it fired on one, whose text trafilatura keeps either way)
HIDDEN_CANDIDATES = XPath("/descendant::*[@hidden or @aria-hidden='true' or @style]")
_STYLE_KEY = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz", " \t")  # lower case, no blanks
# class names that hide a block until a button shows it ("read more"): hidden, is-hidden, js-hide, d-none, collapse,
# is-collapsed, article__rest--hidden; not those that only say how it looks ("overflow-hidden", "field--label-hidden",
# "hidden-xs", "collapsible"). They come off a hidden block that is shown, as its attributes do.
_HIDING_CLASS = re.compile(
    r"^(?:(?:is|js|u|has|state|text|content)[-_]{1,2})?(?:hidden|hide|collapsed?|d-none)$|--(?:hidden|hide|collapsed)$",
    re.IGNORECASE,
)

def prune_tree(tree: HtmlElement, strip: Iterable[str] = ()) -> int:
    """Remove hidden elements and a site's strip XPaths from ``tree`` in place; return how many went.

    A hidden element that holds the article (:func:`holds_article_text`) stays and is shown: its hiding
    attributes and class names go, so that the extraction reads it as the page's text."""
    removed = 0
    targets, shown = hidden_elements(tree)
    for element in shown:
        show(element)
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


def hidden_elements(tree: HtmlElement) -> tuple[list[HtmlElement], list[HtmlElement]]:
    """The hidden elements to remove, and those to show.

    Removed: elements marked hidden (``hidden``, ``aria-hidden="true"``, ``display:none``,
    ``visibility:hidden``). Shown: those that hold the article, and elements with a style whose class
    hides them until a "read more" button is pressed (``hidden``, ``is-collapsed`` …) that do: a page
    may hide its paywalled part until a script checks the reader, the rest of the text behind a
    button, and React streams a page into ``<div hidden id="S:0">`` for a script to move in place;
    left hidden, trafilatura dropped them even when they were kept in the page. Menus, dialogs,
    consent layers and hidden copies of the shown text fail :func:`holds_article_text`; on both
    corpora no hidden element passes it. The fixtures in tests/test_pipelines_extraction_kinds.py
    hold the pages the rule is for.
    """
    found, shown = [], []
    for element in HIDDEN_CANDIDATES(tree):
        if element.tag in ("html", "body"):  # a page's classes ("hide-ads"): never removed, nothing to show
            continue
        if element.get("hidden") is not None or element.get("aria-hidden") == "true":
            hidden = True
        else:
            style = (element.get("style") or "").translate(_STYLE_KEY)
            hidden = "display:none" in style or "visibility:hidden" in style
        if not hidden and not _hidden_by_name(element):
            continue
        if holds_article_text(element):
            shown.append(element)
        elif hidden:
            found.append(element)
    return found, shown


def _hidden_by_name(element: HtmlElement) -> bool:
    return any(_HIDING_CLASS.search(name) for name in element.get("class", "").split()) or (
        "hidden" in element.get("id", "").lower()
    )


def show(element: HtmlElement) -> None:
    """Take off what hides ``element``: the ``hidden`` and ``aria-hidden`` attributes, its style, its hiding class
    names and an id that says hidden."""
    for name in ("hidden", "aria-hidden", "style"):
        element.attrib.pop(name, None)
    names = element.get("class", "").split()
    if any(_HIDING_CLASS.search(name) for name in names):
        element.set("class", " ".join(name for name in names if not _HIDING_CLASS.search(name)))
    if "hidden" in element.get("id", "").lower():
        del element.attrib["id"]


# what pages keep hidden until asked for: menus, dialogs, consent and newsletter layers. Words that other words
# seldom hold count anywhere in a class name or id ("mobmenu", "cmplz-cookiebanner", "eupopup", "SideBar"). Short
# ones count as a part of the name, split at "-", "_", blanks and camelCase, alone or glued to what menus name
# their parts ("nav-item", "navBar", "meganav", "sharebar", "searchform", "recentcomments", "mostpopular"):
# inside another word they name something else ("category-frankreich", "research-report", "commentary-body",
# "sharepoint-content", "authority-report", "text-unavailable", "unrelated"), and a hidden block of article
# text so named was taken for a menu and dropped. On the corpora, the hidden elements this changes are icons,
# share buttons and a search template ("icon_navigateNext", "navigatorshare", "sharing_email"); no document
_CHROME = re.compile(
    r"menu|modal|popup|overlay|consent|cookie|gdpr|privacy|newsletter|signup|login|sidebar|footer|drawer|trending"
    r"|recommend|teaser|onetrust|didomi",
    re.IGNORECASE,
)
_CHROME_PART = re.compile(
    r"(?:sub|main|mega|top|side|left|right|global|quick|mobile|meta|master|service|social|web|fb|most|recent)?"
    r"(?:nav|dialog|share|sharer|sharing|search|comment|header|rank|ranking|popular|related|cmp|author)"
    r"(?:s|i|igation|bar|box|form|item|list|links?|posts?|tools?|btn|button|submit|wrapper|container|count|icon|tab"
    r"|profile|info|name)?s?",
)
_NAME_PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")  # "navBar" -> "nav", "Bar"; "HTMLParser" -> "HTML", "Parser"
# a post's class names the terms it is filed under (WordPress's post_class: "category-privacy tag-cookies"): its
# topics, which say nothing of the block's role
_TERMS = re.compile(r"(?<!\S)(?:category|tag)-\S*", re.IGNORECASE)
_NEVER_ARTICLE = ("script", "style", "template", "noscript", "nav", "aside", "footer", "header", "form", "dialog")
HIDDEN_ARTICLE_WORDS = 60  # a hidden element with this much paragraph text may be the article


def holds_article_text(element: HtmlElement) -> bool:
    """A hidden element whose paragraphs are article text that the page shows nowhere else."""
    names = _TERMS.sub("", f"{element.get('class', '')} {element.get('id', '')}")
    if element.tag in _NEVER_ARTICLE or _CHROME.search(names):
        return False
    if any(_CHROME_PART.fullmatch(part.lower()) for part in _NAME_PART.findall(names)):
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
