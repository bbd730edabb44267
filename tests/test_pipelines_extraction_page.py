"""Extraction: body quality on the corpus, metadata sources in order of trust, pages that hold no article."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from pipelines.evaluation.quality import evaluate_corpus
from pipelines.extraction.metadata import declared_url
from pipelines.extraction.options import ExtractOptions
from pipelines.extraction.page import ExtractError, extract_and_clean, extract_page, parse_html
from pipelines.item import Page, SiteProfile
from tests.helpers import FIXTURES

FETCHED = datetime(2026, 11, 21, 22, 0, tzinfo=UTC)
PARAGRAPHS = "".join(
    f"<p>Paragraph {n} of the story says the council met on Tuesday and voted on the plan for the city budget, "
    f"which funds parks, libraries and roads for the coming year.</p>"
    for n in range(6)
)


PAGE_URL = "https://news.example.com/2026/11/21/budget.html"


def page(html: str | bytes, url: str = PAGE_URL, **kw) -> Page:
    body = html.encode() if isinstance(html, str) else html
    return Page(url=url, body=body, site=SiteProfile(key="example", source=kw.pop("source", "")), fetched=FETCHED,
                content_type=kw.pop("content_type", "text/html; charset=utf-8"), **kw)


def article_html(head: str = "", body: str = PARAGRAPHS) -> str:
    return (
        f"<!DOCTYPE html><html lang='en-GB'><head>{head}</head>"
        f"<body><article><h1>Budget</h1>{body}</article></body></html>"
    )


def test_corpus_quality_with_and_without_cleaning():
    raw = evaluate_corpus(FIXTURES / "corpus", with_cleaning=False, workers=2)
    cleaned = evaluate_corpus(FIXTURES / "corpus", with_cleaning=True, workers=2)
    assert not cleaned.failed
    assert raw.shingle.f1 >= 0.97  # trafilatura, favor_precision, no comments
    assert cleaned.shingle.f1 >= 0.98  # our cleaning on top
    assert cleaned.shingle.precision > raw.shingle.precision


def test_json_ld_news_article_wins_over_meta_tags():
    ld = {
        "@context": "https://schema.org", "@type": "NewsArticle", "headline": "Council passes the budget",
        "datePublished": "2026-11-20T18:30:00-05:00", "author": [{"@type": "Person", "name": "Jane Doe"}],
        "image": {"@type": "ImageObject", "url": "https://img.example.com/a.jpg"}, "articleSection": "Politics",
        "keywords": ["budget", "council"], "description": "The vote ended a long night.", "inLanguage": "en-US",
    }
    head = (
        f"<script type='application/ld+json'>{json.dumps({'@graph': [ld]})}</script>"
        "<meta property='og:title' content='Council passes the budget | Example News'>"
        "<meta property='article:published_time' content='2026-11-19T00:00:00Z'>"
        "<meta property='og:site_name' content='Example News'>"
    )
    article = extract_page(page(article_html(head)))
    assert article.title == "Council passes the budget"
    assert article.date == datetime(2026, 11, 20, 23, 30, tzinfo=UTC)  # converted to UTC
    assert article.author == "Jane Doe"
    assert article.image == "https://img.example.com/a.jpg"
    assert article.categories == ["Politics"] and article.tags[:2] == ["budget", "council"]
    assert article.language == "en" and article.source == "Example News"


def test_meta_tags_and_hints_fill_what_json_ld_lacks():
    head = (
        "<meta property='og:type' content='article'><meta property='og:image' content='/img/b.jpg'>"
        "<meta name='description' content='A &amp;quot;long&amp;quot; night.'>"
    )
    article = extract_page(page(article_html(head), hints={"date": "2026-11-18T07:00:00Z", "title": "From the feed"}))
    assert article.image == "https://news.example.com/img/b.jpg"
    assert article.description == 'A "long" night.'
    assert article.date == datetime(2026, 11, 18, 7, 0, tzinfo=UTC)  # the sitemap/feed date as a hint


@pytest.mark.parametrize(("url", "printed", "date"), [
    # no date anywhere but a footer's copyright year, or a day in Spanish: htmldate gave January 1st of the year
    ("https://news.example.com/politics/budget.html", "<footer>© 2024 Example News</footer>", None),
    ("https://news.example.com/politics/budget.html", "<p>Publicado el 10 de marzo de 2024</p>", None),
    # a January 1st the page prints stays
    ("https://news.example.com/2024/01/01/budget.html", "<footer>© 2024 Example News</footer>", "2024-01-01"),
    ("https://news.example.com/politics/budget.html", "<p>Published January 1, 2024</p>", "2024-01-01"),
    ("https://news.example.com/politics/budget.html", "<p>Publié le 1er janvier 2024</p>", "2024-01-01"),
    ("https://news.example.com/politics/budget.html", "<time datetime='2024-01-01T10:00'>Neujahr</time>",
     "2024-01-01"),
])
def test_a_year_alone_is_no_publication_date(url, printed, date):
    article = extract_page(page(article_html(body=PARAGRAPHS + printed), url=url))
    assert (article.date.date().isoformat() if article.date else None) == date


def test_site_file_name_is_the_source():
    article = extract_page(page(article_html("<meta property='og:site_name' content='Other'>"), source="NY Post"))
    assert article.source == "NY Post"


def test_canonical_url_is_used_on_the_same_site_only():
    same = "<link rel='canonical' href='https://www.news.example.com/2026/11/21/budget.html?utm_source=x'>"
    other = "<link rel='canonical' href='https://evil.example.org/stolen.html'>"
    assert extract_page(page(article_html(same))).url == "https://www.news.example.com/2026/11/21/budget.html"
    assert extract_page(page(article_html(other))).url == "https://news.example.com/2026/11/21/budget.html"
    capitals = same.replace("'canonical'", "'Canonical'")  # rel is a list of tokens, in any case
    assert extract_page(page(article_html(capitals))).url == "https://www.news.example.com/2026/11/21/budget.html"


@pytest.mark.parametrize("canonical", [
    "<meta property='og:url' content='https://news.example.com'>",  # the home page
    '<script type="application/ld+json">{"@type": "NewsArticle", "mainEntityOfPage": "https://news.example.com/"}'
    "</script>",
])
def test_a_canonical_url_of_the_home_page_is_not_the_articles(canonical):
    # taken, every article of such a site had one address, and one store key: each overwrote the last
    assert extract_page(page(article_html(canonical))).url == "https://news.example.com/2026/11/21/budget.html"


def test_an_amp_or_print_view_takes_its_articles_canonical_url():
    amp = page(article_html("<link rel='canonical' href='https://news.example.com/2026/11/21/budget'>"),
               url="https://news.example.com/2026/11/21/budget/amp")
    assert extract_page(amp).url == "https://news.example.com/2026/11/21/budget"


RELATIVE = "<link rel='canonical' href='2026/budget.html'><meta property='og:image' content='img/a.jpg'>"


@pytest.mark.parametrize(("base", "image", "url"), [
    # relative URLs resolve against the page's <base href> as a browser resolves them (Chromium checked)
    ("<base href='https://news.example.com/en/'>",
     "https://news.example.com/en/img/a.jpg", "https://news.example.com/en/2026/budget.html"),
    ("<base href='/en/'>",  # itself relative: read against the page's URL
     "https://news.example.com/en/img/a.jpg", "https://news.example.com/en/2026/budget.html"),
    # a base on a CDN: the canonical URL it gives is the CDN's, another site's, refused as any offsite one
    ("<base href='https://cdn.example/x/'>", "https://cdn.example/x/img/a.jpg", PAGE_URL),
    ("<base target='_blank'><base href='//static.news.example.com/en/'><base href='https://other.example/'>",
     "https://static.news.example.com/en/img/a.jpg", "https://static.news.example.com/en/2026/budget.html"),
    # no base, or one a browser ignores: the page's own URL
    ("", "https://news.example.com/2026/11/21/img/a.jpg", "https://news.example.com/2026/11/21/2026/budget.html"),
    ("<base href='javascript:void(0)'>", "https://news.example.com/2026/11/21/img/a.jpg",
     "https://news.example.com/2026/11/21/2026/budget.html"),
    ("<base href='data:text/html,x'>", "https://news.example.com/2026/11/21/img/a.jpg",
     "https://news.example.com/2026/11/21/2026/budget.html"),
    ("<base href='http://[broken/'>", "https://news.example.com/2026/11/21/img/a.jpg",
     "https://news.example.com/2026/11/21/2026/budget.html"),
    ("<noscript><base href='https://news.example.com/en/'></noscript>",
     "https://news.example.com/2026/11/21/img/a.jpg", "https://news.example.com/2026/11/21/2026/budget.html"),
])
def test_relative_urls_in_the_metadata_resolve_against_the_document_base(base, image, url):
    article = extract_page(page(article_html(base + RELATIVE)))
    assert (article.image, article.url) == (image, url)


@pytest.mark.parametrize("canonical", ["<link rel='canonical' href='./'>", "<meta property='og:url' content='.'>"])
def test_a_base_does_not_make_the_home_page_the_articles_canonical_url(canonical):
    article = extract_page(page(article_html("<base href='https://www.news.example.com/'>" + canonical)))
    assert article.url == PAGE_URL


@pytest.mark.parametrize("base", ["<base href='/en/'>", "<base href='https://news.example.com/en/'>"])
@pytest.mark.parametrize("canonical", ["<link rel='canonical' href='#'>", "<link rel='canonical' href='?'>",
                                       "<link rel='canonical' href='./'>", "<meta property='og:url' content='.'>"])
def test_a_base_does_not_make_its_section_the_articles_canonical_url(base, canonical):
    # a template's "this page" read against a base of the site's section names the section: every article of it
    # would be stored under one key, each overwriting the one before
    article = extract_page(page(article_html(base + canonical)))
    assert article.url == PAGE_URL


def test_the_json_ld_article_named_by_a_relative_url_is_read_against_the_base():
    other = {"@type": "NewsArticle", "headline": "Another story", "url": "https://news.example.com/other.html"}
    own = {"@type": "NewsArticle", "headline": "Council passes the budget", "url": "2026/budget.html"}
    head = ("<base href='https://news.example.com/en/'><link rel='canonical' href='2026/budget.html'>"
            f"<script type='application/ld+json'>{json.dumps([other, own])}</script>")
    article = extract_page(page(article_html(head)))
    assert (article.url, article.title) == ("https://news.example.com/en/2026/budget.html", "Council passes the budget")


@pytest.mark.parametrize(("head", "url"), [
    ("<base href='https://news.example.com/en/'><link rel='canonical' href='2026/budget.html'>",
     "https://news.example.com/en/2026/budget.html"),
    # an absolute address before one read against a CDN's base; the base itself names the section, not the page
    ("<base href='https://cdn.example.net/assets/'><link rel='canonical' href='/2026/budget.html'>"
     "<meta property='og:url' content='https://news.example.com/2026/budget.html'>", "https://news.example.com/2026/budget.html"),
    ("<base href='https://news.example.com/en/'><link rel='canonical' href='#'>", ""),
    ("<base href='https://news.example.com/en/'><link rel='canonical' href='./'>"
     "<meta property='og:url' content='https://news.example.com/en/2026/budget.html'>", "https://news.example.com/en/2026/budget.html"),
])
def test_a_saved_pages_own_address_is_the_articles(head, url):
    assert declared_url(parse_html(article_html(head))) == url


@pytest.mark.parametrize(
    "body, content_type, reason",
    [
        (b"", "text/html", "empty"),
        (b"   \n ", "text/html", "empty"),
        (b"%PDF-1.7\x00\x01binary", "application/pdf", "not_html"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "", "not_html"),
        ("<html><body><p>" + "\ufffd" * 500 + "</p></body></html>", "text/html", "undecodable"),
        (article_html(body="<p>Too short to be an article.</p>"), "text/html", "no_article"),
    ],
)
def test_pages_without_an_article_say_why(body, content_type, reason):
    with pytest.raises(ExtractError) as error:
        extract_page(page(body, content_type=content_type))
    assert error.value.reason == reason
    assert "news.example.com" in str(error.value)


def test_too_large_page_is_refused():
    with pytest.raises(ExtractError) as error:
        extract_page(page(article_html(), content_type="text/html"), ExtractOptions(max_bytes=1000))
    assert error.value.reason == "too_large"


@pytest.mark.parametrize(
    "head, kind",
    [
        ("<script type='application/ld+json'>{\"@type\": \"VideoObject\", \"name\": \"Clip\"}</script>", "video"),
        ("<meta property='og:type' content='video.other'>", "video"),
        ("<script type='application/ld+json'>{\"@type\": \"ImageGallery\"}</script>", "gallery"),
        ("<script type='application/ld+json'>{\"@type\": \"CollectionPage\"}</script>", "listing"),
    ],
)
def test_pages_that_are_not_articles_are_recognised(head, kind):
    with pytest.raises(ExtractError) as error:
        extract_page(page(article_html(head)))
    assert error.value.reason == f"not_article/{kind}"


def test_section_front_is_recognised_by_its_links():
    links = "".join(f"<li><a href='/story-{n}.html'>Story number {n} of the day</a></li>" for n in range(40))
    html = f"<html><head><meta property='og:type' content='website'></head><body><ul>{links}</ul></body></html>"
    with pytest.raises(ExtractError) as error:
        extract_page(page(html))
    assert error.value.reason == "not_article/listing"


def test_article_embedding_a_video_is_still_an_article():
    head = (
        "<script type='application/ld+json'>"
        '[{"@type": "NewsArticle", "headline": "H"}, {"@type": "VideoObject"}]</script>'
    )
    assert extract_page(page(article_html(head))).page_type == "article"


def test_encodings_are_detected_from_the_page():
    html = article_html(
        "<meta charset='windows-1251'>", "<p>" + "Москва приняла бюджет города на следующий год. " * 12 + "</p>"
    )
    article = extract_page(page(html.encode("windows-1251"), content_type="text/html"))
    assert "Москва приняла бюджет" in " ".join(article.paragraphs)


def test_broken_json_ld_is_ignored():
    head = "<script type='application/ld+json'>{\"@type\": \"NewsArticle\", broken</script><title>Budget night</title>"
    assert extract_page(page(article_html(head))).title


@pytest.mark.parametrize("body", [
    # a stray </body> and </html> inside the story (a template's footer, a pasted embed): browsers ignore them,
    # libxml2 ended the page at the </html> and left what followed the </body> outside the body
    PARAGRAPHS.replace("<p>Paragraph 2", "</body><p>Paragraph 2").replace("<p>Paragraph 4", "</HTML ><p>Paragraph 4"),
    # ... after a script that writes them and a comment that names them, which are no tags (and stay in place)
    PARAGRAPHS.replace("<p>Paragraph 1", "<script>w.document.write('<body>' + t + '</body></html>')</script>"
                       "<!-- </body> --><p>Paragraph 1").replace("<p>Paragraph 2", "</body><p>Paragraph 2"),
    # the story 300 elements deep (libxml2 stops at 256 levels without its huge-tree option)
    "<div>" * 300 + PARAGRAPHS + "</div>" * 300,
])
def test_broken_markup_that_browsers_show_whole_is_extracted_whole(body):
    article = extract_page(page(article_html(body=body)))
    assert [b.text[:11] for b in article.blocks if b.kind == "p"] == [f"Paragraph {n}" for n in range(6)]


def test_a_broken_url_or_json_ld_in_the_page_costs_only_that_field():
    head = (
        "<link rel='canonical' href='http://[broken'><meta property='og:image' content='http://[also-broken/x.jpg'>"
        "<script type='application/ld+json'>" + "[" * 5000 + "]" * 5000 + "</script>"
    )
    article = extract_page(page(article_html(head)))
    assert article.url == "https://news.example.com/2026/11/21/budget.html"
    assert article.image == "" and len(article.blocks) >= 6


def test_a_stray_control_character_does_not_cost_the_article():
    # real pages carry them (a U+0010 in a Portuguese daily's byline): lxml refuses them in a tree's text
    head = "<meta name='author' content='Ana\x10 Silva'>"
    body = "<p class='byline'>Por Ana\x10 Silva</p>" + PARAGRAPHS.replace("council met", "council\x0bmet", 1)
    article = extract_page(page(article_html(head, body)))
    assert article.author == "Ana Silva"
    assert "the council met on Tuesday" in " ".join(article.paragraphs)  # a vertical tab separates words
    assert not any(ch in "\x0b\x10" for ch in article.title + " ".join(article.paragraphs))
    # the same characters as references, and U+FFFE
    body = "<p class='byline'>Por Ana&#16; Silva&#xFFFE;</p>" + PARAGRAPHS.replace("council met", "council&#12;met", 1)
    article = extract_page(page(article_html("<meta name='author' content='Ana&#x10; Silva'>", body)))
    assert article.author == "Ana Silva" and "the council met on Tuesday" in " ".join(article.paragraphs)


def test_a_meta_charset_after_a_long_script_is_found():
    # w3lib reads declarations in the first 4 KB only: a Shift_JIS page whose <meta charset> follows a 5 KB
    # inline script was read as UTF-8 and lost as undecodable
    script = "<script>var config = {" + ", ".join(f"'k{n}': {n}" for n in range(600)) + "};</script>"
    body = "<p>" + "東京都は来年度の予算案を発表し、子育て支援と防災対策に重点を置いた。" * 6 + "</p>"
    html = f"<!DOCTYPE html><html lang='ja'><head>{script}<meta charset='Shift_JIS'><title>予算</title></head>" \
           f"<body><article><h1>予算</h1>{body}</article></body></html>"
    article = extract_page(page(html.encode("shift_jis"), content_type="text/html"))
    assert "子育て支援と防災対策" in " ".join(article.paragraphs)


def test_a_browser_encoding_label_python_lacks_is_read():
    html = article_html("<meta http-equiv='Content-Type' content='text/html; charset=x-euc-jp'>",
                        "<p>" + "大阪市は新しい図書館の建設計画を市議会に提出した。" * 8 + "</p>")
    article = extract_page(page(html.encode("euc_jp"), content_type="text/html"))
    assert "新しい図書館の建設計画" in " ".join(article.paragraphs)


@pytest.mark.parametrize("content_type", ["text/html", "text/html; charset=utf-8"])
@pytest.mark.parametrize(
    "codec, text",
    [
        ("windows-1251", "Москва приняла бюджет города на следующий год, мэрия обещает новые парки. "),
        ("windows-1252", "El Gobierno aprobó el plan de vivienda para los próximos años en España. "),
    ],
)
def test_an_undeclared_or_mislabelled_legacy_encoding_is_detected(codec, text, content_type):
    # no charset in the header nor in the page, or a header's wrong "utf-8": read as UTF-8, the Russian page
    # was lost and the Spanish one kept with U+FFFD for every accented letter
    html = article_html(body="".join(f"<p>{text * 3}</p>" for _ in range(3)))
    article = extract_page(page(html.encode(codec), content_type=content_type))
    assert text.strip() in " ".join(article.paragraphs)
    assert "\ufffd" not in " ".join(article.paragraphs)


@pytest.mark.parametrize(("content_type", "meta"), [
    ("text/html; charset=ISO-8859-1", "<meta charset='utf-8'>"),  # a server's default header
    ("text/html", "<meta http-equiv='Content-Type' content='text/html; charset=iso-8859-1'>"),  # an old template
])
@pytest.mark.parametrize("footer", [b"", b"<footer>\xa9 2024 Ville</footer>"])  # with a stray Latin-1 byte
def test_a_utf8_page_labelled_latin1_is_read_as_utf8(content_type, meta, footer):
    # Latin-1 reads every byte: no error showed the mislabel, "l’été" became "lâ€™Ã©tÃ©" and the cleaning rules
    # then took the mojibake's "©" for photo credits and dropped the paragraphs
    text = "La mairie a présenté le budget de l’été : des écoles rénovées et des pistes cyclables"
    html = article_html(meta, "".join(f"<p>{text}, point {n}.</p>" for n in range(6))).encode("utf-8")
    article = extract_and_clean(page(html.replace(b"</article>", b"</article>" + footer), content_type=content_type))
    assert article.paragraphs == [f"{text}, point {n}." for n in range(6)]


@pytest.mark.parametrize(("codec", "charset"), [
    ("utf-16-le", "utf-16le"), ("utf-16-be", "UTF-16BE"), ("utf-16-le", "utf-16"), ("utf-16-be", "utf-16"),
])
def test_a_utf16_page_without_a_bom_is_read_as_its_header_says(codec, charset):
    # its NUL bytes made it "binary content"
    article = extract_page(page(article_html().encode(codec), content_type=f"text/html; charset={charset}"))
    assert [b.text[:11] for b in article.blocks if b.kind == "p"] == [f"Paragraph {n}" for n in range(6)]


def test_a_utf8_page_with_a_stray_byte_stays_utf8():
    # a windows-1252 quote mark pasted into a UTF-8 page: the page is UTF-8, not windows-1252 mojibake
    body = PARAGRAPHS + "<p>Zoë Müller, the café's owner in Málaga, said the vote was “fair”.</p>"
    html = article_html(body=body).encode("utf-8").replace("“".encode(), b"\x93")
    article = extract_page(page(html, content_type="text/html"))
    # and the stray byte itself is read as the windows-1252 quote it was
    assert "Zoë Müller, the café's owner in Málaga, said the vote was “fair”" in " ".join(article.paragraphs)


def test_an_english_utf8_page_with_a_latin1_footer_is_not_redecoded_whole():
    """Few valid multibyte characters (curly quotes) against a footer's stray bytes: still UTF-8.

    Re-decoding the page whole (the fewest errors wins) read it as mac-iceland: ‚Äô for every ’.
    """
    body = PARAGRAPHS + "<p>The mayor’s office said the bridge — closed since May — reopens today.</p>"
    footer = "<footer><p>© 2024 Société Éditions — Mentions légales, Políticas, Información, Contáctenos</p></footer>"
    html = article_html(body=body).encode("utf-8").replace(b"</body>", footer.encode("cp1252") + b"</body>")
    article = extract_page(page(html, content_type="text/html"))
    assert "The mayor’s office said the bridge — closed since May — reopens today." in article.paragraphs


@pytest.mark.parametrize(("text", "encoding"), [
    ("Belediye başkanı, köprünün inşaatının gelecek yıl tamamlanacağını söyledi. Çalışmalar sırasında trafik "
     "iki şeride düşürülecek ve otobüs hatları geçici olarak değiştirilecek. Esnaf, yol kapanışlarının "
     "satışları olumsuz etkileyeceğinden endişe ediyor. Proje için ayrılan bütçenin büyük kısmı devletten "
     "geliyor. Meclis üyeleri, ihalenin şeffaf yapılması gerektiğini vurguladı. Vatandaşlar görüşlerini "
     "önümüzdeki ay düzenlenecek toplantıda dile getirebilecek.", "cp1254"),
    ("Burmistrz zapowiedział, że budowa mostu zakończy się w przyszłym roku. W czasie prac ruch zostanie "
     "ograniczony do dwóch pasów, a linie autobusowe pojadą objazdami. Przedsiębiorcy obawiają się, że "
     "zamknięcie ulic zmniejszy ich sprzedaż. Większość pieniędzy na inwestycję pochodzi z budżetu państwa. "
     "Radni podkreślili, że przetarg musi być przejrzysty. Mieszkańcy będą mogli zgłaszać uwagi na spotkaniu "
     "w przyszłym miesiącu.", "cp1250"),
])
def test_an_undeclared_turkish_or_polish_page_is_read_in_its_own_encoding(text, encoding):
    # every single-byte code page reads them without a flaw; windows-1252 gives the wrong letters (baþkaný)
    paragraphs = "".join(f"<p>{sentence.strip()}.</p>" for sentence in text.split(". ") if sentence.strip())
    html = f"<!DOCTYPE html><html><head></head><body><article>{paragraphs}</article></body></html>".encode(encoding)
    article = extract_page(page(html, content_type="text/html"))
    assert text.split(".")[0] in " ".join(article.paragraphs)
