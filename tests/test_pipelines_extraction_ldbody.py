"""The body from the page's JSON-LD articleBody, when its HTML shows a teaser or nothing of the article.

Pages built from real ones (tests/fixtures/kinds: fundus test pages with their checked paragraphs): a
Next.js-like shell that prints the first paragraph and carries the article in its JSON-LD, in several
languages and in the shapes publishers give articleBody; a real page cut to its teaser; pages whose
articleBody is the same text as the HTML, or another story.
"""

from __future__ import annotations

import asyncio
import html
import json

import lxml.html
import pytest

from crawler.extensions.runrecord import run_record
from pipelines.document.render import to_document
from pipelines.extraction.ldbody import split_paragraphs
from pipelines.extraction.page import ExtractError
from pipelines.item import Page, SiteProfile
from tests.test_pipelines_extraction_kinds import CASES, FETCHED, extract, recall
from tests.test_pipelines_workers_pool import pipelines


def shell_page(key: str, article_body: str, teaser: int = 1, **ld: object) -> str:
    """A script-rendered page of the case: its first ``teaser`` paragraphs printed, the article in the JSON-LD."""
    case = CASES[key]
    data = {
        "@context": "https://schema.org", "@type": "NewsArticle", "headline": case.title,
        "datePublished": case.date, "inLanguage": case.language, "articleBody": article_body, **ld,
    }
    shown = "".join(f"<p>{html.escape(p)}</p>" for p in case.paragraphs[:teaser])
    return (
        f"<!DOCTYPE html><html lang='{case.language}'><head><meta charset='utf-8'>"
        f"<title>{html.escape(case.title)}</title>"
        f"<script type='application/ld+json'>{json.dumps(data, ensure_ascii=False)}</script></head>"
        "<body><div id='__next'><header><nav><a href='/'>Start</a> <a href='/politik'>Politik</a></nav></header>"
        f"<main><article><h1>{html.escape(case.title)}</h1>{shown}"
        "<button class='read-more' aria-expanded='false'>…</button></article></main>"
        "<footer><a href='/impressum'>Impressum</a></footer></div>"
        "<script id='__NEXT_DATA__' type='application/json'>{\"props\":{\"pageProps\":{\"id\":4711}}}</script>"
        "</body></html>"
    )


@pytest.mark.parametrize("key", ["es_ElPais_2024_10_15", "ru_Kommersant_2025_05_14", "jp_MainichiShimbun_2025_01_14",
                                 "de_Golem_2025_09_09"])
def test_a_script_rendered_page_keeps_the_article_its_json_ld_carries(key):
    paragraphs = CASES[key].paragraphs
    result = extract(shell_page(key, "\n\n".join(paragraphs)), CASES[key].url)
    assert result.paragraphs == paragraphs
    assert result.body_from == "ld" and not result.truncated


def test_an_app_shell_with_no_text_of_its_own_keeps_the_article():
    key = "de_Golem_2025_09_09"
    paragraphs = CASES[key].paragraphs
    shell = shell_page(key, "\n\n".join(paragraphs), teaser=0).replace(
        "<button", "<noscript><p>Bitte aktivieren Sie JavaScript, um diese Seite zu nutzen.</p></noscript><button")
    result = extract(shell, CASES[key].url)  # was: no article text, and the page was not stored
    assert result.paragraphs == paragraphs and result.body_from == "ld"


def test_a_teaser_that_tells_the_story_in_other_sentences_is_the_same_article():
    key = "es_ElPais_2024_10_15"
    # what the page shows: summary points, none of them a sentence of the article
    summary = ("<ul class='summary'><li>Bruselas estudia abrir centros de deportación fuera de la Unión Europea.</li>"
               "<li>Von der Leyen quiere endurecer la regulación sobre deportaciones y mira el modelo de Italia en "
               "Albania.</li><li>Las organizaciones de derechos humanos critican el acuerdo con Turquía y los "
               "centros.</li></ul>")
    page = shell_page(key, "\n\n".join(CASES[key].paragraphs), teaser=0).replace("<button", summary + "<button")
    result = extract(page, CASES[key].url)
    assert result.paragraphs == CASES[key].paragraphs and result.body_from == "ld"


