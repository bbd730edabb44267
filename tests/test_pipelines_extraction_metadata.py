"""trafilatura's metadata, read field by field, is what trafilatura's own extract_metadata returns."""

from __future__ import annotations

import html
import json
import unicodedata
from datetime import UTC, datetime

import pytest
from trafilatura.metadata import extract_metadata

from pipelines.evaluation.quality import load_corpus
from pipelines.extraction.metadata import TrafilaturaMetadata
from pipelines.extraction.options import ExtractOptions
from pipelines.extraction.page import decode_page, extract_page, parse_html
from pipelines.item import Page, SiteProfile
from tests.helpers import FIXTURES

FIELDS = ("title", "author", "description", "image", "date", "sitename", "categories", "tags")


def test_field_by_field_equals_extract_metadata_on_every_corpus_page():
    compared = 0
    for url, _, body in load_corpus(FIXTURES / "corpus"):
        page = Page(url=url, body=body, site=SiteProfile(key="corpus"), fetched=datetime.now(UTC))
        tree = parse_html(decode_page(page, ExtractOptions()))
        whole, lazy = extract_metadata(tree, default_url=url, extensive=True), TrafilaturaMetadata(tree, url)
        for name in FIELDS:
            assert getattr(lazy, name) == getattr(whole, name), f"{name} of {url}"
            compared += bool(getattr(whole, name))
    assert compared > 300  # most fields of most pages hold a value: the comparison is not of empties


def test_json_ld_that_does_not_parse_gives_trafilaturas_values_authors_included():
    # a trailing comma: trafilatura's JSON-LD reader falls back to its regular expressions, whose author
    # search the project runs only when the authors are asked for
    script = (
        '{"@context":"https://schema.org","@type":"NewsArticle","headline":"Budget vote delayed",'
        '"articleSection":"Politik","publisher":{"@type":"Organization","name":"Example News"},'
        '"author":{"@type":"Person","name":"Jane Roe"},}'
    )
    html = f'<html><head><script type="application/ld+json">{script}</script></head><body><p>Text</p></body></html>'
    url = "https://www.example.com/politik/budget-vote-delayed"
    whole = extract_metadata(parse_html(html), default_url=url, extensive=True)
    lazy = TrafilaturaMetadata(parse_html(html), url)
    for name in FIELDS:
        assert getattr(lazy, name) == getattr(whole, name), name
    assert (lazy.author, lazy.categories, lazy.title) == ("Jane Roe", ["Politik"], "Budget vote delayed")


# --- time zones, titles, bylines -----------------------------------------------------------------------------


def test_a_time_without_an_offset_is_read_in_the_sites_zone_never_as_utc():
    from pipelines.extraction.values import parse_date

    assert parse_date("2024-04-22T14:30:00", "Europe/Berlin") == datetime(2024, 4, 22, 12, 30, tzinfo=UTC)
    assert parse_date("2024-01-22T14:30:00", "Europe/Berlin") == datetime(2024, 1, 22, 13, 30, tzinfo=UTC)
    assert parse_date("2024-04-22T14:30:00+09:00", "Europe/Berlin") == datetime(2024, 4, 22, 5, 30, tzinfo=UTC)
    assert parse_date("2024-04-22", "Asia/Tokyo") == datetime(2024, 4, 22, tzinfo=UTC)  # the day stays


@pytest.mark.parametrize(("value", "expected"), [
    ("1710081000", datetime(2024, 3, 10, 14, 30, tzinfo=UTC)),  # JSON-LD's Unix time, seconds
    ("1710081000000", datetime(2024, 3, 10, 14, 30, tzinfo=UTC)),  # or milliseconds
    ("10.03.2024 14:30", datetime(2024, 3, 10, 14, 30, tzinfo=UTC)),  # dotted: the day first (not 3 October)
    ("2024-03-10T14:30:00 EST", datetime(2024, 3, 10, 19, 30, tzinfo=UTC)),  # a zone's abbreviation
    ("March 10, 2024 2:30 PM PDT", datetime(2024, 3, 10, 21, 30, tzinfo=UTC)),
    ("9999999999", None),  # a Unix time in the future: no date
    ("10 Mar 2024 2:30 PM", datetime(2024, 3, 10, 14, 30, tzinfo=UTC)),  # not RFC 2822: its parser drops the PM
])
def test_dates_as_pages_print_them(value, expected):
    from pipelines.extraction.values import parse_date

    assert parse_date(value) == expected


def test_a_zone_abbreviation_is_first_the_pages_own():
    # China's and Taiwan's zone call themselves CST, as US Central does: read as US time, 14 hours late
    from pipelines.extraction.values import parse_date

    assert parse_date("2024-03-10 23:30:00 CST", "Asia/Shanghai") == datetime(2024, 3, 10, 15, 30, tzinfo=UTC)
    assert parse_date("2024-01-10 23:30:00 CST", "America/Chicago") == datetime(2024, 1, 11, 5, 30, tzinfo=UTC)


def page_meta(head: str, url: str = "https://www.example.de/politik/2024/04/22/wahl.html", zone: str = ""):
    from pipelines.extraction.metadata import read_metadata

    return read_metadata(parse_html(f"<html><head>{head}</head><body><p>Text</p></body></html>"), url, zone)


def test_the_page_zone_comes_from_another_time_on_the_page_then_from_its_country():
    published = "<meta property='article:published_time' content='2024-04-22T14:30:00'>"
    modified = "<meta property='article:modified_time' content='2024-04-22T16:00:00+02:00'>"
    assert page_meta(published + modified, "https://example.com/a-b-c-d").date == datetime(
        2024, 4, 22, 12, 30, tzinfo=UTC
    )
    assert page_meta(published).date == datetime(2024, 4, 22, 12, 30, tzinfo=UTC)  # .de: Europe/Berlin
    assert page_meta(published, zone="America/New_York").date == datetime(2024, 4, 22, 18, 30, tzinfo=UTC)


