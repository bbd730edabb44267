"""The article's text from the page's own JSON-LD ``articleBody``, when the HTML shows only part of it.

Pages rendered by scripts (Next.js, Nuxt, an app shell) often print a teaser or
nothing in their HTML and carry the whole article in the JSON-LD they send for
search engines; paywalled pages often do the same. The publisher sent that text
in the page, and the archive keeps what was sent: when the article object's
``articleBody`` is much longer than the extracted body, by the measure that
marks a body ``truncated`` (:func:`pipelines.extraction.access.much_shorter`),
and the extracted paragraphs occur in it (it is the same article, not another
story or a template's text), the body is taken from it.

``articleBody`` comes as plain text (paragraphs between blank lines or line
breaks), HTML-escaped once or twice, with tags, or as one run whose paragraphs
were glued together when the tags were stripped ("…hat.Die Nerven …"): the
paragraphs are split where the text says so, and a run with no such sign stays
one paragraph.
"""

from __future__ import annotations

import html
import re
from typing import Any

import lxml.html
from lxml import etree

from pipelines.extraction.access import much_shorter
from pipelines.extraction.body import key
from pipelines.extraction.textsize import text_size
from pipelines.item import Block

AGREE_SHARE = 0.5  # of the extracted body's text, the share that must occur in articleBody: the same article
AGREE_FROM = 30  # words: an extracted body shorter than this (a script notice, nothing) cannot say which text it is


def ld_body(article: dict[str, Any], blocks: list[Block], description: str = "", title: str = "") -> list[Block] | None:
    """The article's paragraphs from ``article``'s ``articleBody`` when they should replace ``blocks``, else None.

    A first paragraph that is the headline goes, as the HTML extraction leaves the ``<h1>`` out: the
    standfirst printed under it is then found as in the HTML (``printed_lead``)."""
    raw = article.get("articleBody")
    if isinstance(raw, list):  # a few publishers give it as a list of paragraphs
        raw = "\n\n".join(part for part in raw if isinstance(part, str))
    if not isinstance(raw, str):
        return None
    extracted = sum(text_size(block.text) for block in blocks)
    # the cheap test first, on the raw text: its markup only adds to its size once a tag ends a word
    if not much_shorter(extracted, text_size(raw.replace(">", "> ").replace("&gt;", "&gt; "))):
        return None
    paragraphs = split_paragraphs(raw)
    if not much_shorter(extracted, sum(text_size(p) for p in paragraphs)):
        return None
    if not same_text(blocks, paragraphs, description):
        return None
    if paragraphs and title and key(paragraphs[0]) == key(title):
        del paragraphs[0]
    return [Block(text=paragraph) for paragraph in paragraphs]


_CUT = re.compile(r"(?:\u2026|\.\.\.|[\[(](?:\u2026|\.\.\.)[\])])\W{0,2}$")


def excerpt(blocks: list[Block]) -> bool:
    """Whether the text ends in an ellipsis ("…", "...", "[…]", "(...)"): a publisher's excerpt, not the article."""
    return bool(blocks) and bool(_CUT.search(blocks[-1].text.rstrip()))


def same_text(blocks: list[Block], paragraphs: list[str], description: str = "") -> bool:
    """Whether the extracted blocks are of the same article as ``paragraphs``: at least ``AGREE_SHARE`` of their
    words in blocks found in it (or in the description: a printed standfirst that articleBody leaves out), or
    at least ``AGREE_SHARE`` of their long words in it (a teaser page's standfirst, summary points and kicker
    tell the same story in other sentences); unless there are fewer than ``AGREE_FROM`` words to judge by.

    Measured on the corpora: the teasers of the 38 pages with an articleBody against it, and 973 extracted
    bodies of other pages in the same language against each articleBody at least twice their size (what
    would replace them). Long words: the teasers share 0.37 to 1 of theirs (all but 4 at least 0.5), the
    other pages at most 0.38."""
    extracted = sum(text_size(block.text) for block in blocks)
    if extracted < AGREE_FROM:
        return True
    whole = " ".join(key(paragraph) for paragraph in paragraphs)
    lead = key(description)
    agree = 0
    for block in blocks:
        k = key(block.text)
        if k and (k in whole or k in lead):
            agree += text_size(block.text)
    if agree >= AGREE_SHARE * extracted:
        return True
    words = {word for block in blocks for word in _LONG_WORD.findall(block.text.lower())}
    return len(words & set(_LONG_WORD.findall(whole))) >= AGREE_SHARE * len(words)