def test_the_headline_and_the_standfirst_are_handled_as_in_the_html():
    key = "es_ElPais_2024_10_15"
    case = CASES[key]
    standfirst = "Bruselas estudia centros de deportación fuera de la UE mientras el consenso sobre el asilo se rompe."
    # articleBody opens with the headline; the page prints the standfirst (its description) above the teaser
    page = shell_page(key, "\n\n".join([case.title, *case.paragraphs]), description=standfirst)
    page = page.replace("</h1>", f"</h1><p class='subtitle'>{standfirst}</p>", 1)
    result = extract(page, case.url)
    assert result.paragraphs == [standfirst, *case.paragraphs]


@pytest.mark.parametrize(
    "shape",
    [
        lambda ps: "\n".join(ps),  # one line per paragraph
        lambda ps: "".join(f"<p>{p}</p>" for p in ps),  # HTML
        lambda ps: html.escape("".join(f"<p>{p}</p>" for p in ps)),  # escaped HTML
        lambda ps: "".join(f"<p>{html.escape(html.escape(p))}</p>" for p in ps),  # text escaped twice ("&amp;amp;")
    ],
    ids=["lines", "html", "escaped-html", "escaped-twice"],
)
def test_each_shape_of_article_body_gives_the_paragraphs(shape):
    key = "es_ElPais_2024_10_15"
    paragraphs = CASES[key].paragraphs
    assert extract(shell_page(key, shape(paragraphs)), CASES[key].url).paragraphs == paragraphs


def test_an_article_body_in_one_run_stays_one_paragraph():
    key = "ru_Kommersant_2025_05_14"
    run = " ".join(CASES[key].paragraphs)  # nothing says where a paragraph ends: none is invented
    result = extract(shell_page(key, run), CASES[key].url)
    assert result.paragraphs == [run] and result.body_from == "ld"


@pytest.mark.parametrize(
    ("run", "paragraphs"),
    [
        # paragraphs glued when the tags were stripped (as Berliner Zeitung, Morgenpost, Abendblatt send them)
        ("Dann hat er gesorgt hat.Die Nerven liegen blank. Ein „Fifty-Fifty-Ding“.„Es ist großartig“, sagte er.",
         ["Dann hat er gesorgt hat.", "Die Nerven liegen blank. Ein „Fifty-Fifty-Ding“.",
          "„Es ist großartig“, sagte er."]),
        ("Was bleibt?Kurz gesagt: wenig.", ["Was bleibt?", "Kurz gesagt: wenig."]),
        # no joint: abbreviations, figures, domains, names
        ("The U.S.The end. Version 3.5 is out. See Bild.de now. Mr.Smith said so. Read e.g.The Times.",
         ["The U.S.The end. Version 3.5 is out. See Bild.de now. Mr.Smith said so. Read e.g.The Times."]),
        ("東京都は14日、新たに発表した。次の段落です。", ["東京都は14日、新たに発表した。次の段落です。"]),
        ("One.\r\n\r\nTwo, wrapped\nover a line.\n\n\nThree.", ["One.", "Two, wrapped over a line.", "Three."]),
        ("<p>One <a href='/x'>link</a>.</p><figure><img src='a.jpg'><figcaption>Foto: dpa</figcaption></figure>"
         "<h2>Sub</h2><p>Two.</p><script>track()</script>", ["One link.", "Sub", "Two."]),
    ],
)
def test_article_body_splits_where_the_text_says_a_paragraph_ends(run, paragraphs):
    assert split_paragraphs(run) == paragraphs


