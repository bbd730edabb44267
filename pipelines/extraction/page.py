"""One fetched page to one :class:`Article`: decode, parse, classify, extract, or say why not.

trafilatura finds the article body (options chosen by measurement on the dev
corpus, see docs/extraction.md); page metadata, JSON-LD and htmldate give the
fields of the front matter. Everything here is a plain function of its
inputs, so that it runs in a worker process and tests call it directly.
"""

from __future__ import annotations

import codecs
import functools
import logging
import re
from typing import TYPE_CHECKING

import lxml.html
from w3lib.encoding import html_to_unicode, http_content_type_encoding, read_bom, resolve_encoding, to_unicode

from pipelines.extraction import values
from pipelines.extraction.access import is_truncated, read_access
from pipelines.extraction.body import extract_body, paragraph_size, printed_lead
from pipelines.extraction.classify import classify, read_signals
from pipelines.extraction.cleaning import clean_article
from pipelines.extraction.ldbody import excerpt, ld_body
from pipelines.extraction.options import ExtractOptions
from pipelines.extraction.prune import prune_tree
from pipelines.extraction.textsize import text_size
from pipelines.item import Article, Block, Page

# trafilatura and pipelines.extraction.metadata (htmldate) are imported where they are used: the crawl
# process imports this package's light modules and never extracts (workers have them preloaded)

if TYPE_CHECKING:
    from pipelines.extraction.metadata import PageMeta

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


def extract_page(page: Page, options: ExtractOptions = ExtractOptions()) -> Article:
    """Extract the article of ``page`` or raise :class:`ExtractError` saying why not."""
    from pipelines.extraction import metadata

    text = decode_page(page, options)
    tree = parse_html(text)
    meta = metadata.read_metadata(tree, page.url, page.site.timezone)
    date = meta.date or values.parse_date(page.hints.get("date", ""), page.site.timezone) or meta.date_guess

    prune_tree(tree, page.site.strip)
    page_size = paragraph_size(tree)
    blocks, _ = extract_body(tree, page.url, options, page_size, live="LiveBlogPosting" in meta.ld_types)
    body_from = ""
    # only the page's own article object: a related story's or a listed item's text is another article's
    if meta.ld_own and (ld_blocks := ld_body(meta.ld_article, blocks, meta.description, meta.title)) is not None:
        # the HTML shows a teaser (or nothing) of the article its JSON-LD carries whole: the publisher sent it
        logger.debug("body from JSON-LD articleBody (%d words, %d extracted): %s",
                     sum(text_size(b.text) for b in ld_blocks), sum(text_size(b.text) for b in blocks), page.url)
        blocks, body_from = ld_blocks, "ld"
    verdict = classify(
        meta,
        page.url,
        read_signals(tree, meta),
        "\n".join(b.text for b in blocks),
        page.site.article,
        options.min_words,
    )
    if not verdict.is_article and verdict.kind != "empty":
        raise ExtractError(f"not_article/{verdict.kind}", f"not an article ({verdict.kind}): {page.url}")
    if (lead := printed_lead(tree, meta.descriptions, blocks)) is not None:
        blocks.insert(0, lead)
    author = take_byline(blocks, meta)
    words = sum(text_size(block.text) for block in blocks)
    if words < options.min_words:
        raise ExtractError("no_article", f"no article text ({words} words): {page.url}")
    access = read_access(meta, page_size)

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
        author=author,
        language=meta.language,
        source=page.site.source or meta.site_name,
        page_type=verdict.kind,
        page_url=page.url,
        access="paywalled" if access.paywalled else "",
        truncated=is_truncated(access, words),  # and an excerpt: extract_and_clean judges the text it stores
        body_from=body_from,
    )


