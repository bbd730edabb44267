"""trafilatura's readability comparison is left out only where it cannot change the article.

The bench pages (tests/fixtures/corpus) and the fundus pages of tests/fixtures/kinds (several languages)
are extracted with trafilatura's own ``compare_extraction`` and with the shortcut in front of it: the
same article on every page, and the comparison left out on many of them (what saves the CPU). Then
the two things the shortcut rests on, on pages built to test them: the bound on readability's text,
and each condition under which trafilatura would use readability or jusText.
"""

from __future__ import annotations

from copy import copy

import lxml.etree
import lxml.html
import pytest
from trafilatura.external import try_readability
from trafilatura.settings import Extractor
from trafilatura.utils import trim

from bench.extraction import comparison_switch
from pipelines.evaluation.corpus import load_cases
from pipelines.extraction import comparison
from pipelines.extraction.page import ExtractError, extract_and_clean, parse_html
from pipelines.item import Page, SiteProfile
from tests.servers.base import ROOT
from tests.test_pipelines_extraction_kinds import FETCHED, KINDS

CORPUS = ROOT / "tests" / "fixtures" / "corpus"
PAGES = [*load_cases(CORPUS), *load_cases(KINDS)]


@pytest.fixture
def switch():
    """trafilatura's own comparison, counting in ``switch.count`` whether the shortcut would leave out each call;
    ``switch(True)`` puts the shortcut back (``switch(False)``: the comparison alone)."""
    switch = comparison_switch()
    yield switch
    switch(True)


def article(case) -> object:
    body = case.html.encode() if isinstance(case.html, str) else case.html
    page = Page(url=case.url, body=body, site=SiteProfile(key="corpus"), fetched=FETCHED)
    try:
        return extract_and_clean(page)
    except ExtractError as exc:
        return exc.reason


def test_the_same_article_on_every_page_with_the_comparison_left_out_where_it_cannot_change_it(switch):
    with_comparison = [article(case) for case in PAGES]
    calls, left_out = len(switch.count), sum(switch.count)
    switch(True)
    without = [article(case) for case in PAGES]
    assert sum(isinstance(a, str) for a in with_comparison) < len(PAGES) / 10  # pages, not a list of failures
    for case, before, after in zip(PAGES, with_comparison, without):
        assert after == before, case.url
    # the saving: 42 of the 95 extractions of the bench pages when this was written
    assert left_out >= calls / 3, (left_out, calls)


def readability_size(tree: lxml.html.HtmlElement) -> int:
    """The length trafilatura measures of readability's text of ``tree``."""
    return len(trim(lxml.html.tostring(try_readability(copy(tree)), method="text", encoding="unicode")))


BUILT = {
    "script and style between words": (
        "<html><body><div class='story'><p>First words of the story, long enough to be a paragraph, and more."
        "<script>var a = 1;   var b = 'x y z';</script> after a script<style>p { color: red }</style>"
        " and after a style.</p><p>A second paragraph that readability keeps with the first one, words.</p>"
        "</div></body></html>"
    ),
    "videos in iframes": (
        "<html><body><article><p>" + "A sentence of the story that goes on. " * 6 + "</p>"
        + "<iframe src='https://www.youtube.com/embed/abc'></iframe>" * 5
        + "<iframe src='https://player.vimeo.com/video/1'>  </iframe>"
        + "<p>" + "Another sentence after the videos. " * 6 + "</p></article></body></html>"
    ),
    "no candidate: the whole body": "<html><body>bare   text\n\n without  any element<br>around it</body></html>",
    "text in tails and divs": (
        "<html><body><div>loose text <b>bold</b> tail of bold <div>inner <i>i</i> tail</div> last tail</div>"
        "<div class='content'>" + "<p>Paragraph with enough words to score as a candidate, really.</p>" * 4
        + "</div></body></html>"
    ),
}


@pytest.mark.parametrize("name", BUILT)
def test_readability_text_is_never_longer_than_the_bound_on_built_pages(name):
    tree = parse_html(BUILT[name])
    assert readability_size(tree) <= comparison.readable_size(tree)


