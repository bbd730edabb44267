"""Selective replay from indexes (pipelines.archive.select): which records a replay reads, and its units of work.

The archives here are small real WARC files written by the crawl's own writer, with dates and sites chosen
per record, and CDXJ indexes made by cdxj-indexer, the way ARCHIVE_CDXJ makes them.
"""

from __future__ import annotations

import itertools
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.archive.files import ReadCounter, archive_files, index_name
from pipelines.archive.reader import iter_exchanges
from pipelines.archive.select import Selection, Unit, date_bound, file_captures, parse_cdxj, plan_units, published_pages
from pipelines.archive.wacz import archive_pages, cdxj_index, write_cdxj_beside, write_wacz
from pipelines.archive.writer import Exchange, exchange_records, warcinfo_record
from pipelines.storage.local import LocalStorage
from pipelines.storage.s3 import S3Options, S3Storage
from tests.helpers import CORPUS_WARC, FIXTURES

DAYS = [datetime(2026, 1, day, 12, 0, tzinfo=UTC) for day in range(1, 9)]


def corpus_pages(count: int) -> list:
    with open(CORPUS_WARC, "rb") as stream:
        pages = []
        for response in iter_exchanges(stream):
            pages.append(response)
            if len(pages) == count:
                return pages
    return pages


def write_warc(path: Path, site: str, dates: list[datetime]) -> list[str]:
    """A WARC of one article per date (real corpus pages under made-up URLs); returns the URLs in file order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    urls, data = [], warcinfo_record(path.name, {"software": "test"})
    for number, (page, date) in enumerate(zip(corpus_pages(len(dates)), dates)):
        url = f"https://{site}.example/news/{number}-{date:%d}.html"
        urls.append(url)
        data += exchange_records(Exchange(url=url, site=site, fetched=date, status=200, headers=page.headers,
                                          body=page.body, meta={"role": "article"}))
    path.write_bytes(data)
    return urls


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """warc/alpha/ (two files, indexed) and warc/beta/ (one file, no index), as a store keeps them."""
    root = tmp_path_factory.mktemp("select") / "store"
    storage = LocalStorage(root)
    write_warc(root / "warc/alpha/a-00000.warc.gz", "alpha", DAYS[:5])
    write_warc(root / "warc/alpha/a-00001.warc.gz", "alpha", DAYS[5:])
    write_warc(root / "warc/beta/b-00000.warc.gz", "beta", DAYS[:4])
    for key in ("warc/alpha/a-00000.warc.gz", "warc/alpha/a-00001.warc.gz"):
        write_cdxj_beside(storage, key)
    return root


def files_of(store: Path) -> list:
    return list(archive_files(str(store / "warc"), None))


def read_units(units: list[Unit], files: list, counter: ReadCounter | None = None) -> list[str]:
    """The URLs of every response the units hold, reading each unit as replay does."""
    by_name = {file.name: file for file in files}
    urls = []
    for unit in units:
        file = by_name[unit.file]
        for start, end in unit.spans or [(0, None)]:
            opened = file.open(counter) if not unit.spans else file.open_range(start, end, counter)
            with opened as stream:
                urls += [response.url for response in iter_exchanges(stream)]
    return urls


def all_urls(files: list) -> list[str]:
    return read_units([Unit(file.name) for file in files], files)


def indexed(file, counter=None):
    return file_captures(file, build=False, counter=counter)


def test_everything_is_one_unit_per_file_read_whole(store):
    files = files_of(store)
    units = plan_units(files, Selection(), None, indexed)
    assert units == [Unit(file.name) for file in files]
    assert [file.site for file in files] == ["alpha", "alpha", "beta"]


def test_a_site_is_its_files_and_nothing_else_is_read(store):
    files = files_of(store)
    counter = ReadCounter()
    units = plan_units(files, Selection(sites=frozenset({"beta"})), None, indexed)
    urls = read_units(units, files, counter)
    assert urls == [url for url in all_urls(files) if "//beta." in url] and len(urls) == 4
    assert counter.bytes == (store / "warc/beta/b-00000.warc.gz").stat().st_size


def test_fetch_dates_select_byte_spans_that_hold_those_records_only(store):
    files = files_of(store)[:2]  # alpha's, indexed
    selection = Selection(fetched_since=date_bound("2026-01-02"), fetched_until=date_bound("2026-01-03", upper=True))
    counter = ReadCounter()
    units = plan_units(files, selection, None, indexed)
    assert len(units) == 1 and len(units[0].spans) == 1  # two records side by side: one read
    urls = read_units(units, files, counter)
    assert urls == [url for url in all_urls(files) if url.endswith(("-02.html", "-03.html"))]
    assert counter.bytes == units[0].bytes() < files[0].size() / 2
    # records apart in the file: one span each, still one unit
    apart = Selection(url=r"-0[15]\.html$")
    (unit,) = plan_units(files, apart, None, indexed)
    assert len(unit.spans) == 2 and unit.records == 2
    assert read_units([unit], files) == [url for url in all_urls(files) if url.endswith(("-01.html", "-05.html"))]


def test_a_file_without_an_index_is_indexed_once_and_its_index_saved_beside_it(store, tmp_path):
    beta = store / "warc/beta/b-00000.warc.gz"
    (file,) = [f for f in files_of(store) if f.site == "beta"]
    assert file_captures(file, build=False) is None
    counter = ReadCounter()
    captures = file_captures(file, build=True, counter=counter)
    assert counter.bytes == beta.stat().st_size  # read whole, once
    index = beta.with_name(index_name(beta.name))
    assert index.read_text() == cdxj_index(beta)  # what cdxj-indexer writes, where ARCHIVE_CDXJ puts it
    assert [c.url for c in captures] == all_urls([file])
    again = ReadCounter()
    assert file_captures(file, build=True, counter=again) == captures
    assert again.bytes == index.stat().st_size  # the next selection reads the index only
    index.unlink()


def test_a_large_file_is_cut_into_units_that_hold_each_record_once(store):
    files = files_of(store)[:1]
    size = files[0].size()
    units = plan_units(files, Selection(), size // 3, indexed)
    assert len(units) >= 3
    assert units[0].spans[0][0] == 0 and units[-1].spans[-1][1] is None  # the whole file, the warcinfo included
    assert all(a.spans[-1][1] == b.spans[0][0] for a, b in itertools.pairwise(units))  # no gap, no overlap
    assert read_units(units, files) == all_urls(files)
    assert sum(unit.bytes(size) for unit in units) == size
    assert sum(unit.records for unit in units) == 5
    assert len({unit.id for unit in units}) == len(units)
    assert [Unit.from_json(unit.as_json()) for unit in units] == units


def test_a_large_file_without_an_index_stays_one_unit(store):
    (beta,) = [f for f in files_of(store) if f.site == "beta"]
    assert plan_units([beta], Selection(), 100, indexed) == [Unit(beta.name)]


def test_publication_dates_come_from_the_manifest_lines(store):
    files = files_of(store)[:2]
    urls = all_urls(files)
    lines = [{"url": f"{url}?canonical", "fetched_url": url, "fetched": f"2026-01-0{n + 1}T12:00:00Z",
              "date": f"2025-12-{n + 10:02d}-08-00-00"} for n, url in enumerate(urls)]
    lines.append({"url": "https://x.example/no-date", "fetched": "2026-01-01T12:00:00Z", "date": ""})
    selection = Selection(published_since=date_bound("2025-12-12"), published_until=date_bound("2025-12-13", True))
    published = published_pages(lines, selection.published_since, selection.published_until)
    assert published == {(urls[2], "20260103120000"), (urls[3], "20260104120000")}
    units = plan_units(files, selection, None, indexed, published)
    assert read_units(units, files) == urls[2:4]


def test_a_file_with_revisits_is_read_whole(tmp_path):
    warc = tmp_path / "commoncrawl.warc.gz"
    warc.write_bytes((FIXTURES / "foreign" / "commoncrawl.warc.gz").read_bytes())
    warc.with_name(index_name(warc.name)).write_text(cdxj_index(warc))
    (file,) = archive_files(str(warc), None)
    captures = indexed(file)
    assert any(capture.revisit for capture in captures)
    assert plan_units([file], Selection(url="."), None, indexed) == [Unit(file.name, records=len(captures))]
    assert plan_units([file], Selection(url="^nothing$"), None, indexed) == []


def test_the_reads_of_a_wacz_member_are_counted_too():
    (member,) = archive_files(str(FIXTURES / "foreign" / "capture_http.wacz"), None)
    counter = ReadCounter()
    urls = read_units([Unit(member.name)], [member], counter)
    assert urls and member.size() is None and member.ranger is None  # read whole: the zip may deflate it
    assert counter.bytes > 0


def test_a_warc_is_indexed_as_it_is_read_with_no_copy_first():
    warc = FIXTURES / "foreign" / "commoncrawl.warc.gz"
    with warc.open("rb") as stream:  # as a store's download is read: once, start to end
        assert cdxj_index(stream, filename=warc.name) == cdxj_index(warc)
    with warc.open("rb") as stream, pytest.raises(ValueError, match="file name"):
        cdxj_index(stream)


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_wacz_in_a_store_is_read_in_place_with_no_download(tmp_path, moto_s3, monkeypatch, compression):
    for name, value in moto_s3.env().items():
        monkeypatch.setenv(name, value)
    warcs = [FIXTURES / "foreign" / "capture_http.warc.gz", FIXTURES / "corpus" / "corpus.warc.gz"]  # 4 KB, 3 MB
    package = tmp_path / "two.wacz"
    with package.open("wb") as target:
        write_wacz(target, warcs, archive_pages(warcs))
    if compression == zipfile.ZIP_DEFLATED:  # packages made by other tools may deflate their WARCs
        with zipfile.ZipFile(package) as made, zipfile.ZipFile(tmp_path / "deflated.wacz", "w", compression) as out:
            for info in made.infolist():
                out.writestr(info.filename, made.read(info))
        package = tmp_path / "deflated.wacz"

    class CountedS3(S3Storage):  # S3 as it is, with its whole downloads and its ranged reads counted
        downloads = 0
        ranged: list[int] = []

        def open_read(self, key):
            CountedS3.downloads += 1
            return super().open_read(key)

        def open_range(self, key, start, end=None):
            CountedS3.ranged.append((end or self.size(key)) - start)
            return super().open_range(key, start, end)

    storage = CountedS3(f"s3://{moto_s3.create_bucket()}/news", tmp_path / "spool", S3Options(max_attempts=2))
    storage.put("warc/two.wacz", package.read_bytes())
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where a download would go
    members = list(archive_files("s3://bucket/news/warc/two.wacz", lambda location: (storage, "warc/two.wacz")))
    assert [m.name.rsplit("#", 1)[1] for m in members] == [f"archive/{w.name}" for w in warcs]
    listed, listing_gets = sum(CountedS3.ranged), len(CountedS3.ranged)
    assert listed < package.stat().st_size / 2  # the zip's directory, at its end: not the package
    for member, warc in zip(members, warcs, strict=True):
        with member.open() as stream:
            assert stream.read() == warc.read_bytes()
    # a replay lists every package before it reads any, and a shared replay's workers each read a few
    # members: nothing is downloaded whole, nothing is kept on local disk
    assert CountedS3.downloads == 0 and not any(scratch.iterdir())
    if compression == zipfile.ZIP_STORED:  # as WACZ packages store WARCs: each member's own bytes, no more
        assert sum(CountedS3.ranged) - listed < sum(w.stat().st_size for w in warcs) + 200
        assert len(CountedS3.ranged) - listing_gets == 2 * len(warcs)  # its header, then all of it at once
    else:  # read through zipfile, at most RANGE_BYTES ahead and never past the package's end
        assert sum(CountedS3.ranged) < 2 * package.stat().st_size


def test_an_encrypted_member_of_a_stored_package_is_refused_not_read_as_ciphertext(tmp_path, moto_s3, monkeypatch):
    for name, value in moto_s3.env().items():
        monkeypatch.setenv(name, value)
    warc = FIXTURES / "foreign" / "wget.warc.gz"
    with zipfile.ZipFile(tmp_path / "p.wacz", "w") as made:  # stored, as WACZ packages are
        made.write(warc, f"archive/{warc.name}")
    package = bytearray((tmp_path / "p.wacz").read_bytes())
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # the local and the central header
        at = package.index(signature) + flags_at
        package[at] |= 0x1  # "encrypted"
    storage = S3Storage(f"s3://{moto_s3.create_bucket()}/news", tmp_path / "spool", S3Options(max_attempts=2))
    storage.put("warc/p.wacz", bytes(package))
    (member,) = archive_files("s3://bucket/news/warc/p.wacz", lambda location: (storage, "warc/p.wacz"))
    with pytest.raises(RuntimeError, match="encrypted"), member.open() as stream:
        stream.read()


@pytest.mark.parametrize("content", [b"", b"PK\x05", b"<html>an error page</html>"])
def test_a_stored_package_that_is_no_zip_is_one_line(tmp_path, moto_s3, monkeypatch, content):
    for name, value in moto_s3.env().items():
        monkeypatch.setenv(name, value)
    storage = S3Storage(f"s3://{moto_s3.create_bucket()}/news", tmp_path / "spool", S3Options(max_attempts=2))
    storage.put("warc/broken.wacz", content)  # an upload cut short, a few bytes: shorter than a zip's end record
    with pytest.raises(FileNotFoundError, match=r"broken\.wacz: not a WACZ package"):
        list(archive_files("s3://bucket/news/warc/broken.wacz", lambda location: (storage, "warc/broken.wacz")))


def test_a_broken_wacz_is_named_in_one_line(tmp_path):
    (tmp_path / "broken.wacz").write_bytes(b"not a zip")
    with pytest.raises(FileNotFoundError, match=r"broken\.wacz: not a WACZ package"):
        list(archive_files(str(tmp_path), None))


def test_dates_on_the_command_line():
    assert date_bound("2026-01-31") == datetime(2026, 1, 31, tzinfo=UTC)
    assert date_bound("2026-01-31", upper=True) == datetime(2026, 2, 1, tzinfo=UTC)  # the whole day
    assert date_bound("2026-01-31T12:30:00+02:00", upper=True) == datetime(2026, 1, 31, 10, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="expected a date"):
        date_bound("last week")


def test_cdxj_lines_that_are_not_captures_are_skipped():
    data = (b'com,example)/b 20260101000000 {"url": "https://example.com/b", "offset": "900", "mime": "text/html"}\n'
            b"!meta 0 not json\n"
            b'com,example)/a 20260101000000 {"url": "https://example.com/a", "offset": "10", "mime": "warc/revisit"}\n')
    assert [(c.url, c.offset, c.revisit) for c in parse_cdxj(data)] == [
        ("https://example.com/a", 10, True), ("https://example.com/b", 900, False)]
