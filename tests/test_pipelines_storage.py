"""The storage contract, run against LocalStorage (tmp_path) and S3Storage (moto's server on loopback).

Then what only S3 has: checksums, multipart uploads, the spool when the
server is gone, and flushing it when the server is back.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.archive.reader import iter_exchanges
from pipelines.archive.writer import Exchange, WarcRecorder
from pipelines.storage import StorageError, open_storage
from pipelines.storage.local import LocalStorage
from pipelines.storage.s3 import KEEP_SESSIONS, S3Options, S3Storage, aws_session
from settings.base import STORE_BACKENDS_BASE as STORE_BACKENDS
from tests.helpers import ROOT
from tests.servers.s3 import MotoServer

MiB = 1024 * 1024


@pytest.fixture
def aws(monkeypatch, moto_s3):
    """boto3's standard chain reads these (no key is ever passed in code)."""
    for name, value in moto_s3.env().items():
        monkeypatch.setenv(name, value)
    return moto_s3


def s3_storage(server, tmp_path: Path, bucket: str = "", **options) -> S3Storage:
    bucket = bucket or server.create_bucket()
    options = {"max_attempts": 2, "connect_timeout": 2, "read_timeout": 5, **options}
    return S3Storage(f"s3://{bucket}/some/prefix", tmp_path / "spool", S3Options(**options))


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path):
    if request.param == "local":
        return LocalStorage(tmp_path / "store")
    return s3_storage(request.getfixturevalue("aws"), tmp_path)


# --- the contract: both backends ----------------------------------------------------------


def test_put_get_exists(storage):
    assert storage.get("articles/site/a.txt") is None
    assert not storage.exists("articles/site/a.txt")
    assert storage.size("articles/site/a.txt") is None
    assert storage.put("articles/site/a.txt", b"first", "text/plain") is True
    assert storage.get("articles/site/a.txt") == b"first"
    assert storage.exists("articles/site/a.txt")
    assert storage.size("articles/site/a.txt") == 5


def test_same_content_is_not_written_again(storage):
    assert storage.put("k/a.txt", b"same") is True
    assert storage.put("k/a.txt", b"same") is False
    assert storage.put("k/a.txt", b"changed") is True
    assert storage.get("k/a.txt") == b"changed"


def test_a_range_reads_those_bytes_only(storage):
    storage.put("warc/site/x.warc.gz", b"0123456789")
    for start, end, expected in ((0, 4, b"0123"), (3, 7, b"3456"), (6, None, b"6789"), (9, 10, b"9")):
        with storage.open_range("warc/site/x.warc.gz", start, end) as stream:
            assert stream.read() == expected
    with storage.open_range("warc/site/x.warc.gz", 2, 5) as stream:  # read in pieces, it still stops at the end
        assert stream.read(2) + stream.read(2) + stream.read(2) == b"234"


def test_list_is_sorted_relative_and_bounded_by_the_prefix(storage):
    for key in ("articles/b/2.txt", "articles/a/1.txt", "articles2/x.txt", "manifest/m.jsonl"):
        storage.put(key, b"x")
    assert list(storage.list("articles")) == ["articles/a/1.txt", "articles/b/2.txt"]
    assert list(storage.list("articles/")) == ["articles/a/1.txt", "articles/b/2.txt"]
    assert list(storage.list("nothing")) == []
    assert set(storage.list("")) == {"articles/b/2.txt", "articles/a/1.txt", "articles2/x.txt", "manifest/m.jsonl"}


def test_delete(storage):
    storage.put("k/gone.txt", b"x")
    storage.delete("k/gone.txt")
    storage.delete("k/never-there.txt")
    assert storage.get("k/gone.txt") is None
    assert list(storage.list("k")) == []


def test_open_read_streams_and_missing_is_file_not_found(storage):
    storage.put("warc/s/f.warc.gz", b"0123456789" * 1000)
    with storage.open_read("warc/s/f.warc.gz") as stream:
        assert stream.read(10) == b"0123456789"
        assert len(stream.read()) == 9990
    with pytest.raises(FileNotFoundError):
        storage.open_read("warc/s/missing.warc.gz")