def test_a_real_page_cut_to_its_teaser_keeps_the_article_from_its_own_json_ld():
    key = "de_HamburgerAbendblatt_2025_09_09"  # its JSON-LD articleBody is one run with paragraphs glued together
    tree = lxml.html.document_fromstring(CASES[key].html.decode())
    for paragraph in [p for p in tree.iter("p") if len(p.text_content().split()) > 12][1:]:
        paragraph.getparent().remove(paragraph)
    result = extract(lxml.html.tostring(tree, encoding="unicode"), CASES[key].url)
    assert result.body_from == "ld" and not result.truncated
    assert recall(key, result.paragraphs) > 0.95
    # the standfirst the page prints under its headline (its description tag's text) comes first
    assert result.blocks[0].kind == "lead" and result.paragraphs[0].startswith("Die Ex-Außenministerin tritt")
    assert result.paragraphs[2].startswith("Anfang März war das.")  # split at "…gefahren.Anfang März …"


def test_an_article_body_that_is_the_same_text_as_the_page_changes_nothing():
    key = "de_HamburgerAbendblatt_2025_09_09"  # the real page: HTML and articleBody hold the same article
    result = extract(CASES[key].html, CASES[key].url)
    assert result.body_from == "" and recall(key, result.paragraphs) > 0.95
    key = "es_ElPais_2024_10_15"
    paragraphs = CASES[key].paragraphs
    result = extract(shell_page(key, "\n\n".join(paragraphs), teaser=len(paragraphs)), CASES[key].url)
    assert result.body_from == "" and result.paragraphs == paragraphs


def with_json_ld(key: str, article_body: str) -> str:
    """The real page with a JSON-LD article first in its head (the one the metadata reader takes)."""
    data = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": CASES[key].title,
            "articleBody": article_body}
    script = f"<script type='application/ld+json'>{json.dumps(data)}</script>"
    return CASES[key].html.decode().replace("<head>", "<head>" + script, 1)


@pytest.mark.parametrize("other", ["shorter", "longer"])
def test_an_article_body_of_another_text_is_not_taken(other):
    key = "us_APNews_2023_04_28"
    shown = extract(CASES[key].html, CASES[key].url).paragraphs
    story = CASES["ls_LesothoTimes_2025_11_24"].paragraphs  # another story, in the same language
    text = "\n\n".join(story[:2] if other == "shorter" else story)
    result = extract(with_json_ld(key, text), CASES[key].url)
    assert result.paragraphs == shown and result.body_from == ""


def test_a_paywalled_article_whose_json_ld_carries_the_text_is_stored_whole_and_still_paywalled():
    key = "es_ElPais_2024_10_15"
    paragraphs = CASES[key].paragraphs
    page = shell_page(key, "\n\n".join(paragraphs), teaser=2, isAccessibleForFree=False,
                      hasPart={"@type": "WebPageElement", "isAccessibleForFree": False, "cssSelector": ".paywall"})
    page = page.replace("<button", "<p>Suscríbete para seguir leyendo. Lee sin límites</p><button")
    result = extract(page, CASES[key].url)
    # the publisher sent the text in the page: the archive keeps it, and says the article is not free
    assert result.paragraphs == paragraphs
    assert result.access == "paywalled" and not result.truncated


def test_the_extract_stage_and_the_run_record_count_the_bodies_taken_from_json_ld():
    extract_stage, _, crawler = pipelines(0)  # extraction inline, as with EXTRACT_WORKERS=0
    key = "es_ElPais_2024_10_15"
    shell = Page(url=CASES[key].url, body=shell_page(key, "\n\n".join(CASES[key].paragraphs)).encode(),
                 site=SiteProfile(key="elpais"), fetched=FETCHED, content_type="text/html; charset=utf-8")
    try:
        stored = asyncio.run(extract_stage.process_item(shell))
        asyncio.run(extract_stage.process_item(Page(url=CASES[key].url, body=CASES[key].html,
                                                    site=SiteProfile(key="elpais"), fetched=FETCHED)))
    finally:
        extract_stage.pool.close()
    assert stored.paragraphs == CASES[key].paragraphs
    stats = crawler.stats.get_stats()
    assert stats["extract/articles"] == 2 and stats["extract/body_from_ld"] == 1
    assert run_record(stats, {}, FETCHED)["body_from_ld"] == 1


# --- pages the corpora lack (found in review): other stories' objects, excerpts, embeds, tables ---

ES = CASES["es_ElPais_2024_10_15"]
DE = CASES["de_Golem_2025_09_09"]


