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
import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from itertools import compress

from pipelines.extraction.textsize import text_size
from pipelines.item import Article, Block

RULES_DIR = resources.files("pipelines.extraction") / "rules"  # a directory, or a folder in the zipped egg Scrapyd runs
# what the rule tables hold: each a list of regular expressions, matched case-insensitively
RULE_KINDS = ("inserts", "promo_headings", "boilerplate", "notices", "paywall")


@cache
def language_tables() -> dict[str, dict[str, tuple[str, ...]]]:
    """The rule tables of ``rules/*.toml``, by language code (``en`` always applies)."""
    tables: dict[str, dict[str, tuple[str, ...]]] = {}
    for path in sorted((p for p in RULES_DIR.iterdir() if p.name.endswith(".toml")), key=lambda p: p.name):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        table = {kind: tuple(data.get(kind, ())) for kind in RULE_KINDS}
        for language in data["languages"]:
            tables[language] = table
    return tables


_EN = language_tables()["en"]
# Prefixes that introduce an insert: a link to another article dropped into the text.
INSERT_PREFIXES = _EN["inserts"]
# Standalone headings that open a block of promoted headlines.
PROMO_HEADINGS = INSERT_PREFIXES + _EN["promo_headings"]
# Short lines of chrome that are never article text.
BOILERPLATE = _EN["boilerplate"]
NOTICES = _EN["notices"]
PAYWALL = _EN["paywall"]
# A notice that closes the page: whatever follows it is page furniture, not article text. It cuts the
# rest of the page, so it takes only the shape of a footer line, never a sentence that starts with the
# word ("Copyright notices in 2019 were …" cost five paragraphs): the sign ("© 2024 Publisher",
# "Copyright © Publisher 2024"); the word, then at most a few capitalised words and the year ("Copyright
# 2024 X", "copyright Inexhibit 2019 - ISSN …", "Copyright: Project Syndicate, 2025"); or "All rights
# reserved" on its own or after a full stop, comma, dash, year or name ("… Press. All rights reserved."),
# and after "Copyright YEAR Name." with the longer tail of an agency's notice.
_YEAR = r"\b(?:19|20)\d\d\b"
END_OF_ARTICLE = re.compile(
    r"^\W{0,3}(?:"
    rf"(?:©|\(c\)|copyright\s*(?:©|\(c\))).{{0,40}}{_YEAR}.{{0,80}}"
    rf"|copyright\b\W{{0,3}}(?-i:(?:[A-Z0-9][\w&.\'’-]*,?\s+){{0,6}}){_YEAR}.{{0,80}}"
    r"|(?:.{0,80}(?:[.,;:|–—-]|\b(?:19|20)\d\d|(?-i:\b[A-Z][\w&\'’-]*))\s*)?all rights reserved\b.{0,20}"
    # "Copyright 2024 The Associated Press. All rights reserved. This material may not be published, …": after
    # the year, the name and "All rights reserved" an agency's notice runs on
    rf"|(?:©|\(c\)|copyright(?:\s*(?:©|\(c\)))?)\W{{0,3}}{_YEAR}\s+(?-i:[A-Z][\w&.\'’-]*(?:,?\s+[A-Z0-9][\w&.\'’-]*){{0,6}})"
    r"\.?\s+all rights reserved\b.{0,240}"
    r")$",
    re.IGNORECASE,
)
# A line that only says when (and by whom) the page was published: "Updated at 1:23 p.m."
DATELINE = re.compile(
    r"^\W{0,3}(?:last )?(?:updated|published|posted|first published)\b[^!?]{0,60}\d[^!?]{0,40}$", re.IGNORECASE
)
# A short line with a time and a year: "Stand: 22.04.2024, 06:00 Uhr", "5:45 AM PST 11/19/2019 by …" (see
# _is_dateline: a short sentence holding a figure and a year is no dateline)
DATE_TIME_LINE = re.compile(r"^\W{0,3}(?=.*\b\d{1,2}[:.h]\d\d\b)(?=.*\b(?:19|20)\d\d\b)[^!?]{0,80}$")
# A promoted headline ends in a bracketed tag on some sites: "Headline [VIDEO]".
TAGGED_HEADLINE = re.compile(r"\[[A-Z][A-Z ]{2,15}\]\W*$")
_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True)
class CleanRules:
    inserts: tuple[str, ...] = INSERT_PREFIXES
    promo_headings: tuple[str, ...] = PROMO_HEADINGS
    boilerplate: tuple[str, ...] = BOILERPLATE
    notices: tuple[str, ...] = NOTICES  # longer notices to readers (account sharing, external content consent)
    paywall: tuple[str, ...] = PAYWALL  # notices that the rest is for subscribers: the text was cut there
    drop: tuple[str, ...] = ()  # site patterns: a paragraph matching one is dropped
    max_insert_words: int = 40  # longer paragraphs that open with "More:" and the like are kept
    min_repeat_words: int = 8  # a repeated paragraph counts when it has this many words
    _compiled: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    def extended(
        self, inserts: Iterable[str] = (), drop: Iterable[str] = (), promo_headings: Iterable[str] = (),
        boilerplate: Iterable[str] = (), paywall: Iterable[str] = (), notices: Iterable[str] = (),
    ) -> CleanRules:
        inserts = tuple(inserts)
        return CleanRules(
            inserts=self.inserts + inserts,
            promo_headings=self.promo_headings + inserts + tuple(promo_headings),
            boilerplate=self.boilerplate + tuple(boilerplate),
            notices=self.notices + tuple(notices),
            paywall=self.paywall + tuple(paywall),
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
        return re.compile(rf"^\W{{0,3}}(?:{inserts})(?:\s*(?::|：|\||>|»|\.\.\.)|\s+[-–—]\s)", re.IGNORECASE)
    if name == "trailing":  # an insert after the text of a paragraph: see cut_trailing_insert
        return re.compile(rf"(?:\s+|(?<=[。！？]))\W{{0,3}}((?:{inserts}))\s*(?::|：|\||»)\s*\S", re.IGNORECASE)
    if name == "heading":
        return re.compile(rf"^\W{{0,3}}(?:{'|'.join(rules.promo_headings)})\W{{0,3}}$", re.IGNORECASE)
    if name == "boilerplate":
        return re.compile(rf"^\W{{0,3}}(?:{'|'.join(rules.boilerplate)})\W{{0,3}}$", re.IGNORECASE)
    if name == "notices":
        return re.compile(rf"^\W{{0,3}}(?:{'|'.join(rules.notices) or '(?!x)x'})\W{{0,3}}$", re.IGNORECASE)
    if name == "paywall":
        return re.compile(rf"^\W{{0,3}}(?:{'|'.join(rules.paywall) or '(?!x)x'})\W{{0,3}}$", re.IGNORECASE)
    if name == "drop":
        return re.compile("|".join(f"(?:{p})" for p in rules.drop) or r"(?!x)x", re.IGNORECASE)
    raise KeyError(name)


DEFAULT_RULES = CleanRules()


def rules_for(language: str = "", inserts: Iterable[str] = (), drop: Iterable[str] = ()) -> CleanRules:
    """English rules, those of the page's language (all languages' when it is not known), then the site's.

    A page in a language without a table gets the English rules only.
    """
    return _rules_for(language, tuple(inserts), tuple(drop))


@lru_cache(maxsize=256)
def _rules_for(language: str, inserts: tuple[str, ...], drop: tuple[str, ...]) -> CleanRules:
    tables = language_tables()
    if language == "en":
        chosen: list[dict[str, tuple[str, ...]]] = []
    elif language:
        chosen = [tables[language]] if language in tables else []
    else:
        chosen = [table for code, table in tables.items() if code != "en"]
    rules = DEFAULT_RULES
    for table in {id(t): t for t in chosen}.values():
        rules = rules.extended(
            table["inserts"], (), table["promo_headings"], table["boilerplate"], table["paywall"], table["notices"]
        )
    if inserts or drop:
        rules = rules.extended(inserts, drop)
    return rules


def clean_article(article: Article, rules: CleanRules | None = None) -> tuple[Article, Counter[str]]:
    language = article.language or guess_language(block.text for block in article.blocks)
    rules = rules or rules_for(language, article.site.inserts, article.site.drop)
    blocks, counts = clean_blocks(article.blocks, rules, title=article.title, tags=article.tags)
    if blocks or not article.blocks:
        article.blocks = blocks
    else:  # every block matched a rule: the rules' false alarm (a brief of credit lines), not an article of
        # inserts; the text stays as extracted, and the run record says so (a paywall notice still counts)
        counts = Counter({"emptied": 1, **({"paywall": counts["paywall"]} if counts["paywall"] else {})})
    if counts.get("paywall"):  # the page printed where its text stops for non-subscribers
        article.truncated = True
        article.access = "paywalled"
    article.cleaned = dict(counts)
    return article, counts


def guess_language(texts: Iterable[str]) -> str:
    """The language of a page that does not say it, when its text leaves no doubt; else "".

    Every language's rules on an English page without ``lang`` dropped its sentences about a newsletter
    (the French, Spanish, Polish … tables drop any short line naming one). The script tells Arabic,
    Cyrillic, Hangul, kana and Chinese; a Latin-script text is the language whose commonest function
    words it holds, if at least twice as many as the next language's. A doubt keeps every table.

    Hand-made where py3langid exists, because the library costs every crawl more than it gives
    (side by side, bench site, 2026-12-05: py3langid loaded once in the workers' forkserver, 0.7 s
    and 75 MB, and numpy in every process that imports trafilatura): 270-page crawls 39.3 -> 36.6
    pages/s (-7%), first article 1.39 -> 1.90 s; 1,080-page crawls 46.2 -> 45.3 pages/s (-2%). What
    it gives: on whole pages of the 249 of dev, fundus-dev and the review pages, the right table for
    243 against 239 here (neither ever a wrong table; the others get every table), and the same
    cleaned bodies on both corpora (docs/extraction.md has the table).
    """
    text = " ".join(texts)[:20000]
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return ""
    scripts: Counter[str] = Counter()
    for ch in letters:
        if ch > "\u024f":
            scripts[next((code for low, high, code in _SCRIPTS if low <= ch <= high), "other")] += 1
    if sum(scripts.values()) > 0.3 * len(letters):
        if scripts["ja"] > 0.05 * len(letters):
            return "ja"  # kana among the Han characters
        code, count = scripts.most_common(1)[0]
        return code if code not in ("other", "ja") and count > 0.3 * len(letters) else ""
    hits: Counter[str] = Counter()
    words = _TOKEN.findall(text.lower())
    for word in words:
        for code in _FUNCTION_WORD_LANGUAGES.get(word, ()):
            hits[code] += 1
    ranked = [*hits.most_common(2), ("", 0), ("", 0)]
    (top, count), (_, second) = ranked[0], ranked[1]
    return top if count >= 5 and count >= 0.05 * len(words) and count >= 2 * second else ""


_SCRIPTS = (
    ("\u0400", "\u04ff", "ru"), ("\u0600", "\u06ff", "ar"), ("\u0750", "\u077f", "ar"), ("\u3040", "\u30ff", "ja"),
    ("\u4e00", "\u9fff", "zh"), ("\u1100", "\u11ff", "ko"), ("\uac00", "\ud7af", "ko"),
)
# the commonest words of each language with a table, none shared between two of them
_FUNCTION_WORDS = {
    "en": "the and of that with was said from have has are this were his her they would which",
    "de": "der die und ist nicht mit von sich auf dem den eine wird auch nach bei",
    "fr": "le les et des est une dans pour qui pas sur du au aux ce elle",
    "es": "el los las y del por como pero más fue según sus este",
    "pt": "os não com do da em dos das ao foi mais pelo pela são",
    "it": "il che della per non sono gli nel alla anche è dei delle più",
    "nl": "het een van niet zijn op voor ook dat worden werd bij naar",
    "pl": "się nie że jest przez w z od oraz jak który która",
    "cs": "se je že jako které který byl také sa aby podle",
    "sv": "och att som är på av og ikke til af har ett",
    "tr": "ve bir bu için ile olarak çok daha gibi olan sonra",
    "id": "yang dan di dengan untuk ini itu dari dalam tidak akan pada",
    "sw": "ya wa kwa za katika kuwa hiyo kuma cikin wajen",
}
_FUNCTION_WORD_LANGUAGES: dict[str, tuple[str, ...]] = {}
for _code, _words in _FUNCTION_WORDS.items():
    for _word in _words.split():
        _FUNCTION_WORD_LANGUAGES[_word] = (*_FUNCTION_WORD_LANGUAGES.get(_word, ()), _code)


def clean_blocks(
    blocks: list[Block],
    rules: CleanRules = DEFAULT_RULES,
    title: str = "",
    tags: Iterable[str] = (),
) -> tuple[list[Block], Counter[str]]:
    """Drop inserts, promo blocks, boilerplate and repeats; return what is left and what went, by rule."""
    counts: Counter[str] = Counter()
    kept: list[Block] = []
    tag_keys = {_key(tag) for tag in tags}
    in_promo = False
    for index, block in enumerate(blocks):
        text = block.text.strip()
        words = text_size(text)
        if kept and END_OF_ARTICLE.match(text):
            counts["end_of_article"] += len(blocks) - index
            break
        reason = _drop_reason(text, words, rules, title, index) or _tag_list(text, tag_keys)
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
    text: str, words: int, rules: CleanRules, title: str, index: int
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
    if words <= 40 and rules.pattern("paywall").match(text):
        return "paywall"
    if words <= 80 and rules.pattern("notices").match(text):
        return "notice"
    if words <= 12 and _is_dateline(text):
        return "dateline"
    if words <= 25 and TAGGED_HEADLINE.search(text):
        return "promo"
    if index < 3 and title and _key(text) == _key(title):
        return "title"
    return None


def _is_dateline(text: str) -> bool:
    """A line that says when the page was published, not a short sentence that holds a figure and a year.

    "Core inflation held at 3.25 percent in 2024." and "The previous mark was 3:49.11 in 2023." have a
    time's shape and a year, as "Stand: 22.04.2024, 06:00 Uhr" has; a sentence opens with a capital,
    ends with a full stop and has three lowercase words in a row, which datelines do not.
    """
    if DATELINE.match(text):
        return True
    if not DATE_TIME_LINE.match(text):
        return False
    tokens = text.split()
    sentence = text[0].isupper() and text.endswith(".") and any(
        all(token.isalpha() and token.islower() for token in tokens[i : i + 3]) for i in range(len(tokens) - 2)
    )
    return not sentence


def cut_trailing_insert(text: str, rules: CleanRules) -> str:
    """Cut "… end of text. ALSO READ: <headline>" down to the text.

    The marker counts after the end of a sentence (any case), or anywhere when
    written in capitals, as publishers print it ("… highlights: ALSO READ: …").
    """
    if not any(mark in text for mark in _TRAILING_MARKS):
        return text  # the pattern requires one after the insert: four paragraphs in five have none
    for match in rules.pattern("trailing").finditer(text):
        before = text[: match.start()].rstrip()
        marker = match.group(1)
        if before and (before.endswith(_SENTENCE_END) or marker.isupper()):
            return before
    return text


_SENTENCE_END = (".", "!", "?", "\"", "”", "’", ")", "…", ":", "。")
_TRAILING_MARKS = (":", "：", "|", "»")  # what the "trailing" pattern requires after an insert


def _tag_list(text: str, tag_keys: set[str]) -> str | None:
    """A line listing the page's own keywords, as tag clouds print them."""
    if not tag_keys:
        return None
    items = []
    for part in _TAG_SEPARATOR.split(text):
        if part.strip():
            item = _key(part)
            if len(item.split()) > 8:
                return None  # a sentence, no keyword: the rest of the paragraph need not be read
            items.append(item)
    if len(items) < 4:
        return None
    if sum(item in tag_keys for item in items) >= 0.6 * len(items):
        return "tags"
    return None


_TAG_SEPARATOR = re.compile(r"[,|;]")


def _looks_like_headline(text: str, words: int) -> bool:
    """A line in a promo block: short and not a sentence."""
    return words <= 20 and not _is_sentence(text) and not text.endswith((":", ";", ","))


def _is_sentence(text: str) -> bool:
    return text.rstrip("\"”’'»)」").endswith((".", "?", "!", "…", "。", "？", "！"))


def drop_repeats(blocks: list[Block], min_words: int) -> tuple[list[Block], int]:
    """Keep one of paragraphs printed twice, and drop short blocks that repeat a sentence of another.

    Captions and pull quotes are printed twice in the page: once in the text,
    once highlighted. Either copy may come first; the copy in the text flow
    stays, the caption copy (the one with a photo credit, or not a paragraph) goes.
    """
    keys = [_key(without_credit(block.text)) for block in blocks]
    occurrences = Counter(keys)
    lifted = _inside_longer(keys, min_words, 40)  # pull quotes
    drop: set[int] = set()
    first: dict[str, int] = {}
    for index, (block, key) in enumerate(zip(blocks, keys)):
        words = key.count(" ") + 1 if key else 0  # its tokens, one space apart
        long_enough = words >= min_words
        # a text printed exactly twice is a caption or pull quote; more often, it is structure
        # (the same interview question put to each guest) and stays
        if long_enough and key in first and occurrences[key] == 2:
            earlier = first[key]
            if not _same_question_twice(blocks, keys, earlier, index):
                drop.add(earlier if _is_caption(blocks[earlier]) and not _is_caption(block) else index)
            continue
        first.setdefault(key, index)
        if key in lifted:
            drop.add(index)  # a pull quote lifted from a longer paragraph
    kept = [block for index, block in enumerate(blocks) if index not in drop]
    return kept, len(drop)


def _inside_longer(keys: list[str], min_words: int, max_words: int) -> set[str]:
    """The keys of ``min_words`` to ``max_words`` tokens that occur, whole tokens only, inside a longer key
    ("paragraph 1" is no part of "paragraph 10").

    Searching the whole text for each key is quick while they are few (0.06 ms a dev page), and took 4 s
    on a page of 10,000 paragraphs (a live blog, a transcript), where a worker may time out and lose the
    article. Past ``SEARCHED_KEYS`` keys, each is indexed by its first ``min_words`` tokens and looked up
    at each token of the longer keys, one set lookup per key size: time linear in the page's tokens (0.2 s on that
    page), however many keys share their first words.
    """
    occurrences = Counter(keys)
    candidates = [key for key in occurrences if min_words <= (key.count(" ") + 1 if key else 0) <= max_words]
    if len(candidates) <= SEARCHED_KEYS:
        # keys hold no newline: a key found in them all more often than it is a key is part of a longer one
        joined = " " + " \n ".join(keys) + " "
        return {key for key in candidates if joined.count(f" {key} ") > occurrences[key]}
    span = max(min_words, 1)
    # the sizes of the keys that start with each first ``span`` tokens: at a token, each size is one set lookup,
    # never one comparison per key (thousands of entries of a live blog may open with the same words)
    sizes: dict[str, set[int]] = {}
    for key in candidates:
        sizes.setdefault(" ".join(key.split(" ", span)[:span]), set()).add(key.count(" ") + 1)
    wanted = set(candidates)
    firsts = {start.split(" ", 1)[0] for start in sizes}
    found: set[str] = set()
    for text in occurrences:
        tokens = text.split(" ")
        for at in compress(range(len(tokens) - span + 1), map(firsts.__contains__, tokens)):  # a loop in C
            for size in sizes.get(" ".join(tokens[at : at + span]), ()):
                if size < len(tokens) and (key := " ".join(tokens[at : at + size])) in wanted:
                    found.add(key)
    return found


# short keys searched for in the whole text: the search costs as much as the index at about 80 of them
# (random pages of 200 to 2,000 paragraphs); corpus pages have fewer than 40 but for a few (at most 136)
SEARCHED_KEYS = 50


def _same_question_twice(blocks: list[Block], keys: list[str], earlier: int, later: int) -> bool:
    """The same question put to two guests: both copies in the text flow, each followed by its own answer.

    A caption or pull quote printed twice is no question followed by a different paragraph each time.
    """
    if not all(_is_question(blocks[i].text) and not _is_caption(blocks[i]) for i in (earlier, later)):
        return False
    return later + 1 < len(blocks) and earlier + 1 != later and keys[earlier + 1] != keys[later + 1]


def _is_question(text: str) -> bool:
    return text.rstrip().rstrip("\"”’'»)」*").endswith(("?", "？", "؟"))


# a photo credit after a caption: "… in Kyiv. Photo: AFP", "(Foto: dpa)", "© Reuters"
CAPTION_CREDIT = re.compile(
    r"[\s(\[|]*(?:(?:photo|foto|фото|image|bild|picture|credit|crédit|crédito|zdjęcie|写真|사진|صورة|imagen|imagem"
    r"|immagine)s?\s*[:：/]|©).{0,80}$",
    re.IGNORECASE,
)


def without_credit(text: str) -> str:
    """``text`` without the photo credit at its end, if any.

    The credit's ":", "/" or "©" lies within the last 82 characters (".{0,80}$"): only
    then can the pattern match, which one paragraph in ten allows. Scanning every
    position of every paragraph took a third of the cleaning time.
    """
    if not any(mark in text[-82:] for mark in _CREDIT_MARKS):
        return text
    return CAPTION_CREDIT.sub("", text)


_CREDIT_MARKS = (":", "：", "/", "©")


def _is_caption(block: Block) -> bool:
    return block.kind not in ("p", "lead") or CAPTION_CREDIT.search(block.text) is not None


def _key(text: str) -> str:
    return " ".join(_TOKEN.findall(text.lower()))
