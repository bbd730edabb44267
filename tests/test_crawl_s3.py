"""Crawls to s3:// on real S3 servers (moto's server mode, SeaweedFS), run as users run them.

The same sample site as the local crawl (``sitemap_crawl``) must give the same
documents in S3, with WARC, manifest and run record objects; replay from the
S3 WARC must rebuild them; an S3 outage in the middle of a crawl must lose
nothing; and the credentials must never show up in anything we write.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from pipelines.archive.reader import iter_exchanges
from pipelines.storage.s3 import S3Options, S3Storage
from tests.helpers import ROOT, Crawl, read_documents, scrapy, scrapy_command
from tests.servers.s3 import S3Server, SeaweedServer, aws_env, free_port

# Distinctive values: if they appear in any output, object or state file, a credential leaked.
ACCESS_KEY = "AKIAQ7LEAKCHECK5KEYID"
SECRET_KEY = "sEcReT/Leak+Check/9f3a7c1e5b2d8Value"


def mirror(server: S3Server, bucket: str, prefix: str, target: Path) -> Path:
    """Every object under ``prefix/`` as a local directory tree (read_documents reads it like a local store)."""
    client = server.client()
    for key in server.keys(bucket, f"{prefix}/"):
        path = target / key[len(prefix) + 1:]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(client.get_object(Bucket=bucket, Key=key)["Body"].read())
    return target


def without_fetched(documents: dict[str, tuple[dict, str]]) -> dict[str, tuple[dict, str]]:
    return {url: ({k: v for k, v in meta.items() if k != "fetched"}, body) for url, (meta, body) in documents.items()}


def assert_no_credentials(texts: list[str], roots: list[Path]) -> None:
    for secret in (ACCESS_KEY, SECRET_KEY):
        for number, text in enumerate(texts):
            assert secret not in text, f"a credential is in output #{number}"
        for root in roots:
            for path in root.rglob("*"):
                if path.is_file():
                    assert secret.encode() not in path.read_bytes(), f"a credential is in {path}"


def spool_while_unreachable(spool: Path, uri: str, objects: dict[str, bytes]) -> None:
    """What a run leaves in the spool when S3 does not answer (here: nothing listens on the endpoint's port)."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in aws_env(f"http://127.0.0.1:{free_port()}").items():
            env.setenv(name, value)
        unreachable = S3Storage(uri, spool, S3Options(max_attempts=1))
        for key, data in objects.items():
            unreachable.put(key, data)
    assert unreachable.spooled == len(objects)


def spool_files(spool: Path) -> list[Path]:
    return sorted(spool.rglob("*.data")) if spool.exists() else []


# --- a crawl to moto, compared with the local crawl ------------------------------------------


class S3Crawl:
    def __init__(self, server: S3Server, bucket: str, crawl: Crawl, mirror: Path, spooled_before: int):
        self.server, self.bucket, self.crawl, self.mirror = server, bucket, crawl, mirror
        self.spooled_before = spooled_before
        self.uri = f"s3://{bucket}/news"


@pytest.fixture(scope="module")
def s3_crawl(moto_s3, site, tmp_path_factory) -> S3Crawl:
    """``scrapy crawl sitemap`` of the sample site to s3://<bucket>/news, endpoint and keys from the environment.

    An earlier run left an object in the spool (S3 was unreachable then): the crawl must upload it first.
    """
    root = tmp_path_factory.mktemp("s3crawl")
    bucket = moto_s3.create_bucket()
    env = aws_env(moto_s3.endpoint, ACCESS_KEY, SECRET_KEY)
    spool_while_unreachable(root / "crawl-state" / "spool", f"s3://{bucket}/news",
                            {"notes/left-by-an-earlier-run.txt": b"spooled while S3 was down"})
    crawl = scrapy("crawl", "sitemap", "-a", f"url={site.url('/sitemap.xml')}", store=root / "crawl", env=env,
                   settings={"STORE_URI": f"s3://{bucket}/news", "LOG_LEVEL": "DEBUG"})
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    return S3Crawl(moto_s3, bucket, crawl, mirror(moto_s3, bucket, "news", root / "mirror"), 1)


def test_s3_crawl_stores_the_same_documents_as_a_local_crawl(s3_crawl, sitemap_crawl):
    documents = read_documents(s3_crawl.mirror)
    assert len(documents) == 90
    assert without_fetched(documents) == without_fetched(sitemap_crawl.documents())


def test_s3_crawl_stores_warc_manifest_and_run_record(s3_crawl):
    keys = s3_crawl.server.keys(s3_crawl.bucket, "news/")
    warcs = [key for key in keys if key.startswith("news/warc/") and key.endswith(".warc.gz")]
    manifests = [key for key in keys if key.startswith("news/manifest/")]
    runs = [key for key in keys if key.startswith("news/runs/")]
    assert warcs and len(manifests) == 1 and len(runs) == 1
    lines = [json.loads(line) for line in (s3_crawl.mirror / manifests[0][5:]).read_text().splitlines()]
    assert len(lines) == len({line["url"] for line in lines}) == 90
    assert {f"news/{line['key']}" for line in lines} == {key for key in keys if key.startswith("news/articles/")}
    responses = sum(1 for path in (s3_crawl.mirror / "warc").rglob("*.warc.gz")
                    for _ in iter_exchanges(path.open("rb")))
    record = json.loads((s3_crawl.mirror / runs[0][5:]).read_text())
    assert record["finish_reason"] == "finished"
    assert record["articles_stored"] == 90
    assert responses == record["pages_fetched"] == record["archive"]["responses"]
    assert record["store"] == s3_crawl.uri
    assert (record["spooled"], record["flushed"]) == (0, s3_crawl.spooled_before)


def test_the_spool_of_an_earlier_run_is_uploaded_first(s3_crawl):
    assert (s3_crawl.mirror / "notes" / "left-by-an-earlier-run.txt").read_bytes() == b"spooled while S3 was down"
    log = s3_crawl.crawl.stderr
    assert log.index("uploaded 1 spooled object(s)") < log.index("Spider opened")
    assert not spool_files(s3_crawl.crawl.store.parent / "crawl-state" / "spool")


def test_replay_from_s3_rebuilds_the_documents(s3_crawl, tmp_path):
    replayed = scrapy("replay", f"{s3_crawl.uri}/warc", store=tmp_path / "replayed",
                      env=aws_env(s3_crawl.server.endpoint, ACCESS_KEY, SECRET_KEY))
    assert replayed.returncode == 0, replayed.stderr[-3000:]
    original = {p.relative_to(s3_crawl.mirror): p.read_bytes() for p in (s3_crawl.mirror / "articles").rglob("*.txt")}
    rebuilt = {p.relative_to(tmp_path / "replayed"): p.read_bytes()
               for p in (tmp_path / "replayed" / "articles").rglob("*.txt")}
    assert len(rebuilt) == 90
    assert rebuilt == original  # byte for byte: `fetched` comes from the WARC-Date
    assert not (ROOT / ".spool").exists()  # reading S3 leaves no spool behind


def test_credentials_never_in_logs_records_or_documents(s3_crawl):
    # DEBUG logging, so botocore's request lines (which carry the key id) would be in stderr if let through
    assert "DEBUG" in s3_crawl.crawl.stderr
    state = s3_crawl.crawl.store.parent / "crawl-state"
    assert_no_credentials([s3_crawl.crawl.stdout, s3_crawl.crawl.stderr], [s3_crawl.mirror, state])


# --- mistakes are one line, before anything starts --------------------------------------------


def test_a_missing_bucket_is_one_line(moto_s3, tmp_path):
    result = scrapy("crawl", "sitemap", "-a", "url=http://127.0.0.1:9/sitemap.xml", store=tmp_path / "store",
                    env=moto_s3.env(), settings={"STORE_URI": "s3://no-such-bucket-anywhere/news"})
    assert result.returncode == 2
    assert result.stderr.strip() == "error: STORE_URI=s3://no-such-bucket-anywhere/news: bucket " \
        "'no-such-bucket-anywhere' does not exist"


def test_wrong_credentials_are_one_line_without_the_secret(seaweed_s3, tmp_path):
    bucket = seaweed_s3.create_bucket()
    result = scrapy("crawl", "sitemap", "-a", "url=http://127.0.0.1:9/sitemap.xml", store=tmp_path / "store",
                    env=aws_env(seaweed_s3.endpoint, ACCESS_KEY, SECRET_KEY), settings={"STORE_URI": f"s3://{bucket}"})
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: STORE_URI=s3://{bucket}: access denied to bucket '{bucket}' " \
        "(check the AWS credentials and the bucket policy)"
    assert_no_credentials([result.stdout, result.stderr], [tmp_path])


# --- scrapy flush ------------------------------------------------------------------------


def test_scrapy_flush_uploads_the_spool_once_s3_answers(moto_s3, tmp_path):
    bucket = moto_s3.create_bucket()
    uri = f"s3://{bucket}/news"
    spool_while_unreachable(tmp_path / "state" / "spool", uri,
                            {"articles/a.txt": b"a", "manifest/run.jsonl": b'{"url": "a"}\n'})
    settings = {"STORE_URI": uri, "S3_MAX_ATTEMPTS": "1"}

    still_down = scrapy("flush", store=tmp_path / "store", state=tmp_path / "state", env=moto_s3.env(),
                        settings={**settings, "S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"})
    assert still_down.returncode == 1
    assert "flushed 0 object(s)" in still_down.stdout and "2 object(s) could not be uploaded" in still_down.stderr
    assert len(spool_files(tmp_path / "state" / "spool")) == 2

    flushed = scrapy("flush", store=tmp_path / "store", state=tmp_path / "state", env=moto_s3.env(),
                     settings=settings)
    assert flushed.returncode == 0, flushed.stderr[-2000:]
    assert f"flushed 2 object(s) to {uri}; 0 left" in flushed.stdout
    assert moto_s3.keys(bucket) == ["news/articles/a.txt", "news/manifest/run.jsonl"]
    assert not spool_files(tmp_path / "state" / "spool")


def test_scrapy_flush_of_a_local_store_has_nothing_to_do(tmp_path):
    result = scrapy("flush", store=tmp_path / "store")
    assert result.returncode == 0
    assert "flushed 0 object(s)" in result.stdout


# --- an outage in the middle of a crawl, on SeaweedFS --------------------------------------


def test_s3_outage_mid_crawl_loses_nothing(site, sitemap_crawl, tmp_path):
    """weed is killed while the crawl stores articles, comes back on the same ports, and `scrapy flush` completes it."""
    with SeaweedServer(tmp_path / "weed", access_key=ACCESS_KEY, secret_key=SECRET_KEY) as server:
        bucket = server.create_bucket()
        uri = f"s3://{bucket}/news"
        store = tmp_path / "crawl"
        spool = tmp_path / "crawl-state" / "spool"
        settings = {"STORE_URI": uri, "S3_MAX_ATTEMPTS": "2", "LOG_LEVEL": "DEBUG",
                    "CONCURRENT_REQUESTS_PER_DOMAIN": "1", "DOWNLOAD_DELAY": "0.02"}  # slow enough to cut in two
        result: dict[str, Crawl] = {}
        runner = threading.Thread(target=lambda: result.update(crawl=scrapy(
            "crawl", "sitemap", "-a", f"url={site.url('/sitemap.xml')}", store=store, env=server.env(),
            settings=settings)))
        runner.start()
        deadline = time.monotonic() + 120
        while len(server.keys(bucket, "news/articles/")) < 10:
            assert runner.is_alive() and time.monotonic() < deadline, "the crawl stored nothing in S3"
            time.sleep(0.1)
        server.kill()
        runner.join()
        crawl = result["crawl"]
        assert crawl.returncode == 0, crawl.stderr[-3000:]
        assert "S3 unavailable" in crawl.stderr
        left = len(spool_files(spool))
        assert left >= 3  # at least an article, the WARC file and the manifest; the run record too

        server.start()  # back, same ports, same data
        flush = scrapy("flush", store=store, env=server.env(), settings={"STORE_URI": uri})
        assert flush.returncode == 0, flush.stderr[-3000:]
        assert f"flushed {left} object(s) to {uri}; 0 left" in flush.stdout
        assert not spool_files(spool)

        copy = mirror(server, bucket, "news", tmp_path / "mirror")
        documents = read_documents(copy)
        assert without_fetched(documents) == without_fetched(sitemap_crawl.documents())  # all 90, each once
        [manifest] = list((copy / "manifest").glob("*.jsonl"))
        lines = [json.loads(line) for line in manifest.read_text().splitlines()]
        assert sorted(line["url"] for line in lines) == sorted(documents)
        [record_path] = list((copy / "runs").glob("*.json"))
        record = json.loads(record_path.read_text())
        assert record["finish_reason"] == "finished" and record["articles_stored"] == 90
        assert record["spooled"] == left - 1  # all but the run record itself, written after it counted
        responses = sum(1 for path in (copy / "warc").rglob("*.warc.gz") for _ in iter_exchanges(path.open("rb")))
        assert responses == record["pages_fetched"]
        assert_no_credentials([crawl.stdout, crawl.stderr, flush.stdout, flush.stderr],
                              [copy, tmp_path / "crawl-state"])


def test_spiders_replay_an_archive_in_s3(s3_crawl, tmp_path):
    listing = tmp_path / "urls.txt"
    urls = sorted(url for url in read_documents(s3_crawl.mirror))[:5]
    listing.write_text("\n".join(urls) + "\n")
    state = tmp_path / "new-machine-state"  # does not exist yet: a fresh machine
    crawl = scrapy("crawl", "urls", "-a", f"file={listing}", store=tmp_path / "store", state=state,
                   env=aws_env(s3_crawl.server.endpoint, ACCESS_KEY, SECRET_KEY),
                   settings={"REPLAY_WARC": f"{s3_crawl.uri}/warc"})
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    assert set(read_documents(tmp_path / "store")) == set(urls)
    assert not list(state.glob("replay-*"))  # the downloaded copies are gone with the crawl


def test_report_and_browse_read_an_s3_store(s3_crawl, tmp_path):
    env = aws_env(s3_crawl.server.endpoint, ACCESS_KEY, SECRET_KEY)
    out = tmp_path / "report.json"
    result = scrapy("report", "-o", str(out), store=tmp_path / "unused", env=env, settings={"STORE_URI": s3_crawl.uri})
    assert result.returncode == 0, result.stderr
    figures = json.loads(out.read_text())
    record = json.loads(next((s3_crawl.mirror / "runs").glob("*.json")).read_text())
    assert figures["store"] == s3_crawl.uri and figures["totals"]["articles"] == 90
    assert figures["totals"]["archive_records"] == record["archive"]["records"]
    command = scrapy_command("browse", "--port", "0", store=tmp_path / "unused", settings={"STORE_URI": s3_crawl.uri})
    browse = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, text=True)
    try:
        base = re.search(r"http://127\.0\.0\.1:\d+/", browse.stdout.readline()).group(0)
        with urllib.request.urlopen(base) as response:
            assert "90 documents" in response.read().decode()
        with urllib.request.urlopen(base + "raw/1/archived") as response:  # the page, read from the WARC in S3
            assert response.headers["Content-Security-Policy"].startswith("sandbox;")
            assert "Archived 20" in response.read().decode()
    finally:
        browse.terminate()
        browse.wait(timeout=10)
