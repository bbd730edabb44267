"""Is a page an article, or something else (a listing, a video, a gallery, a consent or error page)?

The decision weighs all the evidence, each piece a number of points for or
against (``WEIGHTS``), and keeps the page when in doubt: an article dropped
silently is the worst failure an archive has, a section front stored by
mistake costs one file. Consent and error pages are recognised apart, by
their own words, and never stored as articles whatever else they carry.
Measured on 205 article pages (both corpora) and on the labelled
non-article pages of tests/fixtures/nonarticles (docs/extraction.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from pipelines.extraction.textsize import text_size

if TYPE_CHECKING:  # metadata loads trafilatura and htmldate, which the crawl process never needs
    from pipelines.extraction.metadata import PageMeta

# schema.org types that say a page is something other than an article, and what it is then
NON_ARTICLE_TYPES = {
    "VideoObject": "video", "VideoGallery": "video", "ImageGallery": "gallery", "MediaGallery": "gallery",
    "CollectionPage": "listing", "SearchResultsPage": "listing", "ProfilePage": "listing",
}
WEIGHTS = {
    "ld_article": 3.0,  # a schema.org Article type: publishers fill it for search engines
    "og_article": 2.0,
    "og_website": -1.0,  # og:type website: what publishers give their home, section and tag pages
    "site_article_url": 3.0,  # the site file's article pattern matches: the operator's word, as strong as ld_article
    "site_other_url": -1.0,  # ... or does not
    "article_url": 1.0,  # a date, a long slug or a long number in the path
    "listing_url": -2.0,  # /tag/, /author/, /search, /page/2 ...
    "date": 1.0,
    "no_date": -1.0,  # no publication date in the page's metadata: most fronts and listings have none
    "author": 1.0,  # a byline that names someone other than the site itself
    "long_text": 2.0,  # body of LONG_TEXT words or more
    "some_text": 1.0,  # body of SOME_TEXT words or more
    "little_text": -3.0,  # body below the article minimum
    "ld_other": -3.0,  # a non-article schema.org type (-1 beside an article type: pages embed videos)
    "og_video": -3.0,
    "links": -1.0,  # per LINK_STEP of link density above LINK_DENSITY: section fronts are mostly links
    "headline_list": -1.0,  # the body is a list of short lines
    "account_url": -2.0,  # /login, /register, /signin ...: a login or registration wall
    "headline": 1.0,  # a first-level heading repeats the page's title: a story headed by its headline
    "dated_items": -2.0,  # DATED_ITEMS or more items with their own publication dates: a tag or archive page
}
LONG_TEXT, SOME_TEXT = 250, 100
# items dated on this many different days (<time pubdate>, itemprop datePublished): 5 to 14 on the fronts and
# tag pages of tests/fixtures/nonarticles that mark them, at most 3 on the 205 corpus articles (related stories)
DATED_ITEMS = 5
LINK_DENSITY, LINK_STEP = 0.5, 0.15
MAX_LINK_STEPS = 1 + int((1 - LINK_DENSITY) / LINK_STEP)  # the most links can weigh: at a density of 1
# the page's structure (its headline, dated items, link density: a few ms) is read only when it could turn the
# decision, that is when the rest of the evidence is less than the most the structure can take away
MAX_STRUCTURE = -(WEIGHTS["dated_items"] + WEIGHTS["links"] * MAX_LINK_STEPS)
_LISTING_URL = re.compile(
    r"/(?:tags?|topics?|themen?|thema|authors?|autor(?:en)?|auteurs?|category|categories|categorie|kategorie"
    r"|section|sections|sektion|rubri[ck]\w*|search|suche|recherche|buscar|busca|cerca|archives?|page/\d+|seite/\d+"
    r"|videos?|gallery|galleries|galerie|photos?|fotos?|bilder|live-?tv|mediathek)(?:\.(?:php|aspx?|s?html?|cfm))?(?:/|$)",
    re.IGNORECASE,
)
# the last part of the path names a login or registration form
_ACCOUNT_URL = re.compile(
    r"(?:^|/|_)(?:log-?in|logon|sign-?in|sign-?up|sign_in|sign_up|register|registration|registrierung|anmelden"
    r"|einloggen|connexion|inscription|accedi|registrazione|iniciar-sesion|registro|logowanie|rejestracja)"
    r"(?:\.(?:php|aspx?|s?html?|jsp|do))?/?$",
    re.IGNORECASE,
)
_ARTICLE_URL = re.compile(r"/(?:19|20)\d\d/\d\d?/|\d{6,}|[\w%]+(?:-[\w%]+){3,}")
_SEARCH_QUERY = re.compile(r"(?:^|&)(?:q|s|query|search|keywords?)=", re.IGNORECASE)


@dataclass
class Verdict:
    kind: str  # article, listing, video, gallery, consent, error; empty: too little text to be anything
    score: float
    evidence: dict[str, float] = field(default_factory=dict)

    @property
    def is_article(self) -> bool:
        return self.kind == "article"


class PageSignals:
    """What the page says of itself beyond its metadata, each read only when the decision needs it.

    Read from the tree after pruning (hidden layers gone): the structure (headline, dated items,
    link density: 5 ms a page) only when it could turn the decision, the consent and error checks
    only for a short body.
    """

    def __init__(self, tree: HtmlElement | None = None, meta: PageMeta | None = None, *,
                 link_density: float | None = None, consent: bool | None = None, error: bool | None = None,
                 headline: bool | None = None, dated_items: int | None = None):
        self.tree, self.meta = tree, meta
        self._link_density, self._consent, self._error = link_density, consent, error
        self._headline, self._dated_items = headline, dated_items

    @property
    def headline(self) -> bool:
        if self._headline is None:
            self._headline = self.tree is not None and has_headline(self.tree, self.meta.title if self.meta else "")
        return self._headline

    @property
    def dated_items(self) -> int:
        if self._dated_items is None:
            self._dated_items = dated_items(self.tree) if self.tree is not None else 0
        return self._dated_items

    @property
    def link_density(self) -> float:
        if self._link_density is None:
            self._link_density = link_density(self.tree) if self.tree is not None else 0.0
        return self._link_density

    @property
    def consent(self) -> bool:
        if self._consent is None:
            self._consent = self.tree is not None and self.meta is not None and is_consent_page(self.tree, self.meta)
        return self._consent

    @property
    def error(self) -> bool:
        if self._error is None:
            self._error = self.tree is not None and self.meta is not None and is_error_page(self.tree, self.meta)
        return self._error


def read_signals(tree: HtmlElement, meta: PageMeta) -> PageSignals:
    return PageSignals(tree, meta)


def classify(
    meta: PageMeta, url: str, signals: PageSignals, body: str, article_pattern: str = "", min_words: int = 30
) -> Verdict:
    """Weigh the evidence; ``article`` unless it is clearly something else."""
    from pipelines.extraction.metadata import ARTICLE_TYPES

    size = text_size(body)
    if size < LONG_TEXT and signals.consent:
        return Verdict("consent", -10.0, {"consent": -10.0})
    if size < LONG_TEXT and signals.error:
        return Verdict("error", -10.0, {"error": -10.0})
    evidence: dict[str, float] = {}
    has_article_type = bool(meta.ld_types & ARTICLE_TYPES)
    if has_article_type:
        evidence["ld_article"] = WEIGHTS["ld_article"]
    if meta.og_type == "article":
        evidence["og_article"] = WEIGHTS["og_article"]
    elif meta.og_type == "website":
        evidence["og_website"] = WEIGHTS["og_website"]
    other = [kind for ld_type, kind in NON_ARTICLE_TYPES.items() if ld_type in meta.ld_types]
    if other:
        evidence["ld_other"] = WEIGHTS["ld_other"] / (3 if has_article_type else 1)
    if meta.og_type.startswith("video"):
        evidence["og_video"] = WEIGHTS["og_video"]
    evidence.update(_url_evidence(url, article_pattern))
    evidence["date" if meta.date else "no_date"] = WEIGHTS["date" if meta.date else "no_date"]
    if meta.author and not _names_the_site(meta.author, meta.site_names or [meta.site_name]):
        evidence["author"] = WEIGHTS["author"]
    if size >= LONG_TEXT:
        evidence["long_text"] = WEIGHTS["long_text"]
    elif size >= SOME_TEXT:
        evidence["some_text"] = WEIGHTS["some_text"]
    elif size < min_words:
        evidence["little_text"] = WEIGHTS["little_text"]
    lines = [line for line in body.split("\n") if line.strip()]
    if len(lines) >= 10 and sum(text_size(line) for line in lines) / len(lines) < 9:
        evidence["headline_list"] = WEIGHTS["headline_list"]
    if sum(evidence.values()) < MAX_STRUCTURE:
        if signals.headline:
            evidence["headline"] = WEIGHTS["headline"]
        if signals.dated_items >= DATED_ITEMS:
            evidence["dated_items"] = WEIGHTS["dated_items"]
        if sum(evidence.values()) + WEIGHTS["links"] * MAX_LINK_STEPS < 0 and signals.link_density > LINK_DENSITY:
            steps = 1 + int((signals.link_density - LINK_DENSITY) / LINK_STEP)
            evidence["links"] = WEIGHTS["links"] * steps
    score = sum(evidence.values())
    if score >= 0:
        return Verdict("article", score, evidence)
    if other:
        kind = other[0]
    elif "og_video" in evidence:
        kind = "video"
    elif "account_url" in evidence:
        kind = "login"
    elif evidence.keys() & {"links", "listing_url", "headline_list", "site_other_url", "dated_items"}:
        kind = "listing"
    else:
        kind = "empty"  # nothing says what else it is: a page whose article did not come out
    return Verdict(kind, score, evidence)


def _names_the_site(author: str, site_names: list[str]) -> bool:
    """A byline that is the site's own name ("Faro de Vigo" on farodevigo.es): no person wrote the page."""
    key = re.sub(r"\W+", "", author.casefold())
    return len(key) >= 4 and any(key in re.sub(r"\W+", "", name.casefold()) for name in site_names if name)