def test_site_name_suffixes_come_off_titles():
    from pipelines.extraction.headline import strip_site_name

    assert (
        strip_site_name("Ukrainische Gegenoffensive: Ziele | DW | 28.04.2023", ["DW"])
        == "Ukrainische Gegenoffensive: Ziele"
    )
    assert (
        strip_site_name("LTE-Patent: Samsung verliert - Golem.de", ["golem.de", "golem"])
        == "LTE-Patent: Samsung verliert"
    )
    assert strip_site_name("Trump - the interview", ["CNN"]) == "Trump - the interview"


def test_a_section_suffix_comes_off_a_title_when_the_pages_other_titles_lack_it():
    from pipelines.extraction.headline import drop_confirmed_suffix

    headline = "Bubi-Bomber wieder da: Thioune fordert Geduld mit Niemiec"
    assert drop_confirmed_suffix(f"{headline} | Sport", [headline, "BILD"]) == headline  # og:title, <h1>
    assert drop_confirmed_suffix(f"{headline} – Sport – Hamburg", [headline]) == headline
    assert drop_confirmed_suffix(f"{headline} | Sport | Sport", [headline]) == headline  # a part said twice
    # kept: no other title reads the headline without it; a subtitle; a title that another one reads whole
    assert drop_confirmed_suffix(f"{headline} | Sport", ["Thioune fordert Geduld"]) == f"{headline} | Sport"
    assert drop_confirmed_suffix("Trump – the interview he gave on Sunday night", ["Trump"]) == (
        "Trump – the interview he gave on Sunday night")
    assert drop_confirmed_suffix("Trump - the interview", ["Trump - the interview", "Trump"]) == "Trump - the interview"
    assert drop_confirmed_suffix("Oppenheimer – review", ["Oppenheimer"]) == "Oppenheimer – review"  # a logo's <h1>
    # scripts without spaces: a subtitle after the dash is one "word" by \w+, a section is short
    head = "中美峰会：习近平会见拜登，讨论台湾问题"
    assert drop_confirmed_suffix(f"{head} - 双方同意恢复两军高层对话并建立危机沟通机制", [head]) == (
        f"{head} - 双方同意恢复两军高层对话并建立危机沟通机制")
    assert drop_confirmed_suffix(f"{head} | 国际", [head]) == head


def test_a_suffix_and_a_headline_are_measured_in_words_in_every_script():
    """Chinese and Japanese run words together (two characters to a word); Korean spaces them as Latin does."""
    from pipelines.extraction.headline import drop_confirmed_suffix

    korean = "윤석열 대통령, 국회 시정연설서 예산안 협조 요청"
    assert drop_confirmed_suffix(f"{korean} | 정치 일반", [korean]) == korean  # two words of section
    assert drop_confirmed_suffix("오펜하이머 - 리뷰", ["오펜하이머"]) == "오펜하이머 - 리뷰"  # a one-word <h1>
    assert drop_confirmed_suffix("奥本海默 - 影评", ["奥本海默"]) == "奥本海默 - 影评"  # one word, four characters
    japanese = "首相、衆院解散を表明"
    assert drop_confirmed_suffix(f"{japanese} | 社会・くらし", [japanese]) == japanese  # "・" is no character of a word
    assert drop_confirmed_suffix(f"{japanese} | 国際ニュース", [japanese]) == japanese
    # Thai's vowel and tone marks are no letters, and no word breaks either
    thai = "นายกฯ ประกาศยุบสภา เตรียมเลือกตั้งใหม่"
    assert drop_confirmed_suffix(f"{thai} | การเมือง", [thai]) == thai
    # full-width Latin is Latin
    assert drop_confirmed_suffix("苹果发布新款手机 | ＮＥＷＳ", ["苹果发布新款手机"]) == "苹果发布新款手机"


def _titled_page(url: str, title: str, og_title: str, ld_headline: str, h1: str) -> Page:
    """A German news page whose titles are given one by one (<title>, og:title, JSON-LD headline, <h1>'s HTML)."""
    html = (f"<html lang='de'><head><meta charset='utf-8'><title>{title}</title>"
            f"<meta property='og:title' content='{og_title}'>"
            "<script type='application/ld+json'>{\"@context\": \"https://schema.org\", \"@type\": \"NewsArticle\", "
            f"\"headline\": \"{ld_headline}\", \"datePublished\": \"2023-05-15T10:00:00+02:00\"}}</script>"
            f"</head><body><article><h1>{h1}</h1>"
            + "".join(f"<p>Der Trainer sprach am Montag lange über die jungen Spieler und ihre Rolle, Teil {n}.</p>"
                      for n in range(6))
            + "</article></body></html>")
    return Page(url=url, body=html.encode(), site=SiteProfile(key="de"), fetched=datetime.now(UTC))


def test_a_section_suffix_of_the_json_ld_headline_is_not_stored():
    # the JSON-LD headline glues on the section ("… | Sport"); og:title and <h1> read the headline alone
    headline = "Thioune fordert Geduld mit Niemiec nach dem Comeback"
    page = _titled_page("https://www.bild.example/sport/fussball/thioune-84012345.html",
                        f"{headline} | Sport | BILD.de", headline, f"{headline} | Sport", headline)
    assert extract_page(page).title == headline


def test_a_headline_the_h1_prints_whole_after_a_kicker_keeps_its_end():
    # og:title is the shorter social version; the <h1> prints the whole headline after its kicker (no space
    # between, as lxml joins the spans): "– Kinder lernen schneller" is the headline's, not a section's
    from pipelines.extraction.headline import drop_confirmed_suffix

    headline = "Künstliche Intelligenz in der Schule – Kinder lernen schneller"
    social = "Künstliche Intelligenz in der Schule"
    assert drop_confirmed_suffix(headline, [social, f"Technologie im Klassenzimmer{headline}"]) == headline
    assert drop_confirmed_suffix("Biden signs climate bill – with caveats",
                                 ["Biden signs climate bill", "Climate Biden signs climate bill – with caveats"]) == (
        "Biden signs climate bill – with caveats")
    page = _titled_page("https://rp-online.example/nrw/ki-in-der-schule_aid-110012345", f"{headline} | RP ONLINE",
                        social, headline, f"<span class='kicker'>Technologie im Klassenzimmer</span>"
                                          f"<span class='title'>{headline}</span>")
    assert extract_page(page).title == headline