def test_put_file(storage, tmp_path):
    source = tmp_path / "upload.bin"
    source.write_bytes(os.urandom(100_000))
    storage.put_file("warc/s/up.warc.gz", source, "application/warc")
    assert storage.get("warc/s/up.warc.gz") == source.read_bytes()


def test_append_log_sync_close_and_resume(storage):
    log = storage.open_append("manifest/run.jsonl")
    log.write(b'{"n": 1}\n')
    log.write(b'{"n": 2}\n')
    assert log.size == 18
    log.sync()
    assert storage.get("manifest/run.jsonl") == b'{"n": 1}\n{"n": 2}\n'
    log.write(b'{"n": 3}\n')
    log.close()
    assert storage.get("manifest/run.jsonl") == b'{"n": 1}\n{"n": 2}\n{"n": 3}\n'
    again = storage.open_append("manifest/run.jsonl")  # a resumed run keeps its earlier lines
    assert again.size == 27
    again.write(b'{"n": 4}\n')
    again.close()
    assert storage.get("manifest/run.jsonl").count(b"\n") == 4
    assert list(storage.list("manifest")) == ["manifest/run.jsonl"]


@pytest.mark.parametrize("key", ["../x", "/abs", "a//b", "a/../b", "a/./b", "with space", "", "a/b/", "é"])
def test_unsafe_keys_are_refused(storage, key):
    with pytest.raises(ValueError, match="unsafe store key"):
        storage.put(key, b"x")


def test_flush_with_nothing_spooled(storage):
    assert storage.flush_spool() == (0, 0)


def test_describe_names_the_object(storage):
    assert storage.describe("articles/a.txt").endswith("articles/a.txt")


# --- S3 only ------------------------------------------------------------------------------


def test_put_sets_sha256_checksum_and_metadata(aws, tmp_path):
    storage = s3_storage(aws, tmp_path)
    storage.put("articles/a.txt", b"hello", "text/plain; charset=utf-8")
    head = aws.client().head_object(Bucket=storage.bucket, Key="some/prefix/articles/a.txt", ChecksumMode="ENABLED")
    digest = hashlib.sha256(b"hello").digest()
    assert head["ChecksumSHA256"] == base64.b64encode(digest).decode()
    assert head["Metadata"]["sha256"] == digest.hex()
    assert head["ContentType"] == "text/plain; charset=utf-8"


def test_same_content_is_not_uploaded_again(aws, tmp_path):
    storage = s3_storage(aws, tmp_path)
    uploads = []
    for operation in ("PutObject", "CreateMultipartUpload"):
        storage.client.meta.events.register(
            f"before-call.s3.{operation}", lambda **kw: uploads.append(kw["model"].name)
        )
    source = tmp_path / "f.bin"
    source.write_bytes(b"z" * 1000)
    storage.put("a/x.txt", b"one")
    storage.put("a/x.txt", b"one")
    storage.put_file("a/f.bin", source)
    storage.put_file("a/f.bin", source)
    assert uploads == ["PutObject", "PutObject"]


