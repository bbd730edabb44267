"""The web archive: complete WARC of every fetch, and replay that rebuilds the documents offline."""

from __future__ import annotations

import filecmp
import io
import itertools
import json
import random
import shutil
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.archive.spider import UnitFailed
from pipelines.archive.reader import iter_exchanges
from pipelines.storage import StorageError
from tests.helpers import (
    CORPUS_WARC,
    EMBEDDED_URL,
    SAMPLE_SITES,
    corpus_responses,
    corpus_truth,
    damaged_corpus,
    damaged_plain_corpus,
    read_documents,
    scrapy,
    scrapy_command,
    stopped_after_a_document,
)
from tests.servers.base import ServerProcess


def warc_records(directory: Path) -> list:
    records = []
    for path in sorted(directory.rglob("*.warc.gz")):
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream, check_digests=True):
                records.append((path.name, record.rec_type, record.rec_headers, record.raw_stream.read()))
    return records


def same_tree(a: Path, b: Path) -> bool:
    comparison = filecmp.dircmp(a, b)
    if comparison.left_only or comparison.right_only or comparison.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, comparison.common_files, shallow=False)
    return not mismatch and not errors and all(same_tree(a / d, b / d) for d in comparison.common_dirs)


def test_warc_holds_a_request_and_a_response_for_every_fetch(sitemap_crawl):
    records = warc_records(sitemap_crawl.store / "warc")
    assert records[0][1] == "warcinfo"
    responses = {h.get_header("WARC-Target-URI") for _, kind, h, _ in records if kind == "response"}
    requests = {h.get_header("WARC-Target-URI") for _, kind, h, _ in records if kind == "request"}
    assert responses == requests
    record = sitemap_crawl.run_record()
    assert len(responses) == record["pages_fetched"] == record["archive"]["responses"]
    assert len(records) == record["archive"]["records"]  # every WARC record counted: warcinfo, request, metadata too
    assert (
        sum(p.stat().st_size for p in (sitemap_crawl.store / "warc").rglob("*.warc.gz")) == record["archive"]["bytes"]
    )
    documents = sitemap_crawl.documents()
    assert set(documents) <= responses  # every stored article's page is archived
    for _, kind, headers, _ in records:
        if kind == "response":
            assert headers.get_header("WARC-Payload-Digest", "").startswith("sha1:")
            assert headers.get_header("WARC-Date").endswith("Z")
    assert any(url.endswith("/robots.txt") for url in responses) and any(
        url.endswith("sitemap.xml") for url in responses
    )


def test_fetched_is_the_warc_date(sitemap_crawl):
    with open(next((sitemap_crawl.store / "warc").rglob("*.warc.gz")), "rb") as stream:
        dates = {r.url: r.fetched for r in iter_exchanges(stream)}
    for url, (meta, _) in sitemap_crawl.documents().items():
        assert meta["fetched"] == dates[url]


def test_replay_rebuilds_the_same_documents_byte_for_byte(sitemap_crawl, replayed_crawl):
    assert same_tree(sitemap_crawl.store / "articles", replayed_crawl.store / "articles")
    record = replayed_crawl.run_record()
    assert record["spider"] == "replay" and record["articles_stored"] == 90
    assert not (replayed_crawl.store / "warc").exists()  # nothing was fetched, nothing archived again


def test_a_rule_change_is_judged_with_diff_then_replayed_as_revisions(site, tmp_path):
    store = tmp_path / "store"
    # the news sitemap lists articles only, in a fixed order: the same 20 articles whatever the machine's load
    # (the sitemap index's other sitemap lists non-article pages, and which sitemap answers first is a race)
    old_rules = scrapy(
        "crawl",
        "sitemap",
        "-a",
        f"url={site.url('/sitemaps/news.xml')}",
        "-a",
        "limit=20",
        store=store,
        settings={"CLEAN_ENABLED": "false"},
    )  # as if crawled before the cleaning rules existed
    assert old_rules.returncode == 0, old_rules.stderr[-2000:]
    before = {p: p.read_bytes() for p in (store / "articles").rglob("*.txt")}

    diff = scrapy("replay", "--diff", str(store / "warc"), store=store)
    assert diff.returncode == 0, diff.stderr[-2000:]
    changes = [json.loads(line) for line in diff.stdout.splitlines() if line.startswith("{")]
    totals = diff.stdout.strip().splitlines()[-1]
    assert totals.startswith("replay --diff totals:")
    changed = int(totals.split("changed=")[1].split(",")[0])
    assert changed == len(changes) > 0 and f"unchanged={20 - changed}" in totals
    assert all(c["status"] == "changed" and c["body"]["new_chars"] < c["body"]["old_chars"] for c in changes)
    assert {p: p.read_bytes() for p in (store / "articles").rglob("*.txt")} == before  # --diff writes nothing
    assert len(list((store / "runs").glob("*.json"))) == 1

    replay = scrapy("replay", str(store / "warc"), store=store)
    record = replay.run_record()
    assert record["articles_revised"] == changed and record["articles_unchanged"] == 20 - changed
    revisions = list((store / "revisions").rglob("*.txt"))
    assert len(revisions) == changed  # the old text is kept
    assert sorted(r.read_bytes() for r in revisions) == sorted(b for p, b in before.items() if p.read_bytes() != b)