@pytest.mark.parametrize(("lang", "title", "site", "headline"), [
    # Chinese and Japanese set the site's name after a full-width bar, unspaced, or (mainland portals) an underscore
    ("zh-TW", "北市擴大通勤補助｜聯合新聞網", "聯合新聞網", "北市擴大通勤補助"),
    ("zh-CN", "北京出台新规_新浪新闻", "新浪新闻", "北京出台新规"),
    ("ja", "東京都が新制度を発表｜NHKニュース", "NHK", "東京都が新制度を発表"),
    ("zh-TW", "北市擴大通勤補助 - 自由時報電子報", "自由時報電子報", "北市擴大通勤補助"),
])
def test_the_site_name_comes_off_a_title_in_chinese_or_japanese(lang, title, site, headline):
    html = (f"<html lang='{lang}'><head><meta charset='utf-8'><title>{title}</title>"
            f"<meta property='og:site_name' content='{site}'></head><body><article>"
            + "".join(f"<p>市政府今天宣布，明年起將擴大公共運輸補助，市民每月通勤費用最多可減少一千元，"
                      f"第{n}階段的細節將於下月公布。</p>" for n in "一二三四")
            + "</article></body></html>")
    page = Page(url="https://news.example.tw/2026/11/21/story.html", body=html.encode(), site=SiteProfile(key="tw"),
                fetched=datetime.now(UTC))
    assert extract_page(page).title == headline


@pytest.mark.parametrize(("byline", "author"), [
    # the metadata names only the publisher's domain; the page prints the writer in an element classed "author"
    ("<p class='author'>von <a href='mailto:anna.beispiel@mdr.example'>Anna Beispiel, MDR THÜRINGEN</a></p>",
     "Anna Beispiel"),
    ("<div class='article-byline'><span>Von</span><strong>Anna Beispiel</strong></div>", "Anna Beispiel"),
    # a byline in fields: the date after the bar is no name
    ("<div class='byline'>Von Anna Beispiel | Aktualisiert vor 3 Stunden</div>", "Anna Beispiel"),
    # a share bar classed like a byline reads as a name ("Twitter Facebook"), but opens with no byline word
    ("<div class='author-share'>Twitter Facebook</div>", "mdr.example"),
])
def test_a_printed_byline_names_the_author_when_the_metadata_names_only_the_publisher(byline, author):
    # a teaser card of another story, before the story, prints its own byline
    card = "<article class='teaser'><h2>Mehr Geld für Kitas</h2><p class='author'>Von Jonas Andere</p></article>"
    html = ("<html lang='de'><head><meta charset='utf-8'><title>Feuerwehr: Rente mit 60 bleibt</title>"
            f"<meta name='author' content='mdr.example'></head><body>{card}"
            "<article><h1>Feuerwehr: Rente mit 60 bleibt</h1>"
            + byline + "".join(f"<p>Die Feuerwehrleute protestierten am Montag lange gegen die Pläne, Teil {n}.</p>"
                               for n in range(6)) + "</article></body></html>")
    page = Page(url="https://www.mdr.example/nachrichten/feuerwehr-100.html", body=html.encode(),
                site=SiteProfile(key="mdr"), fetched=datetime.now(UTC))
    assert extract_page(page).author == author


@pytest.mark.parametrize(("author_page", "link", "author"), [
    # WordPress publishes under the site's account (the JSON-LD author's page): the writer is the name printed above
    # the story, whether or not the page links the account too
    ("/author/admin/", False, "JANE DOE"), ("/author/admin/", True, "JANE DOE"),
    # a writer's own author page: the metadata's author stays, and so does the line
    ("/author/tom-writer/", True, "Tom Writer"),
])
def test_an_author_that_is_the_sites_account_gives_way_to_the_printed_byline(author_page, link, author):
    name = "Tom Writer" if "tom" in author_page else "Newsdesk D"
    person = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Council backs plan",
                         "author": {"@id": f"https://news.example.org{author_page}", "name": name}})
    html = ("<html lang='en'><head><meta charset='utf-8'><title>Council backs plan</title>"
            f"<script type='application/ld+json'>{person}</script></head><body><div class='title'>"
            "<h1>Council backs plan</h1>" + (f"<p class='meta'>by <a rel='author' href='{author_page}'>{name}</a></p>"
                                              if link else "")
            + "</div><article><p><strong>JANE DOE</strong></p>"
            + "".join(f"<p>The council voted on Monday after a long debate about the plans, part {n}.</p>"
                      for n in range(6)) + "</article></body></html>")
    url = "https://news.example.org/2024/11/05/council-backs-housing-plan/"
    result = extract_page(Page(url=url, body=html.encode(), site=SiteProfile(key="news"), fetched=datetime.now(UTC)))
    assert result.author == author
    assert any(p == "JANE DOE" for p in result.paragraphs) == (author != "JANE DOE")


_STORY = ("<h1>Council backs new housing plan</h1>"
          + "".join(f"<p>The council voted on Monday after a long debate about the plans, part {n}.</p>"
                    for n in range(6)))


def _author_of(head: str, body: str, lang: str = "en") -> str:
    """The author extracted from a page of the housing story with ``head`` in its <head> and ``body`` as its body."""
    html = (f"<html lang='{lang}'><head><meta charset='utf-8'><title>Council backs new housing plan</title>{head}"
            f"</head><body>{body}</body></html>")
    page = Page(url="https://www.news.example/local/housing-100.html", body=html.encode(),
                site=SiteProfile(key="news"), fetched=datetime.now(UTC))
    return extract_page(page).author