def _url_evidence(url: str, article_pattern: str) -> dict[str, float]:
    try:
        parts = urlsplit(url)
    except ValueError:
        return {}
    evidence = {}
    if article_pattern:
        matched = re.search(article_pattern, url) is not None
        evidence["site_article_url" if matched else "site_other_url"] = WEIGHTS[
            "site_article_url" if matched else "site_other_url"
        ]
    if _ACCOUNT_URL.search(parts.path):
        evidence["account_url"] = WEIGHTS["account_url"]
    elif _LISTING_URL.search(parts.path) or _SEARCH_QUERY.search(parts.query) or parts.path in ("", "/"):
        evidence["listing_url"] = WEIGHTS["listing_url"]
    elif _ARTICLE_URL.search(parts.path):
        evidence["article_url"] = WEIGHTS["article_url"]
    return evidence


_VISIBLE = "not(ancestor::script or ancestor::style or ancestor::noscript or ancestor::template)"
_WORDS = re.compile(r"\w+")


def has_headline(tree: HtmlElement, title: str) -> bool:
    """A first-level heading of three words or more, no link, that repeats the page's title (or the title it)."""
    key = " ".join(_WORDS.findall(title.casefold()))
    if not key:
        return False
    for heading in tree.xpath("//body//h1[not(ancestor::a)][not(.//a)]"):
        text = " ".join(_WORDS.findall(heading.text_content().casefold()))
        if len(text.split()) >= 3 and (text in key or key in text):
            return True
    return False