def test_spiders_replay_an_archive_unchanged_and_never_go_online(tmp_path):
    live_store, replay_store = tmp_path / "live", tmp_path / "replayed"
    with ServerProcess("tests.servers.http_archive") as site:
        sitemap = site.url("/sitemap.xml")
        live = scrapy("crawl", "sitemap", "-a", f"url={sitemap}", store=live_store)
        assert live.returncode == 0, live.stderr[-2000:]
    # the server is gone: only the archive can answer
    replayed = scrapy("crawl", "sitemap", "-a", f"url={sitemap}", store=replay_store,
                      settings={"REPLAY_WARC": str(live_store / "warc")})
    assert replayed.returncode == 0, replayed.stderr[-2000:]
    assert same_tree(live_store / "articles", replay_store / "articles")
    assert len(read_documents(replay_store)) == 90
    # a page the archive does not hold fails with a clear line and is counted
    missing = scrapy("crawl", "urls", "-a", f"urls={site.url('/not/archived.html')}", store=tmp_path / "missing",
                     settings={"REPLAY_WARC": str(live_store / "warc")})
    assert "not in archive, not fetched" in missing.stderr
    assert missing.run_record()["errors"] == {"not_in_archive": 1}


def test_redirects_and_error_responses_are_archived(site, tmp_path):
    truth = sorted(corpus_truth())
    moved = site.url("/moved/" + truth[0].split("://", 1)[1])
    crawl = scrapy("crawl", "urls", "-a", f"urls={moved},{site.url('/no/such/page.html')}", "-a", "site=sample",
                   store=tmp_path / "store", settings={"SITES_DIRS": str(SAMPLE_SITES)})
    assert crawl.returncode == 0
    statuses = {}
    for _, kind, headers, _ in warc_records(tmp_path / "store" / "warc"):
        if kind == "response":
            statuses[headers.get_header("WARC-Target-URI")] = headers
    with open(next((tmp_path / "store" / "warc").rglob("*.warc.gz")), "rb") as stream:
        codes = {r.url: r.status for r in iter_exchanges(stream)}
    assert codes[moved] == 301 and codes[site.url("/no/such/page.html")] == 404
    assert codes[site.url("/" + truth[0].split("://", 1)[1])] == 200
    assert len(read_documents(tmp_path / "store")) == 1
    assert crawl.run_record()["errors"] == {"http_404": 1}


def test_warc_files_rotate_by_size(site, tmp_path):
    crawl = scrapy("crawl", "sitemap", "-a", f"url={site.url('/sitemaps/news.xml')}", "-a", "limit=15",
                   store=tmp_path / "store",
                   settings={"ARCHIVE_MAX_SIZE": "120000"})
    assert crawl.returncode == 0
    files = sorted((tmp_path / "store" / "warc").rglob("*.warc.gz"))
    assert len(files) >= 3
    run_id = crawl.run_record()["run_id"]
    assert [f.name for f in files] == [f"{run_id}-{n:05d}.warc.gz" for n in range(len(files))]
    for path in files:
        with open(path, "rb") as stream:
            kinds = [r.rec_type for r in ArchiveIterator(stream)]
        assert kinds[0] == "warcinfo"
        assert path.stat().st_size <= 120000 or kinds.count("response") == 1


