"""WARC records as the archive writes them: one gzip member per record, at the configured ISA-L level."""

from __future__ import annotations

import gzip
import io
import re
import subprocess
import sys
import textwrap
import threading
import zlib
from datetime import UTC, datetime

import pytest
from warcio.warcwriter import WARCWriter

from pipelines.archive.reader import RecordCutShort, iter_exchanges
from pipelines.archive.writer import Exchange, WarcRecorder, exchange_records, warcinfo_record
from pipelines.storage.local import LocalStorage
from tests.helpers import CORPUS_WARC, ROOT

FETCHED = datetime(2026, 11, 21, 22, 0, tzinfo=UTC)


def corpus_exchange() -> Exchange:
    with open(CORPUS_WARC, "rb") as stream:
        response = next(iter_exchanges(stream))
    return Exchange(url=response.url, site="example", fetched=FETCHED, status=200, headers=response.headers,
                    body=response.body, meta={"role": "article"})


def gzip_members(data: bytes) -> list[bytes]:
    members = []
    while data:
        decompressor = zlib.decompressobj(zlib.MAX_WBITS + 16)
        members.append(decompressor.decompress(data))
        data = decompressor.unused_data
    return members


@pytest.mark.parametrize("level", [0, 1, 2, 3])
def test_each_record_is_its_own_gzip_member_and_reads_back(level):
    exchange = corpus_exchange()
    data = warcinfo_record("x.warc.gz", {"software": "test"}, level) + exchange_records(exchange, level)
    members = gzip_members(data)
    # warcinfo, response, request, metadata: a reader can start at any record
    assert [re.search(rb"^WARC-Type: (\w+)", m, re.M).group(1) for m in members] == [
        b"warcinfo", b"response", b"request", b"metadata"]
    assert gzip.decompress(data) == b"".join(members)  # and the file is plain gzip to any tool
    (read,) = iter_exchanges(io.BytesIO(data))
    assert (read.url, read.status, read.body, read.fetched) == (exchange.url, 200, exchange.body, FETCHED)


def test_a_higher_level_writes_a_smaller_archive():
    exchange = corpus_exchange()
    assert len(exchange_records(exchange, 3)) < len(exchange_records(exchange, 0))


class HeldStorage(LocalStorage):
    """A local store whose WARC writes wait until ``release`` is set: a disk that has fallen behind."""

    def __init__(self, root, release: threading.Event):
        super().__init__(root)
        self.release = release

    def open_append(self, key):
        log = super().open_append(key)
        write = log.write

        def held_write(data):
            self.release.wait(30)
            return write(data)

        log.write = held_write
        return log


def test_the_writer_queue_holds_at_most_its_byte_budget(tmp_path):
    """Downloads wait for a writer that is behind once the queued bodies reach ARCHIVE_QUEUE_BYTES, not before."""
    release = threading.Event()
    recorder = WarcRecorder(HeldStorage(tmp_path, release), "run-1", queue_size=256, queue_bytes=3_000_000)
    body = b"x" * 1_000_000
    done: list[int] = []

    def download(n: int) -> None:
        for i in range(n):
            recorder.record(Exchange(url=f"https://a.example/{i}", site="site_a", fetched=FETCHED, status=200,
                                     headers=[], body=body))
            done.append(i)

    crawler = threading.Thread(target=download, args=(8,), daemon=True)
    crawler.start()
    crawler.join(1.0)
    # the body being written counts until it is on disk: three bodies in all, the fourth download waits
    assert len(done) == 3 and crawler.is_alive()
    assert recorder.queued_bytes == 3_000_000
    release.set()
    crawler.join(30)
    recorder.close()
    assert len(done) == 8 and recorder.queued_bytes == 0 and recorder.failures == 0
    with open(tmp_path / "warc" / "site_a" / "run-1-00000.warc.gz", "rb") as stream:
        assert [r.url for r in iter_exchanges(stream)] == [f"https://a.example/{i}" for i in range(8)]


def test_a_body_larger_than_the_budget_is_archived_alone(tmp_path):
    recorder = WarcRecorder(LocalStorage(tmp_path), "run-1", queue_bytes=1000)
    recorder.record(Exchange(url="https://a.example/big", site="site_a", fetched=FETCHED, status=200, headers=[],
                             body=b"y" * 5000))
    recorder.close()
    with open(tmp_path / "warc" / "site_a" / "run-1-00000.warc.gz", "rb") as stream:
        assert [len(r.body) for r in iter_exchanges(stream)] == [5000]


def writer_threads() -> int:
    return sum(thread.name == "warc-writer" for thread in threading.enumerate())