@pytest.mark.parametrize("server", ["moto_s3", "seaweed_s3"])
def test_big_append_log_goes_up_in_parts_with_checksums(server, request, monkeypatch, tmp_path):
    server = request.getfixturevalue(server)
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    storage = s3_storage(server, tmp_path, multipart_threshold=5 * MiB)
    data = os.urandom(9 * MiB + 123)  # above the threshold, and above one 8 MiB part
    log = storage.open_append("warc/site/run-00000.warc.gz")
    for start in range(0, len(data), MiB):
        log.write(data[start:start + MiB])
    log.close()
    head = server.client().head_object(Bucket=storage.bucket, Key="some/prefix/warc/site/run-00000.warc.gz",
                                       ChecksumMode="ENABLED")
    assert head["ETag"].strip('"').endswith("-2")  # two parts: a managed multipart upload
    # each part went up with its SHA-256, which S3 checked: the object's checksum is the digest of theirs
    parts = hashlib.sha256(hashlib.sha256(data[:8 * MiB]).digest() + hashlib.sha256(data[8 * MiB:]).digest())
    assert head["ChecksumSHA256"].split("-")[0] == base64.b64encode(parts.digest()).decode()
    assert head["Metadata"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert head["ContentType"] == "application/warc"
    assert storage.get("warc/site/run-00000.warc.gz") == data
    assert not list((tmp_path / "spool").rglob("*.data"))  # uploaded: nothing left in the spool


def test_missing_bucket_is_one_clear_error(aws, tmp_path):
    storage = s3_storage(aws, tmp_path, bucket="no-such-bucket-here")
    with pytest.raises(StorageError, match="bucket 'no-such-bucket-here' does not exist"):
        storage.check()
    with pytest.raises(StorageError, match=re.escape("cannot write s3://no-such-bucket-here/some/prefix/a/b.txt")):
        storage.put("a/b.txt", b"x")
    assert storage.spool.count() == 0  # not an outage: nothing spooled


@pytest.mark.parametrize("uri", ["file://nothing-here", "file://host/srv/news"])
def test_a_file_uri_with_a_host_is_refused_not_read_as_the_current_directory(uri, tmp_path):
    with pytest.raises(StorageError, match=r"a file URI names a path after three slashes \(file:///path\)$"):
        open_storage(uri, {}, STORE_BACKENDS)
    local = open_storage((tmp_path / "store").as_uri(), {}, STORE_BACKENDS)  # file:///... is the path
    assert local.root == tmp_path / "store"
    assert open_storage(f"file://localhost{tmp_path / 'store'}", {}, STORE_BACKENDS).root == tmp_path / "store"


def test_credentials_in_the_uri_are_refused(tmp_path):
    with pytest.raises(StorageError) as error:
        open_storage(
            "s3://AKIAEXAMPLEKEY:secretvalue@bucket/prefix", {"STORE_SPOOL_DIR": str(tmp_path)}, STORE_BACKENDS
        )
    assert "secretvalue" not in str(error.value) and "AKIAEXAMPLEKEY" not in str(error.value)


def test_a_read_only_store_leaves_no_spool_directory(aws, tmp_path):
    storage = s3_storage(aws, tmp_path)
    assert list(storage.list("warc")) == []
    assert storage.get("x/y.txt") is None
    assert not (tmp_path / "spool").exists()


# --- outages: the server goes away and comes back on the same port ---------------------------


@pytest.fixture
def outage_server(monkeypatch):
    """A moto server of its own that a test can stop and start again (moto's state stays in this process)."""
    server = MotoServer()
    server.start()
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    yield server
    server.stop()


def restart(server: MotoServer) -> None:
    server.start()  # same port: self.port is the one the first start got


def test_outage_spools_and_flush_uploads(outage_server, tmp_path):
    storage = s3_storage(outage_server, tmp_path, outage_pause=60)
    storage.put("articles/before.txt", b"before")
    outage_server.stop()
    assert storage.put("articles/during-1.txt", b"one") is True  # after retries: spooled, the crawl goes on
    assert storage.put("articles/during-2.txt", b"two") is True  # paused: straight to the spool
    log = storage.open_append("manifest/run.jsonl")
    log.write(b'{"url": "u"}\n')
    log.close()
    assert storage.spooled == 3
    # the spool is part of the store for readers
    assert storage.get("articles/during-1.txt") == b"one"
    assert storage.exists("manifest/run.jsonl")
    assert storage.size("manifest/run.jsonl") == len(b'{"url": "u"}\n')
    assert storage.flush_spool() == (0, 3)  # still down: nothing lost, nothing uploaded

    restart(outage_server)
    assert storage.flush_spool() == (3, 0)
    assert storage.flushed == 3
    keys = outage_server.keys(storage.bucket)
    assert keys == ["some/prefix/articles/before.txt", "some/prefix/articles/during-1.txt",
                    "some/prefix/articles/during-2.txt", "some/prefix/manifest/run.jsonl"]
    reader = s3_storage(outage_server, tmp_path / "elsewhere", bucket=storage.bucket)
    assert reader.get("manifest/run.jsonl") == b'{"url": "u"}\n'
    assert not list((tmp_path / "spool").rglob("*.data"))


def test_a_newer_upload_wins_over_an_older_spooled_version(outage_server, tmp_path):
    storage = s3_storage(outage_server, tmp_path, outage_pause=0)
    outage_server.stop()
    storage.put("runs/r.json", b'{"finish_reason": "running"}')
    restart(outage_server)
    storage.put("runs/r.json", b'{"finish_reason": "finished"}')
    assert storage.flush_spool() == (0, 0)
    assert storage.get("runs/r.json") == b'{"finish_reason": "finished"}'


def test_an_append_log_opened_during_an_outage_keeps_what_s3_held(outage_server, tmp_path):
    storage = s3_storage(outage_server, tmp_path, outage_pause=0)
    first = storage.open_append("manifest/run.jsonl")
    first.write(b"line 1\n")
    first.close()
    outage_server.stop()
    storage = s3_storage(outage_server, tmp_path, bucket=storage.bucket, outage_pause=0)  # a resumed run
    resumed = storage.open_append("manifest/run.jsonl")
    resumed.write(b"line 2\n")
    resumed.close()
    restart(outage_server)
    assert storage.flush_spool() == (1, 0)
    assert storage.get("manifest/run.jsonl") == b"line 1\nline 2\n"


def test_append_log_of_a_killed_process_is_flushed(aws, tmp_path):
    """A crawl killed mid-WARC leaves whole records in the spool; the next flush uploads them."""
    bucket = aws.create_bucket()
    script = textwrap.dedent(f"""
        import os
        from pipelines.storage.s3 import S3Storage
        storage = S3Storage("s3://{bucket}/some/prefix", {str(tmp_path / "spool")!r})
        log = storage.open_append("warc/site/run-00000.warc.gz")
        log.write(b"record 1;")
        log.write(b"record 2;")
        os.kill(os.getpid(), 9)
    """)
    killed = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=os.environ.copy())
    assert killed.returncode == -9
    storage = s3_storage(aws, tmp_path, bucket=bucket)
    assert list(storage.list("warc")) == ["warc/site/run-00000.warc.gz"]  # seen in the spool
    assert storage.flush_spool() == (1, 0)
    assert aws.client().get_object(Bucket=bucket, Key="some/prefix/warc/site/run-00000.warc.gz")["Body"].read() \
        == b"record 1;record 2;"