def page(lang: str, title: str, main: str, lds: list, og_type: str = "article") -> str:
    scripts = "".join(f"<script type='application/ld+json'>{json.dumps(d, ensure_ascii=False)}</script>" for d in lds)
    return (f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<meta property='og:type' content='{og_type}'>{scripts}</head><body>"
            "<header><nav><a href='/'>Inicio</a> <a href='/internacional'>Internacional</a></nav></header>"
            f"<main>{main}</main><footer><a href='/aviso-legal'>Aviso legal</a></footer></body></html>")


def front(lds_graph: list) -> str:
    """A tag page: headline links, and a NewsArticle in the JSON-LD for each story it lists (the first with its "
      "text)."""
    links = "".join(f"<div class='card'><h2><a href='{o['url']}'>{html.escape(o['headline'])}</a></h2>"
                    f"<p>{o['summary']}</p></div>" for o in lds_graph)
    return page("es", "Migración: últimas noticias", f"<h1>Migración</h1>{links}",
                [{"@context": "https://schema.org", "@graph": lds_graph}], og_type="website")


ITEMS = [
    {"@type": "NewsArticle", "headline": ES.title, "url": "https://elpais.example/internacional/2024-10-15/bruselas.html",
     "articleBody": "\n\n".join(ES.paragraphs), "summary": "Von der Leyen mira el modelo de Italia."},
    {"@type": "NewsArticle", "headline": "Italia abre el primer centro en Albania", "url": "https://elpais.example/a.html",
     "summary": "Los primeros migrantes llegan a Shëngjin."},
    {"@type": "NewsArticle", "headline": "Los rescates en el Mediterráneo bajan un 20%",
     "url": "https://elpais.example/b.html", "summary": "Frontex publica sus cifras del verano."},
    {"@type": "NewsArticle", "headline": "Canarias pide ayuda para acoger a los menores",
     "url": "https://elpais.example/c.html", "summary": "El Gobierno canario reclama fondos."},
]


@pytest.mark.parametrize("url", ["https://elpais.example/noticias/migracion/", "https://elpais.example/internacional/"])
def test_a_tag_page_listing_news_articles_in_its_json_ld_is_no_article(url):
    # the first listed story's articleBody made the listing an article holding that story's text
    with pytest.raises(ExtractError) as error:
        extract(front(ITEMS), url)
    assert error.value.reason.startswith("not_article")


def test_a_short_page_does_not_take_the_text_of_a_related_story_listed_first_in_its_json_ld():
    # a news flash of 20 words; the page's JSON-LD names a related story first (with its text), then its own article
    own_title = "Cierra el puerto de Valencia por el temporal"
    main = (f"<article><h1>{own_title}</h1><p>El puerto de Valencia ha cerrado este martes por el temporal de viento "
            "y lluvia, según la Autoridad Portuaria.</p></article>")
    lds = [{"@context": "https://schema.org", "@type": "NewsArticle", "headline": ES.title,
            "url": "https://elpais.example/internacional/2024-10-15/bruselas.html",
            "articleBody": "\n\n".join(ES.paragraphs)},
           {"@context": "https://schema.org", "@type": "NewsArticle", "headline": own_title,
            "url": "https://elpais.example/espana/2025-03-04/cierra-el-puerto.html",
            "datePublished": "2025-03-04T10:00:00+01:00"}]
    try:
        result = extract(page("es", own_title, main, lds), "https://elpais.example/espana/2025-03-04/cierra-el-puerto.html")
    except ExtractError:
        return  # too short to store: acceptable, nothing of another story is stored
    assert not any(p in result.paragraphs for p in ES.paragraphs)  # was: the whole other story, 1197 words