@pytest.mark.parametrize("body", [
    # a photo credit classed as the picture's author
    f"<article><figure><img src='hall.jpg'><figcaption>The hall. <span class='image-author'>By John Smith/Getty"
    f" Images</span></figcaption></figure>{_STORY}</article>",
    # a reader's comment signed in an element classed "comment-author", under the story or in it
    f"<article>{_STORY}</article><section id='comments'><div class='comment'><p class='comment-author'>By Jane Doe"
    "</p><p>Great piece!</p></div></section>",
    f"<article>{_STORY}<ol class='comments'><li><span class='comment-author'>by Jane Doe</span><p>Great</p></li>"
    "</ol></article>",
    # teasers of other stories: in a trending bar above the headline, or in an <article> of their own beside the
    # story's <article>, which prints no byline element (its byline is the agency's, in a plain paragraph)
    f"<div class='trending'><ul><li><a href='/x'>Bridge closed</a><span class='byline'>By Tom Other</span></li>"
    f"</ul></div><article>{_STORY}</article>",
    f"<aside><article class='teaser'><h2>Bridge closed</h2><p class='author'>By Tom Other</p></article></aside>"
    f"<main>{_STORY}</main>",
    f"<article>{_STORY}<p>By Reuters</p></article><section><article class='teaser'><h2>Bridge closed</h2>"
    "<p class='author'>By Tom Other</p></article></section>",
    # words after a byline's word that are prose, not a name
    f"<article>{_STORY}<div class='byline-box'>By the numbers</div></article>",
])
def test_a_printed_byline_of_no_writer_of_the_story_leaves_the_publisher(body):
    assert _author_of("<meta name='author' content='news.example'>", body) == "news.example"


@pytest.mark.parametrize(("before", "after"), [
    ("//<![CDATA[", "//]]>"), ("<!--", "-->"), ("/*<![CDATA[*/", "/*]]>*/"),
    # ended as JavaScript ends a statement, wrapped or not
    ("", ";"), ("//<![CDATA[", ";\n//]]>"),
    # two objects one after the other in one script (a breadcrumb, then the article)
    ('{"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": []}', ""),
    ("\ufeff", ""),  # a byte-order mark before the object
    ("&", ""),  # the whole script HTML-escaped by a CMS: {&quot;@context&quot;: …}
])
def test_json_ld_wrapped_as_old_xhtml_pages_wrap_scripts_is_read(before, after):
    # the JSON-LD was dropped as broken: the date fell back to a <time> that gives only the day, the paywall unseen
    ld = ('{"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Rente mit 60 bleibt",'
          ' "datePublished": "2024-08-22T12:00:00+02:00", "author": {"@type": "Person", "name": "Anna Beispiel"},'
          ' "isAccessibleForFree": "False"}')
    script = html.escape(ld) if before == "&" else f"{before}\n{ld}\n{after}"
    page_html = ("<html lang='de'><head><meta charset='utf-8'><title>Rente mit 60 bleibt</title>"
                 f"<script type='application/ld+json'>{script}</script></head><body><article>"
                 "<h1>Rente mit 60 bleibt</h1><time datetime='2024-08-22'>22.08.2024</time>"
                 + "".join(f"<p>Die Feuerwehrleute protestierten am Montag lange gegen die Pläne, Teil {n}.</p>"
                           for n in range(6)) + "</article></body></html>")
    page = Page(url="https://news.example.de/5481-rente", body=page_html.encode(), site=SiteProfile(key="de"),
                fetched=datetime.now(UTC))
    article = extract_page(page)
    assert (article.date.isoformat(), article.author, article.access) == (
        "2024-08-22T10:00:00+00:00", "Anna Beispiel", "paywalled")


def test_a_day_alone_gets_its_time_from_the_storys_published_time_element():
    # no JSON-LD or meta date: the day-precision search found the day; a WordPress theme prints the time (hAtom)
    # in the story's <time class="published">, and related posts print theirs after it
    related = "".join(f"<article class='related'><h2>Mehr {n}</h2><time class='entry-date published' "
                      f"datetime='2026-01-27T07:{n}4:00+01:00'>27. Januar 2026</time></article>" for n in range(2))
    html = ("<html lang='de'><head><meta charset='utf-8'><title>Landtag beschließt Budget</title></head><body>"
            + related + "<article><h1>Landtag beschließt Budget</h1><time class='entry-date published' "
            "datetime='2026-01-27T12:13:17+01:00'>27. Januar 2026</time>"
            + "".join(f"<p>Der Landtag hat am Dienstag lange über das Budget des Landes beraten, Teil {n}.</p>"
                      for n in range(6)) + "</article></body></html>")
    page = Page(url="https://www.landesspiegel.example/2026/01/landtag-budget/", body=html.encode(),
                site=SiteProfile(key="li"), fetched=datetime.now(UTC))
    assert extract_page(page).date.isoformat() == "2026-01-27T11:13:17+00:00"


@pytest.mark.parametrize("before, story_time, after", [
    # the site's logo is the page's first <h1>, above the related posts: the story's <article> has the headline
    ("<header><h1>Landesspiegel</h1></header>", True, ""),
    # the story prints no time of its own; a reader's comment of the same day does
    ("", False, "<div id='comments'><div class='comment'><time class='entry-date published' "
                "datetime='2026-01-27T21:05:00+01:00'>27. Januar 2026</time><p>Gut so.</p></div></div>"),
])
def test_a_day_alone_takes_no_time_of_another_story_or_a_comment(before, story_time, after):
    related = ("<article class='related'><h2>Mehr</h2><time class='entry-date published' "
               "datetime='2026-01-27T07:04:00+01:00'>27. Januar 2026</time></article>")
    own = ("<time class='entry-date published' datetime='2026-01-27T12:13:17+01:00'>27. Januar 2026</time>"
           if story_time else "")
    html = ("<html lang='de'><head><meta charset='utf-8'><title>Landtag beschließt Budget</title></head><body>"
            + before + related + "<article><h1>Landtag beschließt Budget</h1>" + own
            + "".join(f"<p>Der Landtag hat am Dienstag lange über das Budget des Landes beraten, Teil {n}.</p>"
                      for n in range(6)) + after + "</article></body></html>")
    page = Page(url="https://www.landesspiegel.example/2026/01/landtag-budget/", body=html.encode(),
                site=SiteProfile(key="li"), fetched=datetime.now(UTC))
    # the story's own time, else the day alone (midnight UTC): never 07:04 or 21:05
    assert extract_page(page).date.isoformat() == ("2026-01-27T11:13:17+00:00" if story_time
                                                   else "2026-01-27T00:00:00+00:00")