def test_warc_recorder_loses_no_record_in_an_outage(outage_server, tmp_path):
    """A site's first response arrives while S3 is down: its WARC file waits in the spool, whole."""
    storage = s3_storage(outage_server, tmp_path, outage_pause=60)
    recorder = WarcRecorder(storage, "run-1")
    fetched = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    page = {"status": 200, "headers": [("Content-Type", "text/html")], "fetched": fetched}
    recorder.record(Exchange(url="https://a.example/1", site="site_a", body=b"<p>one</p>", **page))
    deadline = time.monotonic() + 30
    while recorder.records < 1 and time.monotonic() < deadline:  # written (to the spool file) before the outage
        time.sleep(0.01)
    outage_server.stop()
    recorder.record(Exchange(url="https://a.example/2", site="site_a", body=b"<p>two</p>", **page))
    recorder.record(Exchange(url="https://b.example/1", site="site_b", body=b"<p>new site</p>", **page))
    recorder.close()
    assert recorder.failures == 0
    restart(outage_server)
    assert storage.flush_spool() == (2, 0)
    urls = {}
    for key in storage.list("warc"):
        with storage.open_read(key) as stream:
            urls[key] = [(r.url, r.body) for r in iter_exchanges(stream)]
    assert urls == {
        "warc/site_a/run-1-00000.warc.gz": [
            ("https://a.example/1", b"<p>one</p>"),
            ("https://a.example/2", b"<p>two</p>"),
        ],
        "warc/site_b/run-1-00000.warc.gz": [("https://b.example/1", b"<p>new site</p>")],
    }


def test_a_store_opened_mid_run_keeps_the_writes_in_progress_and_clears_a_dead_processs(tmp_path):
    first = LocalStorage(tmp_path / "store")
    first.check()
    in_progress = first.tmp / f"{os.getpid()}-abc.tmp"  # what put() is writing at this moment
    in_progress.write_bytes(b"half")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left = first.tmp / f"{dead.stdout.strip()}-def.tmp"  # a process killed mid-write
    left.write_bytes(b"half")
    LocalStorage(tmp_path / "store").put("k/a.txt", b"x")  # another component of the same crawl writes
    assert in_progress.exists() and not left.exists()


