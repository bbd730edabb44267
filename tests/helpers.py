"""Helpers shared by tests: run the crawler as users do (a subprocess), read what it stored."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pipelines.document.render import parse_document

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
CORPUS_WARC = FIXTURES / "corpus" / "corpus.warc.gz"
CORPUS_TRUTH = FIXTURES / "corpus" / "truth.json.gz"
SAMPLE_SITES = FIXTURES / "sites"  # SITES_DIRS with the sample site's file (key "sample"), for -a site=sample


@dataclass
class Crawl:
    returncode: int
    stdout: str
    stderr: str
    store: Path

    def run_record(self) -> dict:
        records = sorted((self.store / "runs").glob("*.json"), key=lambda p: p.stat().st_mtime)
        assert records, f"no run record in {self.store}/runs; stderr:\n{self.stderr[-3000:]}"
        return json.loads(records[-1].read_text())

    def documents(self) -> dict[str, tuple[dict, str]]:
        return read_documents(self.store)


def scrapy(*args: str, store: Path, state: Path | None = None, timeout: float = 240, env: dict | None = None,
           settings: dict[str, str] | None = None) -> Crawl:
    """Run ``scrapy <args>`` from the project root with a test store and quick, local-friendly settings."""
    command = scrapy_command(*args, store=store, state=state, settings=settings)
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    return Crawl(result.returncode, result.stdout, result.stderr, store)


def scrapy_command(
    *args: str, store: Path, state: Path | None = None, settings: dict[str, str] | None = None
) -> list[str]:
    """The command line of :func:`scrapy`, for tests that watch or kill the process."""
    state = state or store.parent / f"{store.name}-state"
    base = {
        "STORE_URI": str(store),
        "STATE_DIR": str(state),
        "STORE_SPOOL_DIR": str(state / "spool"),
        "ALLOW_PRIVATE_NETWORKS": "true",
        "DOWNLOAD_DELAY": "0",
        "AUTOTHROTTLE_ENABLED": "false",
        "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
        "EXTRACT_WORKERS": "2",
        "PROGRESS_INTERVAL": "0",
        "LOG_LEVEL": "INFO",
    }
    base.update(settings or {})
    command = [sys.executable, "-m", "scrapy", args[0]]
    for name, value in base.items():
        command += ["-s", f"{name}={value}"]
    command += args[1:]  # after the defaults: a test's own -s wins
    return command


def stopped_after_a_document(command: list[str], store: Path, forced: bool = False, timeout: float = 120) -> Crawl:
    """Run a crawl or replay ``command`` until it has stored its first document, then stop it as a user does.

    One SIGTERM, or, ``forced``, Ctrl-C and SIGTERM at once: both are held while the process is paused with
    SIGSTOP and reach it together when it goes on (SIGCONT), so the second always comes during the first's
    graceful stop, however fast or busy the machine. They must differ: two SIGTERMs pending at once are one.
    Sending the second once the first is seen taken would leave a window no wider than the graceful stop.
    """
    log = store.parent / f"{store.name}.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            deadline = time.monotonic() + timeout
            while not (store / "articles").is_dir() or not any((store / "articles").rglob("*.txt")):
                assert process.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, "nothing stored in time"
                time.sleep(0.02)
            if forced:
                process.send_signal(signal.SIGSTOP)
                process.send_signal(signal.SIGINT)
                process.send_signal(signal.SIGTERM)
                process.send_signal(signal.SIGCONT)
            else:
                process.send_signal(signal.SIGTERM)
            returncode = process.wait(timeout=timeout)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    return Crawl(returncode, "", log.read_text(), store)


def read_documents(store: Path) -> dict[str, tuple[dict, str]]:
    """url -> (front matter, body) of every article document in a local store."""
    documents = {}
    for path in sorted((store / "articles").rglob("*.txt")):
        meta, body = parse_document(path.read_text(encoding="utf-8"))
        documents[meta["url"]] = (meta, body)
    return documents


def decoded_body(response) -> bytes:
    """An archived response's page as the live crawl reads it: Scrapy's own HttpCompressionMiddleware decodes it.

    For tests and test servers that read a WARC without a crawl; ``scrapy extract`` and replay decode in the
    crawl's middleware chain itself.
    """
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
    from scrapy.http import Request
    from scrapy.statscollectors import MemoryStatsCollector

    from crawler.archive.replay import build_response

    crawler = Crawler(Spider, {"DOWNLOAD_MAXSIZE": 0})
    crawler.stats = MemoryStatsCollector(crawler)
    request = Request(response.url)
    return (
        HttpCompressionMiddleware.from_crawler(crawler)
        .process_response(request, build_response(response, request))
        .body
    )


def corpus_truth() -> dict[str, str]:
    with gzip.open(CORPUS_TRUTH, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def original_url(served: str, truth: dict[str, str]) -> str | None:
    """The corpus URL of a page served by tests.servers.http_archive at /<host>/<path>."""
    parts = urlsplit(served)
    tail = parts.path + (f"?{parts.query}" if parts.query else "")
    for url in truth:
        original = urlsplit(url)
        if tail == f"/{original.netloc}{original.path or '/'}" + (f"?{original.query}" if original.query else ""):
            return url
    return None


def corpus_responses() -> list[tuple[int, int]]:
    """(offset, length) of each response record of the corpus WARC (90, one gzip member each): where to damage it."""
    from warcio.archiveiterator import ArchiveIterator

    spans = []
    with open(CORPUS_WARC, "rb") as stream:
        iterator = ArchiveIterator(stream)
        for record in iterator:
            iterator.read_to_end()
            if record.rec_type == "response":
                spans.append((iterator.get_record_offset(), iterator.get_record_length()))
    return spans


def damaged_corpus(path: Path, at: list[int]) -> Path:
    """A copy of the corpus WARC at ``path`` with 20 bytes flipped at each offset of ``at``: corrupt gzip members."""
    data = bytearray(CORPUS_WARC.read_bytes())
    for start in at:
        data[start: start + 20] = bytes(b ^ 0xFF for b in data[start: start + 20])
    path.write_bytes(bytes(data))
    return path


EMBEDDED_URL = "https://embedded.example/page"


def damaged_plain_corpus(path: Path, how: str) -> Path:
    """The corpus WARC uncompressed (90 articles), its 45th response record damaged ``how``: its ``WARC/1.1``
    line garbled ("garbled"), its Content-Length 300 bytes too long ("long") or 400 bytes of its payload lost
    ("missing"). After the damage, a sound record whose payload is itself a WARC record (an archived WARC file:
    "\\r\\nWARC/1.1\\r\\n" in a payload), of a page at :data:`EMBEDDED_URL` that no reader may take for a capture."""
    import gzip
    import re

    data = gzip.decompress(CORPUS_WARC.read_bytes())
    response = [m.start() for m in re.finditer(rb"\r\nWARC-Type: response\r\n", data)][44]
    start = data.rindex(b"WARC/1.1\r\n", 0, response)
    if how == "garbled":
        data = data[:start] + b"WXRC" + data[start + 4:]
    elif how == "long":
        length = re.compile(rb"\r\nContent-Length: (\d+)\r\n").search(data, start)
        assert length
        data = data[: length.start(1)] + str(int(length.group(1)) + 300).encode() + data[length.end(1):]
    else:
        data = data[: start + 3000] + data[start + 3400:]
    first = data.index(b"\r\nWARC-Type: response\r\n")  # the first article's HTTP response, at another URL
    length = re.compile(rb"\r\nContent-Length: (\d+)\r\n\r\n").search(data, first)
    assert length
    http = data[length.end(): length.end() + int(length.group(1))]
    inner = (b"WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000001>\r\n"
             b"WARC-Date: 2026-01-01T00:00:00Z\r\nWARC-Target-URI: " + EMBEDDED_URL.encode()
             + b"\r\nContent-Type: application/http; msgtype=response\r\nContent-Length: "
             + str(len(http)).encode() + b"\r\n\r\n" + http + b"\r\n\r\n")
    outer = (b"WARC/1.1\r\nWARC-Type: resource\r\nWARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000002>\r\n"
             b"WARC-Date: 2026-01-01T00:00:00Z\r\nWARC-Target-URI: https://files.example/old.warc\r\n"
             b"Content-Type: application/warc\r\nContent-Length: " + str(len(inner)).encode() + b"\r\n\r\n"
             + inner + b"\r\n\r\n")
    path.write_bytes(data + outer)
    return path