_OWN_TIME = "<time datetime='2024-03-10T14:30:00+01:00'>10. März 2024, 14:30</time>"
_OTHER_TIME = "<time datetime='2024-03-10T07:04:00+01:00'>10.03.2024</time>"
_BUDGET = "".join(f"<p>Der Landtag hat am Sonntag lange über das Budget des Landes beraten, Teil {n} der Debatte.</p>"
                  for n in range(6))


@pytest.mark.parametrize(("body", "date"), [
    # the story's own <time> in its header, in its <article> or in the box around the headline; the sidebar's
    # latest news print times of the same day, before the story or after it
    (f"<aside><h2>Neu</h2>{_OTHER_TIME}</aside><article><header><h1>Landtag beschließt Budget</h1>{_OWN_TIME}"
     f"</header>{_BUDGET}</article>", "2024-03-10T13:30:00+00:00"),
    (f"<div class='head'><h1>Landtag beschließt Budget</h1><p class='meta'>Von Anna Beispiel, {_OWN_TIME}</p></div>"
     f"{_BUDGET}<article class='teaser'><h2>Neu</h2>{_OTHER_TIME}</article>", "2024-03-10T13:30:00+00:00"),
    # an update printed first is not the publication
    (f"<article><h1>Landtag beschließt Budget</h1><p class='updated'>Aktualisiert: <time "
     f"datetime='2024-03-10T18:00:00+01:00'>18:00</time></p>{_OWN_TIME}{_BUDGET}</article>",
     "2024-03-10T13:30:00+00:00"),
    # no time of the story's own: another story's, a teaser's or a related one's after the body, stays the day
    (f"<article class='teaser'><h2>Neu</h2>{_OTHER_TIME}</article><div><h1>Landtag beschließt Budget</h1>"
     f"{_BUDGET}</div>", "2024-03-10T00:00:00+00:00"),
    (f"<div class='main'><h1>Landtag beschließt Budget</h1>{_BUDGET}<div class='more'><h3>Neu</h3>{_OTHER_TIME}"
     "</div></div>", "2024-03-10T00:00:00+00:00"),
    (f"<article><h1>Landtag beschließt Budget</h1>{_BUDGET}<article><h2>Neu</h2>{_OTHER_TIME}</article></article>",
     "2024-03-10T00:00:00+00:00"),
])
def test_a_day_alone_gets_its_time_from_the_storys_own_time_element(body, date):
    # no JSON-LD, no meta date: the day-precision search gives the day, the story's header prints the time
    html = ("<html lang='de'><head><meta charset='utf-8'><title>Landtag beschließt Budget</title></head><body>"
            f"{body}</body></html>")
    page = Page(url="https://www.landesspiegel.example/2024/03/10/landtag-budget/", body=html.encode(),
                site=SiteProfile(key="li"), fetched=datetime.now(UTC))
    assert extract_page(page).date.isoformat() == date


@pytest.mark.parametrize("printed", [
    "2024-03-10 14:30 UTC+1", "2024-03-10 14:30 GMT+01:00", "10.03.2024 14:30 (UTC+1)", "March 10, 2024 2:30 PM GMT+1",
    "Sun, 10 Mar 2024 14:30:00 +01:00", "2024-03-10 19:00 UTC+05:30", "2024-03-10 10:30 GMT-3",
    "March 10, 2024 8:30 AM -0500",
    # glued to the time, or after a zone's name we do not know or that names several
    "2024-03-10 14:30GMT+1", "2024-03-10T14:30UTC+01:00", "March 10, 2024 19:00 IST (GMT+5:30)",
    "2024-03-10 20:30 WIB (UTC+7)", "2024-03-10 20:30 WIB +07:00",
])
def test_an_offset_written_after_utc_or_gmt_or_with_a_colon_is_read(printed):
    # "UTC+1" is an hour ahead of UTC as pages mean it (dateutil reads it as POSIX's, an hour behind), and
    # a numeric offset read by dateutil was dropped: the time was read in the site's zone
    html = ("<html lang='en'><head><meta charset='utf-8'><title>Council backs new housing plan</title>"
            f"<meta property='article:published_time' content='{printed}'></head><body>{_STORY}</body></html>")
    page = Page(url="https://www.news.example/local/housing-100.html", body=html.encode(),
                site=SiteProfile(key="news", timezone="America/New_York"), fetched=datetime.now(UTC))
    assert extract_page(page).date.isoformat() == "2024-03-10T13:30:00+00:00"


