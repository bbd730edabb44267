"""The document contract: key order, empty keys left out, YAML that reads back, the plain format."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import yaml

from pipelines.document.render import parse_document, to_document
from pipelines.item import Article, Block, SiteProfile

SITE = SiteProfile(
    key="dailymail", source="Daily Mail",
    front_matter={"extends": "_layouts.post", "section": "content", "categories": ["latest", "news"], "featured": True},
)


def article(**values) -> Article:
    defaults = {
        "url": "https://www.example.com/news/article-123/tiktok.html", "site": SITE,
        "fetched": datetime(2026, 11, 21, 22, 0, 0, tzinfo=UTC),
        "blocks": [Block("First paragraph."), Block("Second paragraph.")],
        "title": "TikTok parent company Bytedance is in talks with the Trump administration",
        "description": "Sources familiar with the matter say that TikTok could face restructuring.",
        "date": datetime(2020, 9, 9, 23, 44, 39, tzinfo=UTC), "image": "https://i.example.com/photo.jpg",
        "author": "Jane Doe", "language": "en", "source": "Daily Mail",
    }
    defaults.update(values)
    return Article(**defaults)


def test_front_matter_matches_the_contract_example():
    document = to_document(article())
    assert document.text == (
        "---\n"
        "extends: _layouts.post\n"
        "section: content\n"
        "image: https://i.example.com/photo.jpg\n"
        "title: TikTok parent company Bytedance is in talks with the Trump administration\n"
        "description: Sources familiar with the matter say that TikTok could face restructuring.\n"
        "date: 2020-09-09-23-44-39\n"
        "categories: [latest, news]\n"
        "featured: true\n"
        "url: https://www.example.com/news/article-123/tiktok.html\n"
        "source: Daily Mail\n"
        "author: Jane Doe\n"
        "language: en\n"
        "fetched: 2026-11-21T22:00:00Z\n"
        "---\n"
        "First paragraph.\n\nSecond paragraph.\n"
    )
    assert document.key == "articles/dailymail/2020/09/09/" + document.key.rsplit("/", 1)[1]


def test_keys_without_a_value_are_left_out():
    meta, _ = parse_document(to_document(article(image="", author="", description="", date=None)).text)
    assert not {"image", "author", "description", "date"} & set(meta)
    assert list(meta)[:5] == ["extends", "section", "title", "categories", "featured"]


@pytest.mark.parametrize(
    "title",
    [
        "Breaking: 'quotes' and \"double quotes\" -- and --- dashes",
        "---",
        "- starts like a list",
        "# not a comment: really",
        "yes",
        "null",
        "2020-09-09",
        "title: nested: colons",
        "!!python/object:os.system ls",
        "&anchor *alias",
        "Москва, 北京, القاهرة, עברית",
        "emoji 🎉, a zero-width\u200bspace and a \\ backslash",
    ],
)
def test_any_title_reads_back_unchanged(title):
    meta, body = parse_document(to_document(article(title=title)).text)
    assert meta["title"] == title
    assert body == "First paragraph.\n\nSecond paragraph."


def test_front_matter_cannot_be_broken_out_of():
    hostile = "x\n---\nurl: https://evil.example\nfeatured: false"
    document = to_document(article(description=hostile))
    meta, body = parse_document(document.text)
    assert meta["url"] == "https://www.example.com/news/article-123/tiktok.html"
    assert meta["featured"] is True
    assert body == "First paragraph.\n\nSecond paragraph."


def test_fetched_is_a_yaml_timestamp():
    meta, _ = parse_document(to_document(article()).text)
    assert meta["fetched"] == datetime(2026, 11, 21, 22, 0, tzinfo=UTC)
    assert yaml.safe_load("fetched: 2026-11-21T22:00:00Z")["fetched"] == meta["fetched"]


def test_plain_format_is_paragraphs_then_the_source():
    document = to_document(article(), "plain")
    assert document.text == "First paragraph.\nSecond paragraph.\nDaily Mail\n"


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="OUTPUT_FORMAT"):
        to_document(article(), "html")


def test_revision_number_follows_the_contract_keys():
    document = to_document(article(), revision=3)
    assert document.revision == 3
    meta, _ = parse_document(document.text)
    assert meta["revision"] == 3 and list(meta)[-1] == "revision"


def test_key_uses_the_fetch_day_without_a_publication_date():
    assert to_document(article(date=None)).key.startswith("articles/dailymail/2026/11/21/")


def test_a_site_without_categories_still_gets_one_key_a_line_and_a_timestamp():
    """A front matter of scalars only was once written as one flow-style line, `fetched` a tagged string."""
    site = SiteProfile(key="example", front_matter={"extends": "_layouts.post", "section": "content", "categories": []})
    document = to_document(Article(url="https://www.example.com/a.html", site=site, blocks=[Block(text="Text.")],
                                   fetched=datetime(2026, 11, 21, 22, 0, tzinfo=UTC), title="T"))
    assert document.text.startswith("---\nextends: _layouts.post\nsection: content\ntitle: T\n")
    assert "\nfetched: 2026-11-21T22:00:00Z\n---\n" in document.text
    meta, _ = parse_document(document.text)
    assert meta["fetched"] == datetime(2026, 11, 21, 22, 0, tzinfo=UTC)