def test_a_store_that_is_only_read_is_left_as_it_is(tmp_path):
    (tmp_path / "store" / "k").mkdir(parents=True)
    (tmp_path / "store" / "k" / "a.txt").write_bytes(b"x")
    (tmp_path / "store").chmod(0o555)  # read-only, as an archive on a read-only mount (the owner may be root)
    storage = LocalStorage(tmp_path / "store")
    assert storage.get("k/a.txt") == b"x" and list(storage.list("")) == ["k/a.txt"]
    assert sorted(p.name for p in (tmp_path / "store").iterdir()) == ["k"]  # no .tmp made by reading


def test_copy_keeps_the_original_and_a_missing_source_is_false(storage):
    storage.put("articles/s/a.txt", b"first text")
    assert storage.copy("articles/s/a.txt", "revisions/s/a/1.txt") is True
    storage.put("articles/s/a.txt", b"second text")
    assert storage.get("revisions/s/a/1.txt") == b"first text"
    assert storage.get("articles/s/a.txt") == b"second text"
    assert storage.copy("articles/s/never.txt", "revisions/s/never/1.txt") is False
    assert storage.get("revisions/s/never/1.txt") is None


# --- revisions and moves while S3 is down: the text replaced and the file moved away are not lost ------------


def _article(url: str, text: str, day: int, fetched_day: int):
    from pipelines.document.render import to_document
    from pipelines.item import Article, Block, SiteProfile

    return to_document(Article(url=url, site=SiteProfile(key="gazette"), title="Budget", blocks=[Block(text)],
                               date=datetime(2026, 11, day, tzinfo=UTC),
                               fetched=datetime(2026, 11, fetched_day, 8, tzinfo=UTC)))


def test_an_article_revised_or_moved_while_s3_is_down_keeps_its_history(outage_server, tmp_path):
    from pipelines.storage.index import ArchiveIndex
    from pipelines.store import ArticleStore

    storage = s3_storage(outage_server, tmp_path, outage_pause=60)
    store = ArticleStore(storage, ArchiveIndex(":memory:"), "manifest/run-1.jsonl")
    changed, moved = "https://g.example/changed", "https://g.example/moved"
    first = [_article(changed, "The council met on Monday about trams.", 20, 20),
             _article(moved, "Flood warnings for the valley were issued.", 20, 20)]
    for document in first:
        assert store.save(document) == "stored"
    originals = {d.url: (d.key, storage.get(d.key)) for d in first}

    outage_server.stop()
    revised = _article(changed, "The council met on Monday about buses instead.", 20, 22)
    redated = _article(moved, "Flood warnings for the valley were lifted.", 21, 22)  # published a day later
    assert store.save(revised) == "revised"  # before: StorageError reading the old text from S3, nothing kept
    assert store.save(redated) == "revised"
    assert redated.key != originals[moved][0]
    store.close()
    assert storage.get(originals[moved][0]) is None  # readers no longer see the file that moved

    restart(outage_server)
    assert originals[moved][0] not in set(storage.list("articles"))  # nor does a listing, before the flush
    histories = {url: f"revisions/gazette/{key.rsplit('/', 1)[-1].removesuffix('.txt')}/1.txt"
                 for url, (key, _) in originals.items()}
    for url, history in histories.items():  # the copies not made yet read as made, as spooled uploads do
        assert storage.get(history) == originals[url][1] and storage.exists(history), url
        assert storage.size(history) == len(originals[url][1])
    assert set(storage.list("revisions")) == set(histories.values())
    # two copies of replaced texts, two new versions and the manifest, one delete of a moved file
    assert storage.flush_spool() == (6, 0)
    reader = s3_storage(outage_server, tmp_path / "elsewhere", bucket=storage.bucket)
    for url, document in ((changed, revised), (moved, redated)):
        old_key, old_text = originals[url]
        history = f"revisions/gazette/{old_key.rsplit('/', 1)[-1].removesuffix('.txt')}/1.txt"
        assert reader.get(history) == old_text, url
        assert reader.get(document.key) == storage.get(document.key) and document.body.encode() in \
            reader.get(document.key)
    # the moved article's old file is deleted once its new one is there: one current file per article
    assert sorted(k for k in reader.list("articles")) == sorted({revised.key, redated.key})