def test_the_writer_thread_starts_with_the_first_exchange_and_ends_on_close(tmp_path):
    """Building the recorder (the archive middleware's from_crawler) starts nothing; a crawl that archives
    nothing leaves no file and no thread."""
    before = writer_threads()
    idle = WarcRecorder(LocalStorage(tmp_path / "idle"), "run-1")
    assert writer_threads() == before
    idle.close()
    assert not (tmp_path / "idle").exists()
    recorder = WarcRecorder(LocalStorage(tmp_path / "busy"), "run-1")
    recorder.record(Exchange(url="https://a.example/1", site="site_a", fetched=FETCHED, status=200, headers=[],
                             body=b"page"))
    assert writer_threads() == before + 1
    recorder.close()
    assert writer_threads() == before
    assert (tmp_path / "busy" / "warc" / "site_a" / "run-1-00000.warc.gz").exists()
    with pytest.raises(RuntimeError, match=re.escape("the WARC recorder is closed: https://a.example/2 not archived")):
        recorder.record(Exchange(url="https://a.example/2", site="site_a", fetched=FETCHED, status=200, headers=[],
                                 body=b"late"))
    assert writer_threads() == before


@pytest.mark.parametrize("value", ["0", "-1", "32MB"])
def test_a_queue_budget_that_is_no_size_is_refused_in_one_line(value):
    from scrapy.settings import Settings

    from crawler.config import check_settings
    from crawler.errors import ConfigError

    settings = Settings()
    settings.setmodule("settings.base")
    settings.set("ARCHIVE_QUEUE_BYTES", value, priority="cmdline")
    with pytest.raises(ConfigError, match=r"^setting ARCHIVE_QUEUE_BYTES='[^']+': expected a size in bytes above 0$"):
        check_settings(settings)


def test_a_record_that_a_full_disk_cut_short_leaves_the_records_after_it_readable(tmp_path):
    """The disk fills in the middle of a record, then space comes back: the WARC stays a WARC.

    The file-size limit (RLIMIT_FSIZE) stands in for the full disk, in a process of its own: a write past it
    puts in what fits and fails, as one on a full disk does.
    """
    script = textwrap.dedent(f"""
        import os, resource, signal, time
        from datetime import UTC, datetime
        from pipelines.archive.writer import Exchange, WarcRecorder
        from pipelines.storage.local import LocalStorage
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
        recorder = WarcRecorder(LocalStorage({str(tmp_path / "store")!r}), "run-1")
        def record(n, body):
            recorder.record(Exchange(url=f"https://a.example/{{n}}", site="site_a", status=200, body=body,
                                     headers=[("Content-Type", "text/html")], fetched=datetime(2026, 1, 2, tzinfo=UTC)))
            while recorder.exchanges + recorder.failures < n:
                time.sleep(0.01)
        record(1, b"<p>one</p>")
        (path,) = [os.path.join(d, f) for d, _, fs in os.walk({str(tmp_path / "store" / "warc")!r}) for f in fs]
        _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (os.path.getsize(path) + 2000, hard))
        record(2, os.urandom(50_000))  # does not fit: cut short
        resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))  # space again
        record(3, b"<p>three</p>")
        recorder.close()
        print(recorder.failures)
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["1"]
    (warc,) = (tmp_path / "store" / "warc").rglob("*.warc.gz")
    with open(warc, "rb") as stream:
        assert [(r.url, r.body) for r in iter_exchanges(stream)] == [
            ("https://a.example/1", b"<p>one</p>"), ("https://a.example/3", b"<p>three</p>")]
    assert "Traceback" not in result.stderr  # one line: what could not be archived and why
    assert "could not archive https://a.example/2: " in result.stderr


def test_a_record_cut_short_by_the_end_of_the_file_is_an_error_not_a_shorter_page():
    """A WARC copied or uploaded only in part: the records before the cut are read, the cut one is refused."""
    whole = CORPUS_WARC.read_bytes()
    pages = {r.url: r.body for r in iter_exchanges(io.BytesIO(whole))}
    read = []
    with pytest.raises(RecordCutShort, match=r"is cut short \(\d+ bytes missing\): the file ends early"):
        for response in iter_exchanges(io.BytesIO(whole[:400_000])):
            read.append(response)
    assert len(read) >= 5 and all(r.body == pages[r.url] for r in read)  # before: the last one, cut, was yielded


def test_bytes_after_the_last_chunk_are_not_a_record_cut_short():
    """Some servers send a stray CRLF after the last chunk; the record is whole and so is the file after it."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    for url, raw in (
        ("http://e.example/one", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n\r\n"),
        ("http://e.example/two", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nworld"),
    ):
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(raw), length=len(raw),
                                                      warc_content_type="application/http; msgtype=response"))
    out.seek(0)
    assert [(r.url, r.body) for r in iter_exchanges(out)] == [("http://e.example/one", b"hello"),
                                                              ("http://e.example/two", b"world")]