def test_credentials_sent_with_requests_are_not_archived(site, tmp_path):
    truth = sorted(corpus_truth())
    url = site.url("/" + truth[0].split("://", 1)[1])
    headers = '{"Authorization": "Bearer token-3e9f-secret", "Cookie": "session=cookie-77aa"}'
    crawl = scrapy("crawl", "urls", "-a", f"urls={url}", store=tmp_path / "store",
                   settings={"DEFAULT_REQUEST_HEADERS": headers})
    assert crawl.returncode == 0, crawl.stderr[-2000:]
    records = warc_records(tmp_path / "store" / "warc")
    requests = [h for _, kind, h, _ in records if kind == "request"]
    assert requests
    archived = b"".join(body for _, _, _, body in records).decode("latin-1")
    archived += "".join(str(h) for _, _, h, _ in records)
    with open(next((tmp_path / "store" / "warc").rglob("*.warc.gz")), "rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type == "request":
                archived += record.http_headers.to_str()
    assert "token-3e9f-secret" not in archived and "cookie-77aa" not in archived


def test_a_broken_warc_or_an_unreachable_store_is_named_in_one_short_line(tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    shutil.copy(CORPUS_WARC, archive / "a-good.warc.gz")
    # bytes that are not a WARC: warcio's error quotes what it read, all of it
    (archive / "b-broken.warc.gz").write_bytes(random.Random(1).randbytes(3000))
    replayed = scrapy("replay", str(archive), store=tmp_path / "store")
    assert replayed.returncode == 0, replayed.stderr[-2000:]
    record = replayed.run_record()
    assert record["articles_stored"] == 90 and record["errors"] == {"unreadable_warc": 1}
    (line,) = [line for line in replayed.stderr.splitlines() if "cannot read the archive" in line]
    assert len(line.split("b-broken.warc.gz: ", 1)[1]) <= 201

    # a store that stops answering mid-replay is not a broken file: the run record says which it was
    assert UnitFailed("x.warc.gz", ValueError("Unknown archive format")).reason == "unreadable_warc"
    down = StorageError("cannot read s3://news/warc/x.warc.gz: EndpointConnectionError: Could not connect")
    assert UnitFailed("x.warc.gz", down).reason == "archive_unreachable"
    from botocore.exceptions import ReadTimeoutError  # a body that stops coming: no built-in ConnectionError

    assert UnitFailed("x.warc.gz", ReadTimeoutError(endpoint_url="http://s3")).reason == "archive_unreachable"


def without_target_uri(number: int) -> bytes:
    """A response record as a hand or another tool may write it: no WARC-Target-URI (one gzip member)."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    body = f"<html><head><title>Lost {number}</title></head><body><p>{'No address. ' * 40}</p></body></html>"
    record = writer.create_warc_record("https://news.example.org/lost.html", "response",
                                       payload=io.BytesIO(body.encode()),
                                       http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")],
                                                                     protocol="HTTP/1.1"))
    record.rec_headers.remove_header("WARC-Target-URI")
    writer.write_record(record)
    return out.getvalue()


def corpus_with_records_without_uri(path: Path) -> Path:
    """The corpus WARC with a record without WARC-Target-URI first and another one halfway: records before and
    after each."""
    data = CORPUS_WARC.read_bytes()
    with open(CORPUS_WARC, "rb") as stream:
        iterator = ArchiveIterator(stream)
        offsets = [iterator.get_record_offset() for record in iterator if record.rec_type == "request"]
    middle = offsets[len(offsets) // 2]
    path.write_bytes(without_target_uri(1) + data[:middle] + without_target_uri(2) + data[middle:])
    return path


def test_a_record_without_target_uri_is_logged_counted_and_the_replay_goes_on(tmp_path):
    warc = corpus_with_records_without_uri(tmp_path / "mixed.warc.gz")
    replayed = scrapy("replay", str(warc), store=tmp_path / "store")
    assert "Traceback" not in replayed.stderr
    assert replayed.returncode == 0, replayed.stderr[-2000:]  # a page's error, while the others were stored
    record = replayed.run_record()
    assert record["articles_stored"] == len(corpus_truth()) and record["errors"] == {"unreadable_warc": 2}
    # the run record names each skipped record where a page's error names its URL
    assert [entry["archive"].split(": ")[0] for entry in record["urls"]["errors"]["unreadable_warc"]] == [str(warc)] * 2
    lines = [line for line in replayed.stderr.splitlines() if "has no WARC-Target-URI" in line]
    assert len(lines) == 2 and all(f"unreadable record skipped: {warc}: response record <urn:uuid:" in line
                                   for line in lines)

    # the other readers of an archive: one article of it, and any spider answered from it
    url = sorted(corpus_truth())[-1]
    extracted = scrapy("extract", str(warc), "--url", url, store=tmp_path / "unused")
    assert extracted.returncode == 0 and "Traceback" not in extracted.stderr, extracted.stderr[-2000:]
    assert extracted.stdout.startswith("---\n") and f"url: {url}" in extracted.stdout
    crawled = scrapy("crawl", "urls", "-a", f"urls={url}", store=tmp_path / "crawled",
                     settings={"REPLAY_WARC": str(warc)})
    assert crawled.returncode == 0 and "Traceback" not in crawled.stderr, crawled.stderr[-2000:]
    assert crawled.run_record()["errors"] == {"unreadable_warc": 2}
    assert all(entry["archive"].startswith(f"{warc}: response record <urn:uuid:")
               for entry in crawled.run_record()["urls"]["errors"]["unreadable_warc"])


def test_readers_of_the_archive_read_past_a_record_without_target_uri(tmp_path):
    from crawler.archive.replay import WarcIndex
    from pipelines.archive.wacz import cdxj_index, keep_whole_records

    warc = corpus_with_records_without_uri(tmp_path / "mixed.warc.gz")
    skipped: list[str] = []
    with open(warc, "rb") as stream:
        urls = {response.url for response in iter_exchanges(stream, skipped.append)}
    assert urls == set(corpus_truth()) and len(skipped) == 2
    assert skipped[0].startswith("response record <urn:uuid:") and skipped[0].endswith("has no WARC-Target-URI")
    index = WarcIndex([warc])
    assert len(index) == len(urls) and len(index.skipped) == 2
    captured: set[tuple[str, str]] = set()
    assert keep_whole_records(warc, captured) == ""  # no damage: the file stays as it is
    assert {url for url, _ in captured} == urls
    assert len(cdxj_index(warc).splitlines()) == len(urls)  # the two are left out of the index, not its end


def test_a_resource_record_without_target_uri_makes_no_index_line(tmp_path):
    # WARC 1.1 requires the URI on resource records too: the indexer took one for a capture keyed "-", with no url
    from warcio.warcwriter import WARCWriter

    from pipelines.archive.wacz import cdxj_index

    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    note = writer.create_warc_record("urn:x", "resource", payload=io.BytesIO(b"note"), warc_content_type="text/plain")
    note.rec_headers.remove_header("WARC-Target-URI")
    writer.write_record(note)
    warc = tmp_path / "notes.warc.gz"
    warc.write_bytes(CORPUS_WARC.read_bytes() + out.getvalue())
    lines = cdxj_index(warc).splitlines()
    assert not [line for line in lines if line.startswith("- ")]
    assert len(lines) == len(cdxj_index(CORPUS_WARC).splitlines())


def test_a_skipped_record_of_a_wacz_is_named_by_the_package_not_by_its_deleted_copy(tmp_path):
    # REPLAY_WARC (and `scrapy extract x.wacz`) reads a WACZ's WARCs from copies under STATE_DIR, deleted at the end
    (tmp_path / "w").mkdir()
    corpus_with_records_without_uri(tmp_path / "w" / "mixed.warc.gz")
    package = tmp_path / "out.wacz"
    assert scrapy("wacz", str(tmp_path / "w"), "-o", str(package), store=tmp_path / "unused").returncode == 0
    url = sorted(corpus_truth())[-1]
    done = scrapy("extract", str(package), "--url", url, store=tmp_path / "store")
    assert done.returncode == 0 and f"url: {url}" in done.stdout, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if "unreadable record skipped" in line]
    assert len(lines) == 2 and all("out.wacz" in line and "/replay-" not in line for line in lines), lines


def corpus_copies(path: Path, copies: int) -> int:
    """The corpus's article pages ``copies`` times over, each copy at URLs of its own: a replay that runs for a
    while. Returns the number of pages."""
    from pipelines.archive.writer import Exchange, exchange_records, warcinfo_record

    with open(CORPUS_WARC, "rb") as stream:
        pages = list(iter_exchanges(stream))
    with open(path, "wb") as out:
        out.write(warcinfo_record(path.name, {"software": "tests/test_warc_replay.py"}))
        for copy in range(copies):
            for page in pages:
                out.write(exchange_records(Exchange(
                    url=f"{page.url}{'&' if '?' in page.url else '?'}copy={copy}", site="corpus",
                    fetched=page.fetched, status=page.status, headers=page.headers, body=page.body, meta=page.meta,
                ), gzip_level=0))
    return copies * len(pages)


def test_a_second_signal_forces_the_replay_to_stop_and_it_fails(tmp_path):
    """Contract (docs/commands.md): a replay forced to stop by a second SIGINT or SIGTERM exits 1, and what it
    stored is whole: a crash never leaves a half-written file."""
    warc = tmp_path / "many.warc.gz"
    pages = corpus_copies(warc, copies=10)
    store = tmp_path / "store"
    replay = stopped_after_a_document(scrapy_command("replay", str(warc), store=store), store, forced=True)
    returncode, text = replay.returncode, replay.stderr
    assert returncode == 1, text[-3000:]
    assert "shutting down gracefully" in text and "forcing unclean shutdown" in text
    assert text.strip().splitlines()[-1].startswith("error: the replay was forced to stop (signalled twice)")
    (record,) = [json.loads(p.read_text()) for p in (store / "runs").glob("*.json")]
    assert record["finish_reason"] == "running"  # the replay never closed its record
    # every document in the store is whole (temporaries in .tmp/ are no one's to read), and so is every
    # manifest line; the replay did not get far
    documents = read_documents(store)
    assert 0 < len(documents) < pages
    assert all(meta["url"].startswith("http") and body.strip() for meta, body in documents.values())
    for manifest in (store / "manifest").glob("*.jsonl"):
        for line in manifest.read_text().splitlines():
            assert (store / json.loads(line)["key"]).is_file()


def test_an_older_capture_of_a_page_is_counted_not_dropped_silently(tmp_path):
    # a replay kept the newer text (right) but said nothing of the older capture it passed over
    from datetime import UTC, datetime

    from pipelines.archive.writer import Exchange, exchange_records, warcinfo_record

    with open(CORPUS_WARC, "rb") as stream:
        first, second = itertools.islice(iter_exchanges(stream), 2)
    url = "https://news.example/2026/01/council.html"

    def capture(page, day: int) -> bytes:
        return exchange_records(Exchange(url=url, site="news", fetched=datetime(2026, 1, day, 12, tzinfo=UTC),
                                         status=200, headers=page.headers, body=page.body, meta={"role": "article"}))

    both, older = tmp_path / "both.warc.gz", tmp_path / "older.warc.gz"
    both.write_bytes(warcinfo_record(both.name, {"software": "test"}) + capture(first, 2) + capture(second, 1))
    older.write_bytes(warcinfo_record(older.name, {"software": "test"}) + capture(second, 1))
    store = tmp_path / "store"
    replayed = scrapy("replay", str(both), store=store)  # the newer capture first, then the older one
    assert replayed.returncode == 0, replayed.stderr[-2000:]
    assert len(replayed.documents()) == 1 and replayed.run_record()["skipped"] == {"older_copy": 1}
    again = scrapy("replay", str(older), store=store)  # the store holds the newer text already
    record = again.run_record()
    assert again.returncode == 0 and record["articles_stored"] == 0 and record["skipped"] == {"older_copy": 1}


def test_a_corrupt_gzip_member_costs_its_record_and_the_replay_reads_on(tmp_path):
    # the first read error ended the file: every record after the damaged one was lost, with one count
    spans = corpus_responses()
    damaged = damaged_corpus(tmp_path / "damaged.warc.gz", [spans[10][0] + 100, spans[50][0] + 100])
    replayed = scrapy("replay", str(damaged), store=tmp_path / "store")
    record = replayed.run_record()
    assert replayed.returncode == 0 and record["articles_stored"] == 88, replayed.stderr[-2000:]
    assert record["errors"] == {"unreadable_warc": 2}
    assert sum("unreadable, read on after them: " in line for line in replayed.stderr.splitlines()) == 2


def test_the_bytes_of_a_broken_archive_are_quoted_as_escapes(tmp_path):
    # warcio quotes what it could not parse: raw gzip bytes in the log line and the run record (grep took the
    # log for a binary file)
    archive = tmp_path / "archive"
    archive.mkdir()
    data = bytearray(CORPUS_WARC.read_bytes())
    with open(CORPUS_WARC, "rb") as stream:
        iterator = ArchiveIterator(stream)
        offsets = [iterator.get_record_offset() for record in iterator if record.rec_type == "response"]
    middle = offsets[10] + 100  # 20 bytes of the 11th response's gzip member, flipped
    data[middle: middle + 20] = bytes(b ^ 0xFF for b in data[middle: middle + 20])
    (archive / "broken.warc.gz").write_bytes(bytes(data))
    replayed = scrapy("replay", str(archive), store=tmp_path / "store")
    lines = [line for line in replayed.stderr.splitlines() if "broken.warc.gz" in line]
    assert lines and all(line.isprintable() for line in lines), lines
    entries = replayed.run_record()["urls"]["errors"]["unreadable_warc"]
    assert entries and all(entry["archive"].isprintable() for entry in entries), entries


def test_an_empty_archive_file_is_named_and_the_replay_fails(tmp_path):
    # it replayed nothing, said nothing and exited 0, where a file of garbage is named and fails
    (tmp_path / "empty.warc.gz").write_bytes(b"")
    replayed = scrapy("replay", str(tmp_path / "empty.warc.gz"), store=tmp_path / "store")
    assert replayed.returncode == 1 and replayed.run_record()["errors"] == {"unreadable_warc": 1}
    assert "empty.warc.gz: the file is empty" in replayed.stderr


def test_a_gzip_member_broken_partway_is_our_one_line_not_warcios_noise(tmp_path):
    # warcio wrote "Error -3 while decompressing data: incorrect data check" to stderr once per 16 KB block
    # it read (hundreds of lines beside ours), and the record read as cut short
    start, length = max(corpus_responses(), key=lambda span: span[1])  # a member well past warcio's first block
    damaged = damaged_corpus(tmp_path / "damaged.warc.gz", [start + length // 2])
    replayed = scrapy("replay", str(damaged), store=tmp_path / "store")
    record = replayed.run_record()
    assert replayed.returncode == 0 and record["articles_stored"] == 89, replayed.stderr[-2000:]
    assert record["errors"] == {"unreadable_warc": 1}
    ours = [line for line in replayed.stderr.splitlines() if "Error -3" in line]
    assert len(ours) == 1 and "damaged.warc.gz: bytes " in ours[0], ours[:5]
    assert "read on after them: Error -3 while decompressing data" in ours[0]


def test_a_file_cut_short_in_a_records_headers_is_named_not_taken_for_its_end(tmp_path):
    # warcio takes a record cut in its WARC headers for the end of the file: the replay said nothing
    (tmp_path / "cut.warc.gz").write_bytes(CORPUS_WARC.read_bytes()[: corpus_responses()[40][0] + 300])
    replayed = scrapy("replay", str(tmp_path / "cut.warc.gz"), store=tmp_path / "store")
    record = replayed.run_record()
    assert record["articles_stored"] == 40 and record["errors"] == {"unreadable_warc": 1}, replayed.stderr[-2000:]
    assert "cut.warc.gz: bytes " in replayed.stderr and "the file ends inside a record" in replayed.stderr


@pytest.mark.parametrize("how", ["garbled", "long", "missing"])
def test_a_damaged_record_of_an_uncompressed_warc_costs_that_record_and_the_replay_reads_on(how, tmp_path):
    # the first read error ended the file: replay stored 44 of 90 articles. A payload that holds a WARC record
    # (an archived WARC file) after the damage is read as the payload it is, not as a capture
    damaged = damaged_plain_corpus(tmp_path / "damaged.warc", how)
    replayed = scrapy("replay", str(damaged), store=tmp_path / "store")
    record = replayed.run_record()
    assert replayed.returncode == 0 and record["articles_stored"] == 89, replayed.stderr[-2000:]
    assert record["errors"] == {"unreadable_warc": 1}
    (line,) = [line for line in replayed.stderr.splitlines() if "unreadable, read on after them: " in line]
    assert "damaged.warc: bytes " in line, line
    assert EMBEDDED_URL not in read_documents(tmp_path / "store")


def test_a_gzip_member_broken_in_its_header_is_named_a_corrupt_member_not_quoted(tmp_path):
    # its first bytes, where the gzip magic was, were quoted as the "first line" of a record: ['àt÷ÿÿÿÿÿýü\x13B$m…']
    damaged = damaged_corpus(tmp_path / "damaged.warc.gz", [corpus_responses()[10][0]])
    replayed = scrapy("replay", str(damaged), store=tmp_path / "store")
    record = replayed.run_record()
    assert record["articles_stored"] == 89 and record["errors"] == {"unreadable_warc": 1}, replayed.stderr[-2000:]
    (line,) = [line for line in replayed.stderr.splitlines() if "damaged.warc.gz: bytes " in line]
    assert "read on after them: a corrupt gzip member (it does not decompress)" in line, line
    assert "first line" not in line and line.isascii(), line