@pytest.mark.parametrize(("lang", "byline", "authors"), [
    # the role after the name, with the place it is at: the place is no author, in any of the corpora's languages
    ("es", "Por Juan Pérez, corresponsal en Madrid", "Juan Pérez"),
    ("es", "Por Juan Pérez, enviado especial a Kiev, y Ana López", "Juan Pérez, Ana López"),
    ("es", "Por Juan Pérez y agencias", "Juan Pérez"),
    ("fr", "Par Jean Dupont, correspondant à Paris", "Jean Dupont"),
    ("fr", "Par Jeanne Dupont, envoyée spéciale à Kiev", "Jeanne Dupont"),
    ("de", "Von Max Muster, Korrespondent in Berlin", "Max Muster"),
    ("de", "Von Anna Beispiel, Sonderberichterstatterin in Kiew", "Anna Beispiel"),
    ("it", "Di Mario Rossi, inviato a Roma", "Mario Rossi"),
    ("pt", "Por João Silva, correspondente em Lisboa", "João Silva"),
    ("en", "By Jane Doe, correspondent in Kyiv", "Jane Doe"),
    ("en", "By Jane Doe, Washington correspondent, and John Smith, Staff Photographer", "Jane Doe, John Smith"),
    ("no", "Av Kari Nordmann, korrespondent i Berlin", "Kari Nordmann"),
    ("da", "Af Trine Jensen, udsendt medarbejder", "Trine Jensen"),
    ("sv", "Av Erik Svensson, utrikesreporter", "Erik Svensson"),
    ("tr", "Yazan Ali Veli, Ankara muhabiri", "Ali Veli"),
    ("ru", "Автор Андрей Колесников, специальный корреспондент", "Андрей Колесников"),
    # a name with a role word in it is a name
    ("en", "By Jane Doe and Tom Writer", "Jane Doe, Tom Writer"),
    # the place ends where a second writer is named; a place may hold a conjunction
    ("en", "By Jane Doe, correspondent in Paris and John Smith", "Jane Doe, John Smith"),
    ("es", "Por Juan Pérez, corresponsal en Madrid y Ana López", "Juan Pérez, Ana López"),
    ("it", "Di Mario Rossi, inviato a Kiev e Luca Bianchi", "Mario Rossi, Luca Bianchi"),
    ("no", "Av Kari Nordmann, korrespondent i Berlin og Ola Nordmann", "Kari Nordmann, Ola Nordmann"),
    ("en", "By Jane Doe, correspondent in Bosnia and Herzegovina", "Jane Doe"),
    # "Editor" is a surname too: capitalised after a name, a co-author; a desk's editor is written lowercase or
    # with a desk's word ("Europe editor", "Science Editor")
    ("en", "By Jane Doe, Tom Editor", "Jane Doe, Tom Editor"),
    ("en", "By Jane Doe, Europe editor, Tom Editor and Ann Writer", "Jane Doe, Tom Editor, Ann Writer"),
    ("en", "By Jane Doe, Science Editor", "Jane Doe"),
    # the chief editor's role is one role, after the name or before it
    ("en", "By Jane Doe, Editor-in-Chief", "Jane Doe"),
    ("en", "By Jon Sopel, North America Editor", "Jon Sopel"), ("en", "By Jane Doe, BBC Europe Editor", "Jane Doe"),
    ("en", "By Jane Doe, editor-at-large", "Jane Doe"),
    ("es", "Por Juan Pérez, redactor jefe", "Juan Pérez"),
    # "from our correspondent" is a role: the name after it stays
    ("de", "Von unserem Korrespondenten Max Muster", "Max Muster"),
    # "by", "written by", "by the pen of" in more of the languages of the news
    ("id", "Oleh: Budi Santoso", "Budi Santoso"), ("id", "Ditulis oleh Budi Santoso", "Budi Santoso"),
    ("ar", "بقلم: محمد أحمد", "محمد أحمد"), ("ar", "كتب: محمد أحمد", "محمد أحمد"), ("he", "מאת דני כהן", "דני כהן"),
    ("fi", "Teksti: Matti Meikäläinen", "Matti Meikäläinen"), ("hu", "Írta: Kovács János", "Kovács János"),
    ("vi", "Tác giả: Nguyễn Văn An", "Nguyễn Văn An"), ("pl", "Autorka: Anna Nowak", "Anna Nowak"),
    ("pl", "Napisała Anna Nowak", "Anna Nowak"), ("no", "Skrevet av Ola Nordmann", "Ola Nordmann"),
    ("es", "Escrito por María López", "María López"), ("tr", "Yazar: Ahmet Yılmaz", "Ahmet Yılmaz"),
    ("pt", "Texto: João Silva", "João Silva"), ("no", "Tekst og foto: Ola Nordmann", "Ola Nordmann"),
    ("ru", "Текст: Иван Петров", "Иван Петров"), ("it", "A cura di Mario Rossi", "Mario Rossi"),
    ("fr", "Propos recueillis par Marie Dupont", "Marie Dupont"), ("de", "Ein Kommentar von Max Muster", "Max Muster"),
    ("ja", "取材・文／山田太郎", "山田太郎"), ("ja", "文・山田太郎", "山田太郎"),
    ("de", "Text und Bild: Anna Meier", "Anna Meier"), ("sv", "Text och bild: Anna Meier", "Anna Meier"),
    # the photographer's part of a byline comes off
    ("zh-TW", "文／王小明、圖／李大華", "王小明"),
    # "and" in those languages; in lower case only: "Dan" is a given name
    ("id", "Oleh: Budi Santoso dan Siti Aminah", "Budi Santoso, Siti Aminah"),
    ("fi", "Teksti: Matti Meikäläinen ja Liisa Virtanen", "Matti Meikäläinen, Liisa Virtanen"),
    ("hu", "Írta: Kovács János és Nagy Anna", "Kovács János, Nagy Anna"),
    ("vi", "Tác giả: Nguyễn Văn An và Trần Thị Bình", "Nguyễn Văn An, Trần Thị Bình"),
    ("pl", "Tekst: Anna Nowak oraz Jan Kowalski", "Anna Nowak, Jan Kowalski"),
    ("vi", "By Nguyen Dan Que", "Nguyen Dan Que"),
    # "text by" with its preposition; letters typed as a letter and an accent are the same letters (and come out
    # composed)
    ("es", "Texto de María López", "María López"), ("fr", "Texte de Marie Dupont", "Marie Dupont"),
    ("fi", "Teksti ja kuvat: Matti Meikäläinen", "Matti Meikäläinen"),
    ("pl", "Tekst i zdjęcia: Anna Nowak", "Anna Nowak"),
    ("pt", "Texto De Souza", "De Souza"),  # a capitalised "De" is the name's
    ("fr", unicodedata.normalize("NFD", "Écrit par Hélène Dupont"), "Hélène Dupont"),
    # an e-mail address beside the name is no name
    ("en", "By Jane Doe (jdoe@post.example)", "Jane Doe"), ("ko", "홍길동 기자 hong@news.example", "홍길동"),
    # and so do its label and the separator before it
    ("en", "By Jane Doe | Email: jdoe@post.example", "Jane Doe"),
    ("de", "Von Anna Meier | Kontakt: anna.meier@zeitung.example", "Anna Meier"),
])
def test_a_writers_role_and_place_are_no_author_in_any_language(lang, byline, authors):
    body = f"<article><h1>Council backs new housing plan</h1><div class='byline'>{byline}</div>{_STORY}</article>"
    assert _author_of("<meta name='author' content='news.example'>", body, lang) == authors