def take_byline(blocks: list[Block], meta: PageMeta) -> str:
    """Take a byline printed as a paragraph near the top or at the end out of the body.

    It names the authors when the metadata names none, or only the publisher. Near the top
    but after the first paragraph, only a line that reads as a byline counts ("Von …", "A/B", "〔記者王小明／台北〕"):
    a short heading of capitalised words looks like names too. Without "By" or "/", an item of a list
    of names (the last of a list of winners) and a line above the headline that names the section, a tag
    or a topic (a kicker: "Middle East Crisis") are no byline; a list of one item and a name above the
    headline ("Maureen Dowd") are.
    """
    from pipelines.extraction.headline import byline_block, is_cjk_byline, is_publisher

    known = [name.strip() for name in meta.author.split(",") if name.strip()]
    unnamed = not known or is_publisher(known, [*meta.site_names, *meta.accounts])
    last = len(blocks) - 1
    for index in dict.fromkeys(i for i in (0, 1, 2, last) if 0 <= i <= last and last > 0):
        text = blocks[index].text
        names = byline_block(text, meta.title)
        if not names:
            continue
        if {n.casefold() for n in names} <= {n.casefold() for n in known}:
            del blocks[index]  # the byline the metadata gives, printed again
            return meta.author
        if not unnamed:
            continue
        if "/" in text or text.split()[0].casefold() in _BYLINE_WORDS or is_cjk_byline(text) or (
            index in (0, last) and not _in_a_list(blocks, index) and not _kicker(blocks, index, names, meta)
        ):
            del blocks[index]
            return ", ".join(names)
    return meta.author


def _in_a_list(blocks: list[Block], index: int) -> bool:
    """An item next to another item: one of a list of names (winners), not a byline printed as a list of one."""
    return blocks[index].kind == "item" and any(
        0 <= i < len(blocks) and blocks[i].kind == "item" for i in (index - 1, index + 1)
    )


def _kicker(blocks: list[Block], index: int, names: list[str], meta: PageMeta) -> bool:
    """A line above the headline that names the page's section, a tag or a topic ("Middle East Crisis"), no one."""
    if index != 0 or len(blocks) < 2 or blocks[1].kind != "head":
        return False
    text = " ".join(blocks[index].text.split()).casefold()
    if any(text == " ".join(label.split()).casefold() for label in (*meta.sections, *meta.tags)):
        return True
    return any(word.casefold().strip(".") in _TOPIC_WORDS for name in names for word in name.split())


# Words of a kicker or section label that no person's name carries
_TOPIC_WORDS = {
    "crisis", "war", "news", "live", "update", "updates", "election", "elections", "report", "analysis", "opinion",
    "exclusive", "breaking", "explainer", "special", "coverage", "conflict", "politics", "business", "sport",
    "sports", "world", "east", "middle", "economy", "climate", "health", "culture", "review", "interview", "latest",
    "briefing", "podcast", "video", "europe", "america", "africa", "asia", "science", "technology", "tech",
    "markets", "money", "travel", "weather", "entertainment", "lifestyle", "food", "education", "crime", "justice",
    "investigation", "investigations", "feature", "features", "letters", "editorial", "column", "commentary",
    "games", "cup", "league", "championship", "olympics", "pandemic", "coronavirus", "covid", "ukraine", "gaza",
    "israel", "russia", "china", "trump", "biden", "brexit", "royal", "royals", "family", "state", "states",
    "government", "parliament", "congress", "budget", "policy", "affairs", "national", "international", "local",
    "global", "city", "county", "region", "country", "watch", "story", "stories", "fact", "check", "guide",
}


_BYLINE_WORDS = {"by", "von", "par", "por", "di", "door", "av", "af", "text:", "von:", "by:"}


