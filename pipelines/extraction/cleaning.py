"""Cleaning rules: remove what extractors leave in the extracted paragraphs.

trafilatura, readability and newspaper all keep inline inserts ("ALSO READ:
<headline>"), promo blocks ("DON'T MISS" and a list of headlines), the title
repeated as a first paragraph, captions and pull quotes repeated in the text,
and sign-up or follow-us lines. The rules are data (:class:`CleanRules`); a
site file adds its own prefixes and patterns, never code. What is removed
from the HTML before extraction is :mod:`pipelines.extraction.prune`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

from pipelines.item import Article, Block

# Prefixes that introduce an insert: a link to another article dropped into the text.
INSERT_PREFIXES = (
    "also read", "read also", "read more", "read next", "more reading", "further reading", "suggested reading",
    "recommended reading", "recommended", "related", "related articles?", "related stor(?:y|ies)", "related news",
    "related content", "related coverage", "related links?", "related reading", "related video", "see also",
    "see more", "more", "more from [\\w .'’-]{1,30}", "more on this(?: story)?", "must read", "don[’']t miss",
    "trending", "you may also like", "you might also like", "check out", "click here", "top stories",
)
# Standalone headings that open a block of promoted headlines.
PROMO_HEADINGS = INSERT_PREFIXES + (
    "most read", "most popular", "latest news", "latest stories", "more stories", "more news", "editor[’']s picks",
    "in other news",
    "most read(?: in [\\w ]{1,30})?", "comments?", "\\d+ comments?", "tell us what you think.{0,10}",
    "leave a (?:comment|reply)", "[\\w ]{1,30} newsletter",
)
# Short lines of chrome that are never article text.
BOILERPLATE = (
    r"(?:follow|like|join) (?:us|me|\w+(?: \w+){0,5}) on (?:twitter|facebook|instagram|youtube|tiktok|linkedin|telegram|whatsapp|x)\b.*",
    r".*\bsign up (?:for|to) (?:our|the|a) .{0,60}newsletters?\b.*",
    r"(?:subscribe|sign up) (?:to|for) .{0,60}(?:newsletter|channel|podcast|alerts)\b.*",
    r"(?:©|\(c\)|copyright ©?) ?(?:\d{4}|[\w .,&-]{2,60}).{0,80}",
    r".{0,80}\ball rights reserved\.?",
    r"(?:advertisement|advertising|ad|sponsored(?: content)?|story continues below(?: advertisement)?)",
    r"(?:share|share this|share on) (?:article|story|facebook|twitter|via email).{0,40}",
    r"(?:listen to|watch) [\w ,'’@-]{1,60} (?:live )?(?:at|on) .{0,80}",
    r".*\b(?:subscrib\w*|sign(?:ing)? up)\b.{0,80}\bnewsletters?\b.*",
    r".*\b(?:delivered )?(?:to|in) your inbox\b.*",
    r".*\b(?:may|can) be reached (?:at|on|via)\b.*",
    r"reach the (?:reporters?|writers?|authors?) .*",
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
    r"filed under:?.*",
    r".*\bclick to tweet",
    r"follow .{0,60}\bcoverage\b.{0,30}\b(?:at|on) .*",
    # credit lines, printed after the text by wire services
    r"\(?(?:additional )?(?:reporting|writing|editing|compiled) by\b.*",
    r".*\bcontributed (?:reporting )?to this (?:report|story|article)\.?",
)
# A notice that closes the page: whatever follows it is page furniture, not article text.
END_OF_ARTICLE = re.compile(r"^\W{0,3}(?:(?:copyright|©|\(c\)).{0,40}\b(?:19|20)\d\d\b.{0,80}|.{0,80}\ball rights reserved\b.{0,20})$", re.I)
# A line that only says when (and by whom) the page was published: "Updated at 1:23 p.m."
DATELINE = re.compile(
    r"^\W{0,3}(?:(?:last )?(?:updated|published|posted|first published)\b[^!?]{0,60}\d[^!?]{0,40}"
    r"|(?=.*\b\d{1,2}[:.h]\d\d\b)(?=.*\b(?:19|20)\d\d\b)[^!?]{0,80})$",
    re.I,
)
# A promoted headline ends in a bracketed tag on some sites: "Headline [VIDEO]".
TAGGED_HEADLINE = re.compile(r"\[[A-Z][A-Z ]{2,15}\]\W*$")
_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True)
class CleanRules:
    inserts: tuple[str, ...] = INSERT_PREFIXES
    promo_headings: tuple[str, ...] = PROMO_HEADINGS
    boilerplate: tuple[str, ...] = BOILERPLATE
    drop: tuple[str, ...] = ()  # site patterns: a paragraph matching one is dropped
    max_insert_words: int = 40  # longer paragraphs that open with "More:" and the like are kept
    min_repeat_words: int = 8  # a repeated paragraph counts when it has this many words
    _compiled: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    def extended(self, inserts: Iterable[str] = (), drop: Iterable[str] = ()) -> "CleanRules":
        return CleanRules(
            inserts=self.inserts + tuple(inserts),
            promo_headings=self.promo_headings + tuple(inserts),
            boilerplate=self.boilerplate,
            drop=self.drop + tuple(drop),
            max_insert_words=self.max_insert_words,
            min_repeat_words=self.min_repeat_words,
        )

    def pattern(self, name: str) -> re.Pattern[str]:
        if name not in self._compiled:
            self._compiled[name] = _compile(self, name)
        return self._compiled[name]


def _compile(rules: CleanRules, name: str) -> re.Pattern[str]:
    inserts = "|".join(rules.inserts)
    if name == "insert":  # a paragraph that is an insert: "ALSO READ: Headline", "Related - Headline"
        return re.compile(rf"^\W{{0,3}}(?:{inserts})(?:\s*(?::|\||>|»|\.\.\.)|\s+[-–—]\s)", re.I)
    if name == "trailing":  # an insert after the text of a paragraph: see cut_trailing_insert
        return re.compile(rf"\s+\W{{0,3}}((?:{inserts}))\s*(?::|\||»)\s*\S", re.I)
    if name == "heading":
        return re.compile(rf"^\W{{0,3}}(?:{'|'.join(rules.promo_headings)})\W{{0,3}}$", re.I)
    if name == "boilerplate":
        return re.compile(rf"^\W{{0,3}}(?:{'|'.join(rules.boilerplate)})\W{{0,3}}$", re.I)
    if name == "drop":
        return re.compile("|".join(f"(?:{p})" for p in rules.drop) or r"(?!x)x", re.I)
    raise KeyError(name)


DEFAULT_RULES = CleanRules()


def rules_for(inserts: Iterable[str] = (), drop: Iterable[str] = ()) -> CleanRules:
    inserts, drop = tuple(inserts), tuple(drop)
    return DEFAULT_RULES if not inserts and not drop else DEFAULT_RULES.extended(inserts, drop)


def clean_article(article: Article, rules: CleanRules | None = None) -> tuple[Article, Counter[str]]:
    rules = rules or rules_for(article.site.inserts, article.site.drop)
    article.blocks, counts = clean_blocks(
        article.blocks, rules, title=article.title, description=article.description, tags=article.tags
    )
    article.cleaned = dict(counts)
    return article, counts


def clean_blocks(
    blocks: list[Block],
    rules: CleanRules = DEFAULT_RULES,
    title: str = "",
    description: str = "",
    tags: Iterable[str] = (),
) -> tuple[list[Block], Counter[str]]:
    """Drop inserts, promo blocks, boilerplate and repeats; return what is left and what went, by rule."""
    counts: Counter[str] = Counter()
    kept: list[Block] = []
    tag_keys = {_key(tag) for tag in tags}
    in_promo = False
    for index, block in enumerate(blocks):
        text = block.text.strip()
        words = len(text.split())
        if kept and END_OF_ARTICLE.match(text):
            counts["end_of_article"] += len(blocks) - index
            break
        reason = _drop_reason(text, words, rules, title, description, index) or _tag_list(text, tag_keys)
        if reason is None and index == 0 and block.kind == "head" and words <= 25:
            reason = "title"  # the page's headline (or a variant of it) above the text
        if reason is None and in_promo and _looks_like_headline(text, words):
            reason = "promo"
        in_promo = reason in ("promo", "promo_heading") or (in_promo and reason is not None)
        if reason is not None:
            counts[reason] += 1
            continue
        trimmed = cut_trailing_insert(text, rules)
        if trimmed != text:
            counts["trailing_insert"] += 1
            text = trimmed.rstrip()
        kept.append(Block(text=text, kind=block.kind, link_ratio=block.link_ratio))
    kept, repeats = drop_repeats(kept, rules.min_repeat_words)
    if repeats:
        counts["repeat"] += repeats
    return kept, counts


def _drop_reason(
    text: str, words: int, rules: CleanRules, title: str, description: str, index: int
) -> str | None:
    if not _TOKEN.search(text):
        return "empty"
    if rules.drop and rules.pattern("drop").search(text):
        return "site_rule"
    if rules.pattern("heading").match(text):
        return "promo_heading"
    if words <= rules.max_insert_words and rules.pattern("insert").match(text):
        return "insert"
    if words <= 30 and rules.pattern("boilerplate").match(text):
        return "boilerplate"
    if words <= 12 and DATELINE.match(text):
        return "dateline"
    if words <= 25 and TAGGED_HEADLINE.search(text):
        return "promo"
    if index < 3 and title and _key(text) == _key(title):
        return "title"
    if index < 3 and description and _key(text) == _key(description) and not _is_sentence(text):
        return "standfirst"  # the description printed as a dek under the headline
    return None


def cut_trailing_insert(text: str, rules: CleanRules) -> str:
    """Cut "… end of text. ALSO READ: <headline>" down to the text.

    The marker counts after the end of a sentence (any case), or anywhere when
    written in capitals, as publishers print it ("… highlights: ALSO READ: …").
    """
    for match in rules.pattern("trailing").finditer(text):
        before = text[: match.start()].rstrip()
        marker = match.group(1)
        if before and (before.endswith(_SENTENCE_END) or marker.isupper()):
            return before
    return text


_SENTENCE_END = (".", "!", "?", "\"", "”", "’", ")", "…", ":", "。")


def _tag_list(text: str, tag_keys: set[str]) -> str | None:
    """A line listing the page's own keywords, as tag clouds print them."""
    items = [_key(item) for item in re.split(r"[,|;]", text) if item.strip()]
    if len(items) < 4 or any(len(item.split()) > 8 for item in items):
        return None
    if tag_keys and sum(item in tag_keys for item in items) >= 0.6 * len(items):
        return "tags"
    return None