@pytest.mark.parametrize(("lang", "outlet", "byline", "authors"), [
    # the newspaper named as author in its own script (the site's name is in English): the byline names the writer
    ("zh-TW", "台北時報", "記者王小明／台北報導", "王小明"), ("ja", "日本経済新聞社", "山田太郎記者", "山田太郎"),
    ("ko", "연합뉴스", "홍길동 기자", "홍길동"), ("ja", "共同通信", "山田太郎記者", "山田太郎"),
    ("zh-TW", "聯合報", "記者王小明／台北報導", "王小明"),
    # a reporter whose given name is an outlet's word is a person ("일보" after one letter is a given name)
    ("ko", "연합뉴스", "김일보 기자", "김일보"),
    # no one named: the publisher stands, as the page names it
    ("zh-TW", "台北時報", "", "台北時報"),
])
def test_a_newspaper_named_as_author_in_its_own_script_gives_way_to_the_byline(lang, outlet, byline, authors):
    head = f"<meta property='og:site_name' content='News Example'><meta name='author' content='{outlet}'>"
    body = f"<article><h1>Council backs new housing plan</h1><div class='byline'>{byline}</div>{_STORY}</article>"
    assert _author_of(head, body, lang) == authors


@pytest.mark.parametrize(("lang", "author", "authors"), [
    # Korean and Japanese print the role after the name, spaced or not
    ("ko", "배윤경 기자, 이상현 기자", "배윤경, 이상현"), ("ja", "松岡大地記者", "松岡大地"),
    ("ja", "青山直篤 ワシントン特派員", "青山直篤"),
    # a given name in katakana before 記者 is the name's, not a place: places come before 特派員
    ("ja", "田中 マリア記者", "田中 マリア"), ("ja", "田中 マリア 記者", "田中 マリア"),
    # the given name glued to the role stays: Japanese spaces the family name from the given name
    ("ja", "山田 太郎記者", "山田 太郎"), ("ja", "山田 太郎 記者", "山田 太郎"), ("ja", "記者 山田太郎", "山田太郎"),
    ("ja", "山田 太郎 社会部記者", "山田 太郎"), ("ja", "青山直篤 北京特派員", "青山直篤"),
    ("ko", "홍길동 기자", "홍길동"), ("zh", "本报记者 张三", "张三"),
    # Chinese spaces one reporter from the next (Japanese spaces the given name), Korean lists with a middle dot
    ("zh", "本报记者 张三 李四", "张三, 李四"), ("zh", "记者 张三 李四 王五", "张三, 李四, 王五"),
    ("ja", "記者 山田 太郎", "山田 太郎"), ("ko", "김철수·이영희 기자", "김철수, 이영희"),
    ("zh", "记者 唐纳德·特朗普", "唐纳德·特朗普"),
    # Taiwan and Hong Kong: where it was reported from after a slash, who wrote it before one, the byline bracketed
    ("zh-TW", "記者王小明／台北報導", "王小明"), ("zh-TW", "〔記者王小明、李大華／台北即時報導〕", "王小明, 李大華"),
    ("zh-TW", "聯合報記者王小明/綜合報導", "王小明"), ("zh-TW", "文／王小明", "王小明"),
    ("zh-TW", "撰文：王小明", "王小明"), ("zh-TW", "圖、文／王小明", "王小明"),
    # a place and a day glued to the name cannot be told from it: no author rather than "王小明台北5日電"
    ("zh-TW", "（中央社記者王小明台北5日電）", ""),
    # Korean: the word before 기자 is the name (a dateline or outlet before it is not); before 특파원, a place
    ("ko", "(서울=연합뉴스) 홍길동 기자", "홍길동"), ("ko", "매일경제 배윤경 기자", "배윤경"),
    ("ko", "(도쿄=연합뉴스) 김철수 특파원", "김철수"), ("ko", "김철수 워싱턴 특파원", "김철수"),
    # the chief editor's role before the name is one role
    ("en", "Editor-in-Chief John Smith", "John Smith"), ("fr", "Rédactrice en chef Marie Dupont", "Marie Dupont"),
    ("it", "Caporedattore Luca Bianchi", "Luca Bianchi"),
    # "from our correspondent" is the role: the name after it stays, and a role alone is no author (none is better)
    ("fr", "De notre correspondant à Rome, Marie Dupont", "Marie Dupont"),
    ("it", "Dal nostro corrispondente Luca Bianchi", "Luca Bianchi"),
    ("fr", "De notre correspondant à Rome", ""), ("fr", "Avec notre envoyé spécial à Kyiv", ""),
    ("it", "Dal nostro inviato", ""), ("es", "De nuestra enviada especial en Kiev", ""),
    ("de", "Von unserem Korrespondenten", ""), ("en", "From our correspondent in Delhi", ""),
    ("nl", "Van onze correspondent", ""), ("nl", "Van onze correspondent Jan de Vries", "Jan de Vries"),
    # in the case the preposition asks for ("от" + genitive), with its adjectives
    ("ru", "От нашего корреспондента", ""), ("ru", "От собственного корреспондента", ""),
    ("ru", "От нашего специального корреспондента Ивана Петрова", "Ивана Петрова"),
    # the place or desk between "our" and the role
    ("en", "By our Rome correspondent", ""), ("en", "From our Middle East correspondent", ""),
    ("en", "Jane Doe, our Rome correspondent", "Jane Doe"),
    # a one-word desk before a capitalised Editor, as "Business Editor" ("Tom Editor" is a name); Dutch roles
    ("en", "Jane Doe, Tech Editor", "Jane Doe"), ("en", "Jane Doe, Weekend Editor", "Jane Doe"),
    ("nl", "Jan de Vries, hoofdredacteur", "Jan de Vries"), ("nl", "Redacteur en Chef Jan de Vries", "Jan de Vries"),
    ("nl", "Jan de Vries, verslaggever", "Jan de Vries"),
    # Dutch names the desk or post after the role: "redacteur buitenland" is no second author ("Redacteur Jan" is)
    ("nl", "Jan de Vries, redacteur buitenland", "Jan de Vries"), ("nl", "Redacteur buitenland", ""),
    ("nl", "Jan de Vries, correspondent Midden-Oosten en Piet Jansen", "Jan de Vries, Piet Jansen"),
    ("nl", "Jan de Vries, verslaggever economie", "Jan de Vries"),
    ("en", "Editor-in-Chief", ""),
    ("es", "Juan Pérez, corresponsal en Madrid", "Juan Pérez"),
])
def test_a_role_in_the_author_metadata_is_no_author(lang, author, authors):
    assert _author_of(f"<meta name='author' content='{author}'>", f"<article>{_STORY}</article>", lang) == authors


