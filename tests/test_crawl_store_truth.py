"""The store decides what is archived: an index that disagrees with the store is rebuilt from its listing.

A crawl into a store, the store deleted (a local directory) or emptied (an S3 prefix), the same crawl
again: every article is stored again, not skipped as "recently fetched" because the local index under
STATE_DIR still lists it. Pages judged not to be articles are remembered like articles.
"""

from __future__ import annotations

import json
import shutil

from tests.conftest import ARTICLES
from tests.helpers import scrapy
from tests.servers.s3 import MotoServer
from tests.servers.static_site import write_sitemap
from tests.test_crawl_incremental import crawl


def test_a_deleted_local_store_gets_every_article_again(news, tmp_path):
    store, state = tmp_path / "store", tmp_path / "state"
    assert crawl(news, store, state).run_record()["articles_stored"] == ARTICLES
    news.requests()
    shutil.rmtree(store)
    again = crawl(news, store, state).run_record()
    assert again["articles_stored"] == ARTICLES
    assert "recently_fetched" not in again["skipped"]
    assert len(news.requests()) == ARTICLES


def test_an_emptied_s3_prefix_gets_every_article_again(news, tmp_path):
    with MotoServer() as s3:
        bucket = s3.create_bucket()
        state = tmp_path / "state"
        assert crawl_s3(news, s3, bucket, state)["articles_stored"] == ARTICLES
        s3.client().delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in s3.keys(bucket, "news/")]})
        again = crawl_s3(news, s3, bucket, state)
        assert again["articles_stored"] == ARTICLES
        assert "recently_fetched" not in again["skipped"]
        assert len(s3.keys(bucket, "news/articles/")) == ARTICLES


def crawl_s3(news, s3: MotoServer, bucket: str, state) -> dict:
    result = scrapy("crawl", "sitemap", "-a", f"url={news.url('/sitemap.xml')}", store=state.parent / "unused",
                    state=state, settings={"EXTRACT_WORKERS": "0", "STORE_URI": f"s3://{bucket}/news"}, env=s3.env())
    assert result.returncode == 0, result.stderr[-3000:]
    latest = s3.keys(bucket, "news/runs/")[-1]
    return json.loads(s3.client().get_object(Bucket=bucket, Key=latest)["Body"].read())


def test_pages_that_are_not_articles_are_not_fetched_again_within_revisit_after(news, tmp_path):
    links = "".join(
        f"<li><a href='/news/story-{n}.html'>Story number {n} of the day in the city</a></li>" for n in range(40)
    )
    front = news.root / "news" / "world" / "index.html"
    front.parent.mkdir(parents=True, exist_ok=True)
    front.write_text(f"<html><head><meta property='og:type' content='website'><title>World</title></head>"
                     f"<body><h1>World</h1><ul>{links}</ul></body></html>")
    write_sitemap(news.root, [*news.paths, "/news/world/index.html"])
    store, state = tmp_path / "store", tmp_path / "state"
    first = crawl(news, store, state).run_record()
    assert first["articles_stored"] == ARTICLES and first["skipped"]["not_article/listing"] == 1
    assert "/news/world/index.html" in news.requests()
    second = crawl(news, store, tmp_path / "state-new").run_record()  # a new machine: learnt from the store
    assert second["skipped"]["recently_fetched"] == ARTICLES + 1
    assert "/news/world/index.html" not in news.requests()
