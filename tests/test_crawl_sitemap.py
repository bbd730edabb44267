"""The dev corpus served as a site and crawled with `scrapy crawl sitemap`: the backbone's "done when"."""

from __future__ import annotations

import json
import re

import yaml

from pipelines.document.render import PROVENANCE_KEYS, SEED_KEYS
from pipelines.evaluation.quality import score, shingle_counts
from tests.helpers import corpus_truth, original_url


def test_one_valid_document_per_article_page(sitemap_crawl):
    truth = corpus_truth()
    documents = sitemap_crawl.documents()
    matched = {original_url(url, truth) for url in documents}
    assert len(documents) == len(truth) == 90
    assert matched == set(truth)
    for url, (meta, body) in documents.items():
        assert meta["url"] == url
        assert meta["title"] and meta["fetched"] and body
        keys = list(meta)
        contract = [k for k in SEED_KEYS + PROVENANCE_KEYS if k in meta]
        assert keys[: len(contract)] == contract, f"{url}: keys out of contract order: {keys}"


def test_body_quality_meets_target(sitemap_crawl):
    truth = corpus_truth()
    token, shingle = [], []
    for url, (_, body) in sitemap_crawl.documents().items():
        expected = truth[original_url(url, truth)]
        token.append(shingle_counts(expected, body, 1))
        shingle.append(shingle_counts(expected, body, 4))
    assert score(shingle).f1 >= 0.98, score(shingle)
    assert score(token).f1 >= 0.98, score(token)


def test_pages_that_are_not_articles_are_not_stored(sitemap_crawl):
    record = sitemap_crawl.run_record()
    documents = sitemap_crawl.documents()
    assert not any(re.search(r"/(tag|video|gallery|extra)/", url) for url in documents)
    skipped = record["skipped"]
    assert skipped.get("not_article_url", 0) >= 3  # tag, video and gallery pages: known by their URL
    # pages with neutral URLs are recognised from their content (JSON-LD, Open Graph, link density)
    assert skipped.get("not_article/video") == 1
    assert skipped.get("not_article/gallery") == 1
    assert skipped.get("not_article/listing") == 1


def test_run_record(sitemap_crawl):
    record = sitemap_crawl.run_record()
    for key in ("job", "spider", "started", "finished", "pages_fetched", "articles_stored",
                "articles_unchanged", "errors", "finish_reason"):
        assert key in record, key
    assert record["spider"] == record["job"] == "sitemap"
    assert record["finish_reason"] == "finished"
    assert record["articles_stored"] == 90
    assert record["pages_fetched"] >= 90 + 3
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["started"])
    assert record["cleaning"]  # what each rule removed is counted


def test_store_layout_and_manifest(sitemap_crawl):
    store = sitemap_crawl.store
    documents = sorted((store / "articles").rglob("*.txt"))
    for path in documents:
        assert re.fullmatch(
            r"articles/[a-z][a-z0-9_]*/\d{4}/\d\d/\d\d/[0-9a-f]{16}\.txt", path.relative_to(store).as_posix()
        )
    manifests = list((store / "manifest").glob("*.jsonl"))
    assert len(manifests) == 1
    lines = [json.loads(line) for line in manifests[0].read_text().splitlines()]
    assert len(lines) == len(documents)
    for line in lines:
        assert {"url", "key", "sha256", "title", "date", "fetched"} <= set(line)
        assert (store / line["key"]).is_file()
    assert not list((store / ".tmp").iterdir())


def test_summary_table_at_the_end(sitemap_crawl):
    assert "articles stored" in sitemap_crawl.stderr
    assert re.search(r"pages/s\s+\d", sitemap_crawl.stderr)


def test_front_matter_is_valid_yaml(sitemap_crawl):
    for path in (sitemap_crawl.store / "articles").rglob("*.txt"):
        text = path.read_text(encoding="utf-8")
        assert text.startswith("---\n")
        front = text[4 : text.index("\n---\n", 3)]
        assert isinstance(yaml.safe_load(front), dict)