def extract_and_clean(page: Page, options: ExtractOptions = ExtractOptions(), cleaning: bool = True) -> Article:
    """:func:`extract_page`, then :func:`pipelines.extraction.cleaning.clean_article` unless ``cleaning`` is off.

    The crawl runs both in one worker task: one round trip per page, and the
    extracted text never travels back and forth between the stages.
    """
    article = extract_page(page, options)
    if cleaning:
        article, _ = clean_article(article)
    # an articleBody that ends in "…" is itself an excerpt: the archive holds more than the teaser, not all.
    # Judged on the text stored: an insert ending in "…" after the whole article ("LEE TAMBIÉN: …") goes in
    # cleaning and made a whole text truncated; a copyright line after the "[…]" went too and hid the cut
    if article.body_from == "ld" and excerpt(article.blocks):
        article.truncated = True
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
    declared = http_content_type_encoding(page.content_type or None)
    # NUL bytes: binary, unless the page is UTF-16 or UTF-32 (by its BOM, or as its header says without one)
    if b"\x00" in body[:4096] and not body.startswith((b"\xff\xfe", b"\xfe\xff")) and not (
        declared or ""
    ).startswith(("utf-16", "utf-32")):
        raise ExtractError("not_html", f"binary content: {page.url}")
    encoding, text = html_to_unicode(page.content_type or None, body)
    if declared in ("utf-16", "utf-32") and not read_bom(body)[0]:
        # the label without a byte order and no BOM: the order the NUL bytes show (WHATWG: little-endian)
        encoding = f"{declared}-be" if body[:1] == b"\x00" else f"{declared}-le"
        text = body.decode(encoding, errors="replace")
    if encoding in _LATIN and not body.isascii():
        # UTF-8 labelled Latin-1 (a server's default header, a template's old <meta>): Latin-1 reads any byte,
        # so no error shows it, and "été" became "Ã©tÃ©". Text in a Latin encoding is next to never valid
        # UTF-8 as well (its accented letters would have to come in UTF-8's lead-and-continuation pairs)
        try:
            encoding, text = "utf-8", body.decode("utf-8")
        except UnicodeDecodeError:  # a few stray Latin-1 bytes too (a footer's "©"): UTF-8 if far outnumbered
            utf8 = body.decode("utf-8", errors="replace")
            errors = utf8.count("\ufffd")
            if sum(1 for ch in utf8 if ch > "\x7f") - errors >= 10 * errors:
                encoding, text = "utf-8", body.decode("utf-8", errors=_STRAY_BYTES)
    if "\ufffd" in text and page.content_type:
        # servers mislabel pages; the page's own <meta charset> (or BOM) may be the truth
        own_encoding, own = html_to_unicode(None, body)
        if own.count("\ufffd") < text.count("\ufffd"):
            encoding, text = own_encoding, own
    if "\ufffd" in text and not read_bom(body)[0]:
        # still errors: the declared encoding (header or <meta>) is not the page's ("charset=utf-8" on a
        # windows-1251 page), or nothing declared one
        text = _redecode(body, encoding, text, declared is not None)
    if text.count("\ufffd") > options.max_replacement_ratio * len(text):
        raise ExtractError("undecodable", f"text does not decode in its declared or detected encoding: {page.url}")
    if "<" not in text[:65536]:
        raise ExtractError("not_html", f"no markup: {page.url}")
    # characters XML does not allow (C0 controls but tab, LF and CR; U+FFFE, U+FFFF), typed or as character
    # references: lxml refuses them in a tree's text (ValueError) when trafilatura builds its output, so one
    # stray U+0010 in a byline cost the whole page
    if _NOT_XML.search(text):
        text = text.translate(_NOT_XML_TABLE)
    if "&#" in text:
        text = _NOT_XML_REFERENCE.sub(_not_xml_reference, text)
    return text


def _redecode(body: bytes, encoding: str, text: str, header: bool = False) -> str:
    """The page decoded in a better encoding than ``encoding``, whose decoding ``text`` holds U+FFFD.

    For a page without a BOM: w3lib reads the header's charset, else a declaration in the first 4 KB,
    else takes UTF-8. A ``<meta charset>`` after a long inline script, a label browsers know and Python
    does not (``x-euc-jp``), no declaration at all (a windows-1251 page) or a wrong one (a header's
    ``charset=utf-8`` on a windows-1252 page) left the page garbled or lost. The candidates, in order: a
    ``<meta charset>`` anywhere in the first 64 KB, UTF-8, then charset_normalizer's guess (what Scrapy
    uses); the one that decodes with the fewest errors wins, the earlier on a tie, and only if it has
    fewer than ``encoding``. A UTF-8 page with a few stray bytes stays UTF-8: its valid multibyte
    characters outnumber the errors by far, where a legacy encoding read as UTF-8 yields few or none.
    Against a charset the HTTP ``header`` names, the detector's guess must read as a language (see
    :func:`_detected_encoding`): bytes that are no text in any encoding stay undecodable.
    """
    errors = text.count("\ufffd")
    encoding = resolve_encoding(encoding) or encoding  # w3lib's default is spelt "utf8"
    valid = sum(1 for ch in text if ch > "\x7f" and ch != "\ufffd")  # multibyte characters UTF-8 read whole
    # charset_normalizer takes a few ms to a few hundred: asked at most once
    detected = functools.cache(functools.partial(_detected_encoding, body, header))
    # UTF-8 with a few stray bytes (a Latin-1 footer, a pasted quote): its valid multibyte characters are
    # not far outnumbered by its errors. A legacy page read as UTF-8 gives almost none: a few chance ones
    # for a CJK page (under a third of its errors), next to none for a single-byte one (under a tenth).
    # Only the stray bytes are then read as windows-1252; re-decoding the page whole garbled every
    # character UTF-8 had read right.
    if encoding == "utf-8" and valid and (
        2 * valid >= errors or (10 * valid >= errors and detected() not in _MULTIBYTE)
    ):
        return body.decode("utf-8", errors=_STRAY_BYTES)
    best, fewest = encoding, errors
    tried = {encoding}
    for candidate in (*_meta_encodings(body), "utf-8", None):
        candidate = candidate or detected()  # charset_normalizer's guess last, and only when needed
        if candidate is None or candidate in tried or not _ascii_compatible(candidate):
            continue
        tried.add(candidate)
        count = to_unicode(body, candidate).count("\ufffd")
        if count < fewest:
            best, fewest = candidate, count
            if not count:
                break
    return text if best == encoding else to_unicode(body, best)


