"""trafilatura's metadata, read field by field, is what trafilatura's own extract_metadata returns."""

from __future__ import annotations

from datetime import datetime, timezone

from trafilatura.metadata import extract_metadata

from pipelines.extraction.page import ExtractOptions, decode_page, parse_html
from pipelines.item import Page, SiteProfile
from pipelines.extraction.metadata import TrafilaturaMetadata
from pipelines.extraction.quality import load_corpus
from tests.helpers import FIXTURES

FIELDS = ("title", "author", "description", "image", "date", "sitename", "categories", "tags")


def test_field_by_field_equals_extract_metadata_on_every_corpus_page():
    compared = 0
    for url, _, body in load_corpus(FIXTURES / "corpus"):
        page = Page(url=url, body=body, site=SiteProfile(key="corpus"), fetched=datetime.now(timezone.utc))
        tree = parse_html(decode_page(page, ExtractOptions()))
        whole, lazy = extract_metadata(tree, default_url=url, extensive=True), TrafilaturaMetadata(tree, url)
        for name in FIELDS:
            assert getattr(lazy, name) == getattr(whole, name), f"{name} of {url}"
            compared += bool(getattr(whole, name))
    assert compared > 300  # most fields of most pages hold a value: the comparison is not of empties