def _looks_like_headline(text: str, words: int) -> bool:
    """A line in a promo block: short and not a sentence."""
    return words <= 20 and not _is_sentence(text) and not text.endswith((":", ";", ","))


def _is_sentence(text: str) -> bool:
    return text.rstrip("\"”’'»)」").endswith((".", "?", "!", "…", "。", "？", "！"))


def drop_repeats(blocks: list[Block], min_words: int) -> tuple[list[Block], int]:
    """Keep the first of paragraphs that repeat, and drop short blocks that repeat a sentence of another.

    Captions and pull quotes are printed twice in the page: once in the text,
    once highlighted. Either copy may come first.
    """
    keys = [_key(block.text) for block in blocks]
    occurrences = Counter(keys)
    seen: set[str] = set()
    kept: list[Block] = []
    dropped = 0
    for block, key in zip(blocks, keys):
        long_enough = len(key.split()) >= min_words
        # a text printed exactly twice is a caption or pull quote; more often, it is structure
        # (the same interview question put to each guest) and stays
        if long_enough and key in seen and occurrences[key] == 2:
            dropped += 1
            continue
        if long_enough and len(key.split()) <= 40 and any(
            other != key and len(other) > len(key) and key in other for other in keys
        ):
            dropped += 1  # a pull quote lifted from a longer paragraph
            continue
        seen.add(key)
        kept.append(block)
    return kept, dropped


def _key(text: str) -> str:
    return " ".join(_TOKEN.findall(text.lower()))