def test_bylines_lose_their_words_and_keep_their_order():
    from pipelines.extraction.headline import byline_names, choose_authors

    assert byline_names("By Samya Kullab and Vasilisa Stepanenko") == ["Samya Kullab", "Vasilisa Stepanenko"]
    assert byline_names("Text: Jan Novák, Eva Svobodová") == ["Jan Novák", "Eva Svobodová"]
    assert byline_names("Text und Fotos: Anna Meier") == ["Anna Meier"]
    assert byline_names("Elena Oberholzer (obe), Oliver Maksan (oma)") == ["Elena Oberholzer", "Oliver Maksan"]
    assert byline_names(["Emma Mackenzie", "(Image: Getty Images)", "emma-mackenzie"]) == ["Emma Mackenzie"]
    # a byline in fields: the names are the field that opens with "By" (else the first), not the email or the date
    assert byline_names("By Jane Doe | jdoe@post.example | The Denver Post") == ["Jane Doe"]
    assert byline_names("Updated 3 hours ago | By Anna Beispiel and Tom Muster") == ["Anna Beispiel", "Tom Muster"]
    assert byline_names("Anna Beispiel • 4 min read") == ["Anna Beispiel"]
    assert byline_names("Jane Doe | John Smith") == ["Jane Doe", "John Smith"]
    assert byline_names("Updated 3 hours ago | Jane Doe") == ["Jane Doe"]
    # a role after the names is no name; a "Jr." after a comma is no second author
    assert byline_names("By Jane Doe and Karim Saleh, Staff Writers") == ["Jane Doe", "Karim Saleh"]
    assert byline_names("Von Anna Beispiel, Korrespondentin in Paris") == ["Anna Beispiel"]
    assert byline_names("Martin Luther King, Jr.") == ["Martin Luther King Jr."]
    # before the name, the role goes and the name stays; a name that begins with a role word stays whole
    assert byline_names("Staff Writer Jane Doe") == ["Jane Doe"]
    assert byline_names("Von Redakteurin Anna Beispiel, Korrespondentin in Paris") == ["Anna Beispiel"]
    assert byline_names("Reporters Without Borders") == ["Reporters Without Borders"]
    # the publisher as byline: only where no source names a person
    assert choose_authors([["Lesotho Times"], ["Mohloai Mpesi"]], ["Lesotho Times"]) == ["Mohloai Mpesi"]
    assert choose_authors([["Associated Press"]], ["Associated Press", "apnews.com"]) == ["Associated Press"]


def test_an_author_page_link_names_the_author_when_nothing_else_does():
    html = (
        "<html><head><meta name='author' content='LTO'><meta property='og:site_name' content='LTO'></head><body>"
        "<nav><a href='/autoren/'>Alle Autoren</a></nav>"
        "<p>von <a href='/autoren/name/max-kolter'>Dr. Max Kolter</a></p>"
        "</body></html>"
    )
    from pipelines.extraction.metadata import read_metadata

    assert read_metadata(parse_html(html), "https://www.lto.de/recht/a-b-c").author == "Dr. Max Kolter"


def test_bylines_of_teaser_cards_are_not_the_articles_authors():
    # as netzpolitik.org and the Telegraph print them: more stories, each an <article> card with its byline
    card = "<li><article class='card'><h3>Other story</h3><span class='byline'>By <a rel='author' href='/{0}'>{1}</a>" \
        "</span></article></li>"
    html = (
        "<html><head><meta property='og:site_name' content='Example'></head><body><main><article>"
        "<h1>Budget</h1><p class='byline'>By <a rel='author' href='/anna'>Anna Weber</a></p><p>Text.</p>"
        "</article><aside><ul>" + card.format("jo", "Jo Brand") + card.format("li", "Li Wei") + "</ul></aside>"
        "<footer>Von <a rel='author' href='/anna'>Anna Weber</a></footer></main></body></html>"
    )
    from pipelines.extraction.metadata import read_metadata, shown_authors

    assert shown_authors(parse_html(html)) == ["Anna Weber"]
    assert read_metadata(parse_html(html), "https://www.example.com/a-b-c").author == "Anna Weber"
    # a page whose bylines stand in no <article> keeps them all, as before
    assert shown_authors(parse_html(html.replace("article", "div"))) == ["Anna Weber", "Jo Brand", "Li Wei"]
    # a card before the story, and the author's name in <head> first: the story is the <article> with the h1
    first = html.replace("<main>", "<main><ul>" + card.format("tom", "Tom Ford") + "</ul>").replace(
        "<head>", "<head><meta itemprop='author' content='Anna Weber'>")
    assert shown_authors(parse_html(first)) == ["Anna Weber"]
    # no headline in any of them: the story is the one with the most text
    assert shown_authors(parse_html(first.replace("h1", "div").replace("<p>Text.</p>", "<p>" + "Text. " * 40 + "</p>"))
                         ) == ["Anna Weber"]