OTHER = [
    "Riverside councillors will vote on Tuesday on the development budget for the affordable housing complex, "
    "a project the neighbourhood association has fought for three years.",
    "The development would bring 420 affordable apartments to the former industrial site along the river, "
    "with construction expected to start next spring if councillors approve the budget.",
    "Members of the neighbourhood association have packed every meeting since January, arguing that the housing "
    "complex is too tall and that the construction traffic would overwhelm local streets.",
    "The association has already hired lawyers and said it is prepared to challenge any decision in court, "
    "according to its chair, who described the process as rushed and opaque.",
    "Supporters of the development, including several housing charities, say the city cannot afford more delay "
    "while rents continue to climb and waiting lists for affordable homes grow longer every month.",
    "The council's finance committee recommended approval last week after the developer agreed to reduce the height "
    "of two buildings and to pay for new traffic lights on the approach road.",
    "If approved on Tuesday, the budget would release the first 12 million of public funding before the end of the "
    "financial year, officials said in a briefing to reporters on Friday morning.",
]


def test_a_paywalled_teaser_is_not_replaced_by_an_earlier_story_on_the_same_subject():
    teaser = ("Councillors approved the Riverside development budget on Tuesday night after a contentious meeting, "
              "clearing the way for construction of the affordable housing complex. Opponents said the neighbourhood "
              "association would challenge the decision in court.")
    title = "Riverside housing budget approved despite protests"
    url = "https://news.example.com/2025/03/05/riverside-housing-budget-approved"
    main = (f"<article><h1>{title}</h1><p>{teaser}</p><div class='paywall'><p>Subscribe to continue "
            "reading.</p></div></article>")
    lds = [{"@context": "https://schema.org", "@type": "NewsArticle",
            "headline": "Riverside council to vote on housing budget",
            "url": "https://news.example.com/2025/03/03/riverside-council-to-vote", "articleBody": "\n\n".join(OTHER)},
           {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title, "url": url,
            "datePublished": "2025-03-05T21:00:00Z", "isAccessibleForFree": False}]
    result = extract(page("en", title, main, lds), url)
    assert result.paragraphs[0] == teaser and OTHER[0] not in result.paragraphs  # was: the other story, 201 words
    assert result.title == title and result.access == "paywalled"


def test_the_pages_own_object_is_found_under_its_http_or_www_address():
    # a CMS names the page http://www. while it is served over https without www; its JSON-LD headline is not the
    # printed one. The related story listed first gave the page its title, date and author.
    teaser = ("Councillors approved the Riverside development budget on Tuesday night after a contentious meeting, "
              "clearing the way for construction of the affordable housing complex.")
    title = "Riverside housing budget approved despite protests"
    url = "https://news.example.com/2025/03/05/riverside-housing-budget-approved"
    main = f"<article><h1>{title}</h1><p>{teaser}</p><div class='paywall'><p>Subscribe to continue.</p></div></article>"
    lds = [{"@context": "https://schema.org", "@type": "NewsArticle",
            "headline": "Riverside council to vote on housing budget",
            "url": "https://news.example.com/2025/03/03/riverside-council-to-vote",
            "datePublished": "2025-03-03T09:00:00Z",
            "author": {"@type": "Person", "name": "Ann Other"}, "articleBody": "\n\n".join(OTHER)},
           {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Council backs Riverside homes plan",
            "url": "http://www.news.example.com/2025/03/05/riverside-housing-budget-approved/",
            "datePublished": "2025-03-05T21:00:00Z", "author": {"@type": "Person", "name": "Jo Reporter"}}]
    result = extract(page("en", title, main, lds), url)
    assert (result.date.date().isoformat(), result.author) == ("2025-03-05", "Jo Reporter")
    assert result.title != "Riverside council to vote on housing budget" and OTHER[0] not in result.paragraphs


@pytest.mark.parametrize("cut", [" […]", "…", " (...)", " [...]"])
def test_an_article_body_that_is_itself_an_excerpt_leaves_the_document_truncated(cut):
    excerpt = " ".join(" ".join(ES.paragraphs).split()[:140]) + cut
    main = (f"<article><h1>{html.escape(ES.title)}</h1><p>{html.escape(ES.paragraphs[0])}</p>"
            "<div class='paywall'><p>Suscríbete para seguir leyendo</p></div></article>")
    lds = [{"@context": "https://schema.org", "@type": "NewsArticle", "headline": ES.title, "datePublished": ES.date,
            "articleBody": excerpt, "wordCount": 1400, "isAccessibleForFree": False}]
    result = extract(page("es", ES.title, main, lds), ES.url)
    # 140 words of 1,400 from an excerpt in the JSON-LD were passed off as the whole article (truncated: false)
    assert result.truncated


