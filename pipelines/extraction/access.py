"""Paywalls and truncated bodies: what the page says of its own text, and what the body shows.

A publisher marks a paywalled article in its JSON-LD (``isAccessibleForFree:
false``) or its meta tags (``article:content_tier``); its ``articleBody`` or
``wordCount`` tells how long the article is. A body much shorter than that
was cut (a paywall, a script that loads the rest): the document says so
(``truncated: true``) instead of passing a teaser off as the article.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipelines.extraction.textsize import text_size

if TYPE_CHECKING:  # metadata loads trafilatura and htmldate, which the crawl process never needs
    from pipelines.extraction.metadata import PageMeta

TRUNCATED_BELOW = 0.5  # a body under half of the declared article is truncated
MIN_DECLARED = 100  # declared lengths below this are too small to judge by


@dataclass(frozen=True)
class Access:
    paywalled: bool
    declared_size: int  # words of the article the page declares (articleBody, else wordCount); 0 if none


def read_access(meta: PageMeta, page_size: int) -> Access:
    """What the page declares; ``page_size`` (its paragraphs' words) bounds a ``wordCount`` that counts characters."""
    article = meta.ld_article
    free = article.get("isAccessibleForFree", article.get("isaccessibleforfree"))
    if isinstance(free, list):
        free = free[0] if free else None
    paywalled = free is False or (isinstance(free, str) and free.strip().lower() == "false")
    tiers = [value.lower() for value in meta.meta_tags.get("article:content_tier", [])]
    paywalled = paywalled or any(tier in ("locked", "metered", "premium") for tier in tiers)
    body = article.get("articleBody")
    declared = text_size(body) if isinstance(body, str) else 0
    if not declared:
        try:
            count = int(str(article.get("wordCount", "0")).strip() or 0)
        except ValueError:
            count = 0
        # some publishers put the character count there: a count beyond what the page holds is not words
        declared = count if count <= 1.5 * page_size else 0
    return Access(paywalled, declared)


def is_truncated(access: Access, body_size: int) -> bool:
    return much_shorter(body_size, access.declared_size)


def much_shorter(body_size: int, declared_size: int) -> bool:
    """A body that is cut short of the article the page declares: what marks it truncated, and what lets the
    page's own articleBody replace it (pipelines/extraction/ldbody.py)."""
    return declared_size >= MIN_DECLARED and body_size < TRUNCATED_BELOW * declared_size