def _meta_encodings(body: bytes) -> list[str]:
    """The encodings that ``<meta charset>`` or ``http-equiv`` declarations in the first 64 KB name."""
    found = []
    for label in _META_CHARSET.findall(body[:65536]):
        if (encoding := whatwg_encoding(label.decode("ascii"))) is not None:
            found.append(encoding)
    return found


_META_CHARSET = re.compile(rb"<meta\b[^>]*?\bcharset\s*=\s*[\"']?\s*([a-zA-Z0-9._:+-]{2,40})", re.IGNORECASE)


def whatwg_encoding(label: str) -> str | None:
    """The Python codec for an encoding label as browsers read it (WHATWG Encoding Standard), or None.

    w3lib resolves the labels Python knows and maps them as browsers do (latin-1 to windows-1252,
    gb2312 to gb18030, ...); the standard's labels that Python lacks are mapped here first.
    """
    label = label.strip().lower()
    return resolve_encoding(_WHATWG_LABELS.get(label, label))


# the WHATWG Encoding Standard's labels that Python's codec registry does not know (x-user-defined is left out)
_WHATWG_LABELS = {
    **{f"x-cp125{n}": f"cp125{n}" for n in range(9)},
    **dict.fromkeys(("unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "x-unicode20utf8"), "utf-8"),
    **dict.fromkeys(("iso-8859-8-i", "csiso88598i", "logical"), "iso8859_8"),
    "visual": "iso8859_8",
    **dict.fromkeys(("x-mac-cyrillic", "x-mac-ukrainian"), "mac_cyrillic"),
    **dict.fromkeys(("x-mac-roman", "csmacintosh", "mac"), "mac_roman"),
    **dict.fromkeys(("dos-874", "windows-874"), "cp874"),
    **dict.fromkeys(("koi", "koi8", "cskoi8r", "koi8-ru"), "koi8_r"),
    **dict.fromkeys(("x-euc-jp", "cseucpkdfmtjapanese"), "euc_jp"),
    **dict.fromkeys(("x-sjis", "ms_kanji", "csshiftjis", "windows-31j"), "cp932"),
    **dict.fromkeys(("windows-949", "ks_c_5601-1989", "csksc56011987", "iso-ir-149", "cseuckr", "korean"), "cp949"),
    **dict.fromkeys(("x-gbk", "csgb2312", "chinese", "iso-ir-58", "gb_2312", "csiso58gb231280"), "gb18030"),
    **dict.fromkeys(("x-x-big5", "cn-big5", "csbig5", "big5-hkscs"), "big5hkscs"),
}


def _detected_encoding(body: bytes, as_language: bool = False) -> str | None:
    """charset_normalizer's guess, but windows-1252 (browsers' default) when it reads the page as cleanly.

    On a short Spanish page it put windows-1250 (ñ is ń there) or even hp_roman8 first: every
    single-byte codec reads such a page without a flaw ("chaos" 0), and the language fit that ranks
    them ("coherence") is noise on a few paragraphs. Browsers take windows-1252 for an undeclared page,
    and so does this when it is among the guesses with the least chaos; a windows-1251 or Greek page
    read as windows-1252 is all accented capitals and symbols, and has more.

    ``as_language``: only a reading the detector fits to a language (coherence at least
    ``_LANGUAGE_FIT``: a Russian, Greek or English page 0.5-0.8, letter soup 0.17), or one in a
    multibyte encoding, which random bytes do not decode in (the detector scores no CJK language).
    """
    from charset_normalizer import from_bytes

    # only encodings web pages use: among codecs that all read a page without a flaw, the detector also
    # offers mac-iceland or cp850, whose reading of a windows-1252 or UTF-8 page is garbage
    results = [r for r in from_bytes(body[:262144]) if _web_encoding(r.encoding) in _WEB_ENCODINGS
               and (not as_language or r.coherence >= _LANGUAGE_FIT or _web_encoding(r.encoding) in _MULTIBYTE)]
    if not results:
        return None
    best = results[0]
    # windows-1252 on a tie in flaws, unless the language fit ranks another first by more (Turkish in
    # windows-1254, Polish in windows-1250 read as windows-1252 are all wrong letters, without a flaw)
    for result in results:
        if result.chaos <= best.chaos and "cp1252" in result.could_be_from_charset:
            return "cp1252" if result.coherence >= best.coherence else _web_encoding(best.encoding)
    return _web_encoding(best.encoding)


_LANGUAGE_FIT = 0.3
_LATIN = frozenset({"cp1252", "iso8859-15"})  # what w3lib names latin-1, windows-1252 and iso-8859-15
_MULTIBYTE = frozenset({"cp932", "euc_jp", "iso2022_jp", "gb18030", "big5hkscs", "cp949", "utf-16-le", "utf-16-be"})


def _web_encoding(name: str) -> str:
    encoding = resolve_encoding(name) or name
    return _JIS_2004.get(encoding, encoding)


# the detector names the JIS X 0213 supersets; pages are in what browsers decode them as
_JIS_2004 = {"euc_jis_2004": "euc_jp", "euc_jisx0213": "euc_jp", "shift_jis_2004": "cp932", "shift_jisx0213": "cp932"}


# the encodings of the WHATWG Encoding Standard, as w3lib resolves them (what browsers read pages in)
_WEB_ENCODINGS = frozenset(
    resolve_encoding(name) or name
    for name in (
        "utf-8", "ibm866", "iso8859-2", "iso8859-3", "iso8859-4", "iso8859-5", "iso8859-6", "iso8859-7",
        "iso8859-8", "iso8859-10", "iso8859-13", "iso8859-14", "iso8859-15", "iso8859-16", "koi8-r", "koi8-u",
        "mac-roman", "cp874", *(f"cp125{n}" for n in range(9)), "mac-cyrillic", "gbk", "gb18030", "big5",
        "big5hkscs", "euc-jp", "iso2022-jp", "shift-jis", "cp932", "euc-kr", "cp949", "utf-16-le", "utf-16-be",
    )
)


def _stray_bytes(error: UnicodeError) -> tuple[str, int]:
    """Bytes UTF-8 cannot read, read as windows-1252 (Latin-1 where it has no character)."""
    assert isinstance(error, UnicodeDecodeError)
    bad = error.object[error.start:error.end]
    return "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in bad), error.end


_STRAY_BYTES = "pipelines-stray-bytes"
codecs.register_error(_STRAY_BYTES, _stray_bytes)


def _ascii_compatible(encoding: str) -> bool:
    try:
        return b"<p a='1'>&#;</p>".decode(encoding) == "<p a='1'>&#;</p>"
    except (UnicodeDecodeError, LookupError):
        return False


_NOT_XML_CODES = frozenset([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF])
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# vertical tab and form feed separate words as white space does in HTML; the others are dropped
_NOT_XML_TABLE = {code: (" " if code in (0x0B, 0x0C) else None) for code in _NOT_XML_CODES}
# only the references to those characters, with or without their ";" (browsers read both)
_NOT_XML_REFERENCE = re.compile(
    r"&#(?:[xX]0*([0-8bcefBCEF]|1[0-9a-fA-F]|[fF]{3}[eEfF])(?![0-9a-fA-F])"
    r"|0*([0-8]|1[124-9]|2[0-9]|3[01]|6553[45])(?![0-9]));?"
)


def _not_xml_reference(match: re.Match[str]) -> str:
    code = int(match[1], 16) if match[1] else int(match[2])
    return " " if code in (0x0B, 0x0C) else ""


# comments go at parsing, as trafilatura's own parser drops them: text after a comment inside a paragraph
# ("recovered <a>from</a><!-- -->, but …") was lost otherwise. huge_tree: libxml2 otherwise drops what lies
# deeper than 256 elements (old table layouts, unclosed <div>s); the page is at most ExtractOptions.max_bytes anyway
_PARSER_OPTIONS = {"remove_comments": True, "remove_pis": True, "collect_ids": False, "huge_tree": True}
_PARSER = lxml.html.HTMLParser(**_PARSER_OPTIONS)
# Every element an lxml.html HtmlElement, its class found in C: lxml.html's own lookup is a Python method, called
# each time Python code (trafilatura's, readability's, ours) first touches an element, to give form fields their
# own classes, which nothing here uses. The same articles, 2.9-4.2% less extraction CPU a bench page over four
# runs (22.2 against 23.2 ms in the first), 3.2-4.5% on dev and fundus-dev (`python -m bench.extraction lookup`)
_PARSER.set_element_class_lookup(lxml.etree.ElementDefaultClassLookup(
    element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment, pi=lxml.html.HtmlProcessingInstruction,
    entity=lxml.html.HtmlEntity,
))


# libxml2 (2.14) ends the document at the first </html> and puts what follows a </body> outside the body;
# browsers ignore both where they stray into the middle of a page (a template's footer, a pasted embed).
# Not where they are no tags: in a comment or in the text of an element whose content libxml2 and browsers read
# as text (a JSON-LD articleBody or a document.write() quoting HTML, a <title>), where the words were lost.
# <noscript> is not one of those: libxml2 reads its content as markup, where a </body> ends the body as anywhere.
_END_TAGS = re.compile(r"</(?:body|html)\s*>", re.IGNORECASE)
_TEXT_ELEMENTS = ("script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes")
_COMMENT_OR_TEXT = re.compile(rf"<!--|<({'|'.join(_TEXT_ELEMENTS)})(?=[\s/>])", re.IGNORECASE)
# where each ends; "" the comment's ("<!-->" and "<!--->" are whole ones)
_TEXT_END = {name: re.compile(rf"</{name}(?=[\s/>])", re.IGNORECASE) for name in _TEXT_ELEMENTS} | {
    "": re.compile(r"(?<=<!--)-?>|--!?>")
}


def _blank(text: str) -> bool:
    """Whether ``text`` holds only white space and comments (after </html>: a cache plugin's "served from cache")."""
    at = 0
    while (start := text.find("<!--", at)) >= 0:
        end = text.find("-->", start + 2)  # "<!-->" is a whole comment
        if text[at:start].strip() or end < 0:
            return False
        at = end + 3
    return not text[at:].strip()


def drop_stray_end_tags(text: str) -> str:
    """``text`` without the ``</body>`` and ``</html>`` tags that stand in its markup, outside comments and
    elements read as text.

    Most pages have theirs at the end only (a cache plugin's comment may follow), which needs no look at the
    rest: the comments and text elements are sought only up to the last one before the end. That look is
    needed on 0 of the 90 dev corpus pages and 6 of the 115 fundus-dev ones; the removal costs what the bare
    substitution before it did, within the machine's noise (side by side: 0.14 ms a page against 0.16 on the
    dev pages, 0.34 against 0.34 on fundus-dev's), where the look on every page would cost 0.49 ms (0.83).
    """
    found = list(_END_TAGS.finditer(text))
    limit, end = 0, len(text)
    for tag in reversed(found):  # the page's closing tags: nothing but white space and comments after them
        if not _blank(text[tag.end():end]):
            limit = tag.end()
            break
        end = tag.start()
    if not limit:
        return text[:end] + _END_TAGS.sub("", text[end:])
    kept, at, unclosed = [], 0, set()
    while at < limit and (item := _COMMENT_OR_TEXT.search(text, at, limit)) is not None:
        kept.append(_END_TAGS.sub("", text[at:item.start()]))
        name = (item[1] or "").lower()
        closing = None if name in unclosed else _TEXT_END[name].search(text, item.end())
        if closing is None:  # one never closed stays markup, as before (browsers read the rest as its text)
            unclosed.add(name)  # nor will a later one be: not searched again to the end of the page
        at = closing.end() if closing is not None else item.end()
        kept.append(text[item.start():at])
    kept.append(_END_TAGS.sub("", text[at:]))
    return "".join(kept)


def parse_html(text: str) -> lxml.html.HtmlElement:
    # lxml refuses str input with an XML encoding declaration; drop it, the text is decoded already
    text = drop_stray_end_tags(re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1))
    try:
        tree = lxml.html.document_fromstring(text, parser=_PARSER)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise ExtractError("unparseable", f"HTML does not parse: {exc}") from exc
    return tree