_DATED = ("//time[@itemprop='datePublished' or @pubdate]/@datetime | //*[@itemprop='datePublished']/@content"
          " | //*[@itemprop='datePublished']/@datetime")


def dated_items(tree: HtmlElement) -> int:
    """On how many different days the page's items say they were published: one for an article, many for a list."""
    return len({value.strip()[:10] for value in tree.xpath(_DATED) if value.strip()})


def link_density(tree: HtmlElement) -> float:
    """Share of the visible body text that sits inside links: high on section fronts and tag pages."""
    total = sum(len(t.strip()) for t in tree.xpath(f"//body//text()[{_VISIBLE}]"))
    linked = sum(len(t.strip()) for t in tree.xpath(f"//body//a//text()[{_VISIBLE}]"))
    return linked / total if total else 0.0


# --- consent and error pages -----------------------------------------------------------------------

# a consent interstitial: the page stands in for the article until the reader agrees to cookies
_CONSENT_WORDS = re.compile(
    r"cookie|consent|zustimm|einwillig|datenschutz|akzeptier|accept|agree|privacy|gdpr|dsgvo|tracking"
    r"|consentement|accepter|aceptar|consentimiento|acconsent|accetta|toestemming|zgod|souhlas|samtycke|samtykke"
    r"|rıza|çerez|согла|cookies|クッキー|同意|쿠키|موافق",
    re.IGNORECASE,
)
_AGREE = re.compile(
    r"\b(?:ok|okay|agree|accept|allow|zustimmen|akzeptieren|alle akzeptieren|einverstanden|j'accepte|accepter"
    r"|aceptar|acepto|accetto|accetta|akkoord|zgadzam|souhlasím|godkänn|godta|acceptér|kabul|принять|согласен)\b",
    re.IGNORECASE,
)
_CONSENT_HOSTS = re.compile(r"^(?:consent|guce|privacy|cmp)\.", re.IGNORECASE)
# an error page served with 200: its title or heading says so
_ERROR_TITLE = re.compile(
    r"\b(?:404|410)\b|not found|page (?:cannot|can't|could not) be found|no longer available|server error"
    r"|nicht gefunden|existiert nicht|introuvable|n'existe pas|no encontrada|no existe|não encontrada"
    r"|non trovata|niet gevonden|nie znaleziono|nenalezen|hittades inte|ikke funnet|ikke fundet|bulunamadı"
    r"|не найдена|не знайдено|غير موجودة|找不到|ページが見つかりません|찾을 수 없습니다|tidak ditemukan",
    re.IGNORECASE,
)