def test_a_copy_waiting_in_the_spool_is_made_before_its_source_is_overwritten(outage_server, tmp_path):
    storage = s3_storage(outage_server, tmp_path, outage_pause=0)
    storage.put("articles/s/a.txt", b"first text")
    outage_server.stop()
    assert storage.copy("articles/s/a.txt", "revisions/s/a/1.txt") is True  # waits in the spool
    restart(outage_server)
    storage.put("articles/s/a.txt", b"second text")  # S3 is back before any flush: the copy goes first
    assert storage.flush_spool() == (0, 0)
    reader = s3_storage(outage_server, tmp_path / "elsewhere", bucket=storage.bucket)
    assert reader.get("revisions/s/a/1.txt") == b"first text"
    assert reader.get("articles/s/a.txt") == b"second text"


def test_a_key_written_again_after_a_spooled_delete_survives_the_flush(outage_server, tmp_path):
    storage = s3_storage(outage_server, tmp_path, outage_pause=60)
    storage.put("articles/s/a.txt", b"old")
    storage.put("articles/s/b.txt", b"stays")
    outage_server.stop()
    storage.delete("articles/s/a.txt")
    storage.delete("articles/s/b.txt")
    assert storage.get("articles/s/b.txt") is None and not storage.exists("articles/s/b.txt")
    storage.put("articles/s/b.txt", b"back again")
    assert storage.flush_spool() == (0, 2)  # still down: a delete and an upload wait
    restart(outage_server)
    assert storage.flush_spool() == (2, 0)
    assert outage_server.keys(storage.bucket) == ["some/prefix/articles/s/b.txt"]
    assert storage.get("articles/s/b.txt") == b"back again"



def test_stores_opened_with_the_same_keys_share_one_aws_session_and_other_keys_are_honoured(
        seaweed_s3, monkeypatch, tmp_path):
    """A crawl opens the store from about six components, and a new boto3 session loads S3's model each
    time (0.1 s and 12 MB): they share one. A changed key must not be served by the old session."""
    import boto3

    for name, value in seaweed_s3.env().items():
        monkeypatch.setenv(name, value)
    made = []

    class CountedSession(boto3.session.Session):
        def __init__(self, *args, **kwargs):
            made.append(self)
            super().__init__(*args, **kwargs)

    bucket = seaweed_s3.create_bucket()
    monkeypatch.setattr(boto3.session, "Session", CountedSession)
    writer, reader = (s3_storage(seaweed_s3, tmp_path, bucket) for _ in range(2))
    assert len(made) <= 1  # none when an earlier test left this server's session
    assert writer.put("a/b.txt", b"one")
    assert reader.get("a/b.txt") == b"one"

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    with pytest.raises(StorageError, match="access denied"):
        s3_storage(seaweed_s3, tmp_path, bucket).check()


def test_a_rewritten_credentials_file_is_read_again(monkeypatch, tmp_path):
    """A tool renewing a temporary token rewrites ~/.aws/credentials while a process runs."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    credentials = tmp_path / "credentials"
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    credentials.write_text("[default]\naws_access_key_id = OLDKEY\naws_secret_access_key = old\n")
    assert aws_session().get_credentials().access_key == "OLDKEY"
    credentials.write_text("[default]\naws_access_key_id = NEWKEY\naws_secret_access_key = new\n")
    os.utime(credentials, ns=(time.time_ns() + 10**9,) * 2)  # a later write, whatever the clock's grain
    assert aws_session().get_credentials().access_key == "NEWKEY"


def test_a_process_moving_between_s3_setups_keeps_only_the_last_few_sessions(monkeypatch):
    """Tests and tools that talk to one S3 server after another must not hold every session they made;
    the ones in use stay."""
    def session_for(n: int):
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{9000 + n}")
        return aws_session()

    sessions = [session_for(n) for n in range(KEEP_SESSIONS)]
    assert session_for(0) is sessions[0]  # used again: now the most recent
    session_for(KEEP_SESSIONS)  # one setup more than are kept
    assert session_for(0) is sessions[0]
    assert session_for(1) is not sessions[1]  # the least recently used was let go, and is made again