def front_matter(article) -> str:
    return to_document(article).text.split("\n---\n", 1)[0]


def test_a_whole_article_body_followed_by_an_insert_ending_in_an_ellipsis_is_not_truncated():
    key = "es_ElPais_2024_10_15"
    first = html.escape(CASES[key].paragraphs[0])
    insert = "LEE TAMBIÉN: Los países de la UE endurecen su política migratoria…"
    page = shell_page(key, "\n\n".join([*CASES[key].paragraphs, insert]))
    page = page.replace(f"<p>{first}</p>", f"<p>{first[:90]}…</p>")
    result = extract(page, CASES[key].url)  # the page shows the start of the article, cut with "…"
    # the insert goes in cleaning; its "…" marked the whole stored text truncated
    assert result.paragraphs == CASES[key].paragraphs
    assert "truncated" not in front_matter(result)


def test_an_article_body_cut_before_a_copyright_line_is_truncated():
    key = "es_ElPais_2024_10_15"
    excerpt = "\n\n".join(CASES[key].paragraphs[:4]) + " […]\n\n© EDICIONES EL PAÍS S.L. Todos los derechos reservados."
    result = extract(shell_page(key, excerpt), CASES[key].url)
    # the copyright line goes in cleaning; the stored text ends at the cut, which the flag missed
    assert result.paragraphs[-1].endswith("[…]")
    assert "truncated: true" in front_matter(result)


def shell_with_body(body: str) -> str:
    shell = shell_page("de_Golem_2025_09_09", "@@BODY@@")
    return shell.replace('"@@BODY@@"', json.dumps(body, ensure_ascii=False).replace("</", "<\\/"))


@pytest.mark.parametrize(
    "embed",
    [
        '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>',
        '<iframe src="https://www.youtube.com/embed/abc" width="560" height="315" frameborder="0" '
        'allowfullscreen></iframe>',
        '[caption id="attachment_4711" align="aligncenter" width="800"]Die Konsole. Foto: Golem[/caption]',
        '[embed]https://www.youtube.com/watch?v=abc[/embed]',
    ],
    ids=["script", "iframe", "wp-caption", "wp-embed"],
)
def test_embed_code_in_a_plain_text_article_body_is_not_stored_as_a_paragraph(embed):
    paragraphs = DE.paragraphs
    body = paragraphs[0] + "\n\n" + embed + "\n\n" + "\n\n".join(paragraphs[1:])
    result = extract(shell_with_body(body), DE.url)
    assert result.body_from == "ld"
    assert result.paragraphs == paragraphs  # was: the embed's markup (or shortcode) as a paragraph


def test_table_cells_of_an_html_article_body_keep_their_words_apart():
    ps = DE.paragraphs
    body = ("".join(f"<p>{p}</p>" for p in ps[:3]) + "<table><tr><td>Modell</td><td>Preis</td></tr>"
            "<tr><td>Pro</td><td>499 Euro</td></tr></table>" + "".join(f"<p>{p}</p>" for p in ps[3:]))
    text = "\n".join(extract(shell_with_body(body), DE.url).paragraphs)
    assert "ModellPreis" not in text and "Pro499" not in text


def test_an_article_body_that_quotes_end_tags_keeps_them():
    # a literal "</body>" in the JSON-LD's text (a story about web pages): the removal of stray end tags from the
    # page's markup took it out of the script's text too, and with it the words the article printed
    key = "de_Golem_2025_09_09"
    paragraphs = [*CASES[key].paragraphs]
    paragraphs[2] = ("Die Seite endet mit </body> und </html>, danach darf nichts mehr kommen. " + paragraphs[2])
    result = extract(shell_page(key, "\n\n".join(paragraphs)), CASES[key].url)
    assert result.body_from == "ld" and result.paragraphs == paragraphs