_LONG_WORD = re.compile(r"[^\W\d_]{7,}")  # words of 7 letters or more: what a story is about, not how it is told


_ENTITY = re.compile(r"&(?:#\d+|#[xX][0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]{1,31});")
_TAG = re.compile(r"</?(?:p|br|div|h[1-6]|li|ul|ol|blockquote|section|span|strong|b|em|i|a|figure|img)\b[^<>]*>",
                  re.IGNORECASE)
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n\s*")
# a paragraph joint that stripping the tags glued together: a sentence's end right before the next one's capital,
# with no space ("…gesorgt hat.Die Nerven …", "… Ding“.„Es ist …"); "U.S.", "3.5", "Bild.de", "z.B." are no joint
_JOINT = re.compile(r"[.!?][\u201c\u201d\"\u00bb\u2019)]?(?=[\u201e\u201c\"\u00ab\u2018]?[^\W\d_]{2})")
_CLOSING = ("\u201c", "\u201d", '"', "\u00bb", "\u2019", ")")
_OPENING = "\u201e\u201c\"\u00ab\u2018"
_LAST_WORD = re.compile(r"\w+$")


# embed code left in a plain-text articleBody (a tweet's or a video's script and iframe) and WordPress
# shortcodes ("[caption …]Photo: …[/caption]", "[embed]…[/embed]"): no text of the article
_EMBED = re.compile(
    r"<(script|style|iframe|noscript|object|video|audio)\b[^>]*>.*?</\1\s*>|<(?:iframe|embed|source|script)\b[^>]*/?>"
    r"|\[(caption|embed|video|audio|gallery|playlist)\b[^\]]*\](?:.*?\[/\2\])?",
    re.IGNORECASE | re.DOTALL,
)


def split_paragraphs(raw: str) -> list[str]:
    """The paragraphs of an ``articleBody``: plain text, escaped text or HTML, one blank-normalized string each."""
    text = html.unescape(raw)
    if _ENTITY.search(text):  # escaped twice ("&amp;ccedil;")
        text = html.unescape(text)
    text = _EMBED.sub("", text)
    if _TAG.search(text):
        text = _html_text(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    pieces = _BLANK_LINE.split(text) if _BLANK_LINE.search(text) else text.split("\n")
    paragraphs: list[str] = []
    for piece in pieces:
        piece = " ".join(piece.split())
        paragraphs.extend(part for part in _unglue(piece) if part)
    return paragraphs


def _unglue(text: str) -> list[str]:
    """``text`` cut at the paragraph joints that stripping the tags glued together: a sentence's end right
    before the next one's capital, with no space ("…gesorgt hat.Die Nerven …", "… Ding“.„Es ist …").
    Not after a capital, a figure or a short capitalised word ("U.S.The", "3.5", "Mr.Smith"), nor before a
    lower-case letter ("Bild.de")."""
    parts, start = [], 0
    for match in _JOINT.finditer(text):
        at = match.end()
        after = text[at : at + 3].lstrip(_OPENING)
        if not (after[:1].isupper() and after[1:2].islower()):
            continue
        before = text[match.start() - 1 : match.start()]
        if before not in _CLOSING:
            word = _LAST_WORD.search(text, 0, match.start())
            if not before.islower() or word is None or len(word[0]) < 2 or (word[0][0].isupper() and len(word[0]) <= 3):
                continue
        parts.append(text[start:at].strip())
        start = at
    parts.append(text[start:].strip())
    return parts


_BREAKS = frozenset(("p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "blockquote", "section",
                     "figure", "figcaption", "table", "tr", "article", "header", "footer", "body"))
_NOT_TEXT = ("script", "style", "noscript", "template", "iframe", "svg", "button", "figure", "figcaption")


def _html_text(markup: str) -> str:
    """The text of an articleBody given as HTML, blank lines between its blocks and a line break at ``<br>``;
    scripts, embeds and captions left out."""
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return _TAG.sub(" ", markup)
    etree.strip_elements(root, *_NOT_TEXT, with_tail=False)
    pieces: list[str] = []
    for event, node in etree.iterwalk(root, events=("start", "end")):
        if not isinstance(node.tag, str):
            continue
        if node.tag in _BREAKS:
            pieces.append("\n\n")
        elif node.tag == "br" and event == "start":
            pieces.append("\n")
        elif node.tag in ("td", "th") and event == "start":
            pieces.append(" ")  # a table's cells, apart
        if event == "start" and node.text:
            pieces.append(node.text)
        elif event == "end" and node.tail and node is not root:
            pieces.append(node.tail)
    return "".join(pieces)