def test_taking_back_a_cut_write_leaves_what_another_process_appended(tmp_path):
    """Two runs with one run id append to one file: a full disk in one must not take the other's line."""
    script = textwrap.dedent(f"""
        import resource, signal, subprocess, sys
        from pathlib import Path
        from pipelines.storage.local import LocalAppendLog
        path = Path({str(tmp_path / "run.jsonl")!r})
        mine = LocalAppendLog("manifest/run.jsonl", path)
        mine.write(b"A from process 1\\n")
        subprocess.run([sys.executable, "-c", "from pathlib import Path; from pipelines.storage.local import "
                        "LocalAppendLog; LocalAppendLog('m', Path(%r)).write(b'B from process 2\\\\n')" % str(path)],
                       check=True)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (path.stat().st_size + 10, resource.RLIM_INFINITY))
        try:
            mine.write(b"C from process 1, longer than the room left\\n")
        except OSError:
            print("failed")
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["failed"], result.stderr[-2000:]
    assert (tmp_path / "run.jsonl").read_bytes() == b"A from process 1\nB from process 2\n"


def test_damage_in_the_middle_costs_one_record_and_the_pages_after_keep_their_metadata():
    # each exchange is a response, a request and a metadata record, each its own gzip member
    import random

    from warcio.archiveiterator import ArchiveIterator

    words = random.Random(1).choices(["council", "budget", "roads", "parks", "vote", "mayor"], k=6000)
    data = warcinfo_record("t.warc.gz", {"software": "test"})
    for number, role in enumerate(["article", "listing", "article", "article"]):
        body = f"<p>{' '.join(words)} {number}</p>".encode()  # past 4 KB: damage late in the member too
        data += exchange_records(Exchange(url=f"https://n.example/p{number}", site="n",
                                          fetched=datetime(2026, 1, 1, number, tzinfo=UTC), status=200,
                                          headers=[("Content-Type", "text/html")], body=body, meta={"role": role}))
    records = [(offset, record.rec_type) for offset, record in
               ((iterator.get_record_offset(), record) for iterator in [ArchiveIterator(io.BytesIO(data))]
                for record in iterator)]
    damaged = bytearray(data)
    request_1 = [offset for offset, kind in records if kind == "request"][1]
    response_2 = [offset for offset, kind in records if kind == "response"][2]
    for at in (request_1 + 60, response_2 + 5000):  # the request of page 1; page 2's body, past its first 4 KB
        damaged[at: at + 16] = bytes(b ^ 0xFF for b in damaged[at: at + 16])
    skipped: list[str] = []
    read = [(response.url[-2:], response.meta.get("role")) for response in
            iter_exchanges(io.BytesIO(bytes(damaged)), skipped.append)]
    assert read == [("p0", "article"), ("p1", "listing"), ("p3", "article")]
    assert len(skipped) == 2 and all("read on after them" in problem for problem in skipped), skipped


def handmade_record(uri: str, body: bytes, number: int) -> bytes:
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    return (b"WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:%08d-0000-4000-8000-000000000000>\r\n"
            b"WARC-Date: 2026-01-01T00:00:00Z\r\nWARC-Target-URI: %s\r\n"
            b"Content-Type: application/http; msgtype=response\r\nContent-Length: %d\r\n\r\n"
            % (number, uri.encode(), len(http))) + http + b"\r\n\r\n"


def test_a_corrupt_member_of_a_gzip_warc_is_never_searched_as_an_uncompressed_file():
    # warcio reads a member that does not decompress as plain bytes; taking the file for an uncompressed one
    # then searched the rest of it for record lines: a stored (level 0) member quoting a record gave that
    # record out instead of its own, and every damaged member cost a scan to the end of the file
    body = b"<html>" + b"x" * 2000 + b"</html>"
    quoted = handmade_record("https://embedded.example/fake", b"<html>fake</html>", 99)
    members = [gzip.compress(handmade_record(f"https://{name}.example/", text, number), compresslevel=0)
               for number, (name, text) in enumerate([("a", body), ("bad", body),
                                                      ("b", b"<pre>\r\n" + quoted + b"</pre>"), ("c", body)])]
    members[1] = members[1][:10] + bytes(byte ^ 0xFF for byte in members[1][10:30]) + members[1][30:]
    problems: list[str] = []
    urls = [response.url for response in iter_exchanges(io.BytesIO(b"".join(members)), problems.append)]
    assert urls == ["https://a.example/", "https://b.example/", "https://c.example/"]
    assert len(problems) == 1 and problems[0].endswith("a corrupt gzip member (it does not decompress)")