def is_consent_page(tree: HtmlElement, meta: PageMeta) -> bool:
    """A page whose visible text is mostly a request to accept cookies or tracking."""
    try:
        host = urlsplit(meta.url).hostname or ""
    except ValueError:
        host = ""
    if _CONSENT_HOSTS.match(host):
        return True
    # the button first: 26 of the 27 short corpus pages have none, and need not have their whole text read (2 ms)
    if not any(
        _CONSENT_WORDS.search(" ".join(b.text_content().split()) + " " + (b.get("value") or ""))
        or _AGREE.search(b.text_content())
        for b in tree.xpath("//button | //input[@type='submit' or @type='button'] | //a[@role='button']")
    ):
        return False
    title = " ".join(tree.xpath("string(//title)").split())
    text = " ".join(" ".join(tree.xpath(f"//body//text()[{_VISIBLE}]")).split())
    if not text:
        return False
    hits = len(_CONSENT_WORDS.findall(text))
    return (bool(_CONSENT_WORDS.search(title)) and hits >= 2) or (hits >= 4 and text_size(text) < 400)


def is_error_page(tree: HtmlElement, meta: PageMeta) -> bool:
    """A page that says in its title or main heading that what was asked for is not there."""
    title = " ".join(tree.xpath("string(//title)").split())
    heading = " ".join(tree.xpath("string((//h1)[1])").split())
    return any(_ERROR_TITLE.search(value) for value in (title, heading) if value and len(value) < 120)
