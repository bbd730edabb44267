"""Recorded pages (tests/fixtures/pages/<site>/<slug>/): one test per page and field, offline.

Add one with `make fixture SITE=<site> URL=<url>` (tests/record.py), review its
expected.json, commit the folder: a regression in any field then fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.archive.reader import iter_exchanges
from tests.helpers import read_documents, scrapy
from tests.record import FIELDS, PAGES, document_fields

FIXTURES = sorted(p.parent for p in PAGES.glob("*/*/expected.json"))


def load(folder: Path):
    with open(folder / "page.warc.gz", "rb") as stream:
        response = next(r for r in iter_exchanges(stream) if r.status == 200)
    return response, json.loads((folder / "meta.json").read_text()), json.loads((folder / "expected.json").read_text())


def test_there_are_fixtures_of_several_sites():
    assert len({f.parent.name for f in FIXTURES}) >= 5


def test_fixtures_keep_the_coding_they_were_served_in():
    """Recorded as sites send pages (tests/record.py --coding): compressed, a few identity; extraction decodes."""
    codings = [load(folder)[0].header("Content-Encoding") for folder in FIXTURES]
    assert set(codings) >= {"gzip", "br", "zstd", "deflate", ""}


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("folder", FIXTURES, ids=lambda f: f"{f.parent.name}/{f.name}")
def test_extracted_field(folder, field):
    response, meta, expected = load(folder)
    assert response.url == meta["url"]
    assert document_fields(response, meta["site"]).get(field) == expected.get(field), f"{field} is not correct"


def test_spider_replaying_the_fixtures_makes_the_expected_documents(tmp_path):
    listing = tmp_path / "urls.txt"
    metas = [load(folder)[1:] for folder in FIXTURES]
    listing.write_text("\n".join(meta["url"] for meta, _ in metas) + "\n")
    crawl = scrapy("crawl", "urls", "-a", f"file={listing}", store=tmp_path / "store",
                   settings={"REPLAY_WARC": str(PAGES), "ALLOW_PRIVATE_NETWORKS": "false"})
    assert crawl.returncode == 0, crawl.stderr[-2000:]
    documents = read_documents(tmp_path / "store")
    assert len(documents) == len(FIXTURES)
    for meta, expected in metas:
        front, body = documents[expected["url"]]
        assert body == expected["body"]
        assert front["title"] == expected["title"] and front.get("date", "") == expected["date"]
        assert front["fetched"].strftime("%Y-%m-%dT%H:%M:%SZ") == meta["fetched"]  # the WARC-Date, not the clock