def test_readability_text_is_never_longer_than_the_bound_on_real_pages():
    for case in PAGES:
        html = case.html.decode("utf-8", "replace") if isinstance(case.html, bytes) else case.html
        tree = parse_html(html)
        assert readability_size(tree) <= comparison.readable_size(tree), case.url


def test_the_bound_leaves_out_scripts_and_styles():
    script = "<script>" + "window.data = {'a': 1, 'b': [1, 2, 3]};\n" * 500 + "</script>"
    plain = parse_html("<html><body><p>" + "word " * 100 + "</p></body></html>")
    scripted = parse_html("<html><head>" + script + "<style>p{}</style></head><body><p>" + "word " * 100
                          + "</p>" + script + "</body></html>")
    assert comparison.readable_size(plain) == len("word " * 100) - 1
    # 20,000 characters of script not counted; a space where each was may be (three of them)
    assert comparison.readable_size(plain) <= comparison.readable_size(scripted) <= comparison.readable_size(plain) + 3


WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu", "nu",
         "xi", "omicron", "pi", "rho", "sigma", "tau"]
STORY = "".join(
    "<p>" + " ".join(f"{WORDS[(i * 7 + k) % len(WORDS)]}{i}{k}" for k in range(30)) + ", and so on.</p>"
    for i in range(4)
)
RAW_TEXT = {  # what libxml2 reads as raw text: readability's round trip leaves "&amp;" and "&lt;" in it
    "xmp": "<xmp>" + "if (a && b) { x = y & z; } " * 34 + "</xmp>",
    "plaintext": "<plaintext>" + "a < b " * 120,
    "noembed": "<noembed>" + "Tom &amp; Jerry &amp; co " * 30 + "</noembed>",
    "noframes": "<noframes>" + "<b>R&amp;D</b> " * 80 + "</noframes>",
}


@pytest.mark.parametrize("tag", RAW_TEXT)
def test_a_page_with_raw_text_elements_is_always_compared(tag, switch):
    """A code sample in <xmp> after the story: trafilatura takes readability's text, which holds it."""
    html = (f"<html><head><title>Story</title></head><body><article class='content'><h1>Story</h1>{STORY}"
            f"{RAW_TEXT[tag]}</article></body></html>")
    case = type("Case", (), {"url": f"https://example.com/{tag}", "html": html})
    switch(False)
    expected = article(case)
    switch(True)
    assert article(case) == expected


PRECISION = Extractor(precision=True)


def decide(page_text: str, extracted: str, body_html: str | None = None, options: Extractor = PRECISION) -> bool:
    raw = parse_html(f"<html><body><div>{page_text}</div></body></html>")
    body = lxml.etree.fromstring(body_html or f"<body><p>{extracted}</p></body>")  # trafilatura's output: XML
    return comparison.cannot_change(raw, body, extracted, options)


def test_the_comparison_runs_wherever_readability_or_justext_could_be_taken():
    least = PRECISION.min_extracted_size
    text = "x" * 400
    assert decide("y" * 800, text)  # readability's text at most twice as long: the own text stays
    assert not decide("y" * 801, text)  # it could be more than twice as long
    assert not decide("y" * 300, "x" * (least - 1))  # short: jusText is asked
    for tag in ("nav", "aside", "figure", "footer", "noscript", "time"):  # unclean: jusText is asked
        assert not decide("y" * 500, text, f"<body><p>{text}</p><{tag}>z</{tag}></body>"), tag
    # no paragraph text, or more tables than paragraphs: readability is taken when it is long
    assert not decide("y" * 600, text, f"<body><list><item>{text}</item></list></body>")
    assert not decide("y" * 600, text, f"<body><p>{text}</p><table><row><cell>a</cell></row></table>"
                                       "<table><row><cell>b</cell></row></table></body>")
    assert decide("y" * (2 * least), text, f"<body><list><item>{text}</item></list></body>")  # unless it is short
    assert not decide("y" * 100, text, options=Extractor(recall=True))  # recall mode: trafilatura decides
