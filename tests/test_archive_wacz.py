"""``scrapy wacz``: the archive as one WACZ 1.1.1 file that `wacz validate` accepts and pywb replays, listing
every stored article; and ARCHIVE_CDXJ, a CDXJ index beside each WARC file."""

from __future__ import annotations

import argparse
import gzip
import json
import re
import shutil
import signal
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from scrapy.settings import Settings
from warcio.archiveiterator import ArchiveIterator

from crawler.commands.wacz import Command as WaczCommand
from pipelines.archive.reader import iter_exchanges
from tests.helpers import (
    CORPUS_WARC,
    ROOT,
    Crawl,
    corpus_responses,
    damaged_corpus,
    damaged_plain_corpus,
    decoded_body,
    scrapy,
    scrapy_command,
)
from tests.record import PAGES
from tests.servers.archive_tools import Wayback, run_tool
from tests.test_warc_replay import same_tree

FOREIGN = Path(__file__).parent / "fixtures" / "foreign"


def wacz(*args: str, tmp: Path) -> Crawl:
    return scrapy("wacz", *args, store=tmp / "unused-store")


def manifest_pages(crawl: Crawl) -> dict[tuple[str, str], str]:
    lines = [json.loads(line) for path in sorted((crawl.store / "manifest").glob("*.jsonl"))
             for line in path.read_text().splitlines()]
    return {(line.get("fetched_url") or line["url"], line["fetched"]): line["title"] for line in lines}


def package_pages(path: Path) -> list[dict]:
    with zipfile.ZipFile(path) as package:
        lines = package.read("pages/pages.jsonl").decode().splitlines()
    assert json.loads(lines[0])["format"] == "json-pages-1.0"
    return [json.loads(line) for line in lines[1:]]


def test_a_stores_wacz_validates_lists_every_stored_article_and_replays_in_pywb(sitemap_crawl, tmp_path):
    target = tmp_path / "crawl.wacz"
    done = wacz(str(sitemap_crawl.store), "-o", str(target), tmp=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    validation = run_tool("wacz", "validate", "-f", str(target))
    assert validation.returncode == 0 and "Validation succeeded" in validation.stdout, validation.stdout[-2000:]

    pages = package_pages(target)
    expected = manifest_pages(sitemap_crawl)
    assert len(expected) == len(sitemap_crawl.documents()) == 90
    assert {(p["url"], p["ts"]): p["title"] for p in pages} == expected

    responses = [r for path in sorted((sitemap_crawl.store / "warc").rglob("*.warc.gz"))
                 for r in iter_exchanges(path.open("rb"))]
    with zipfile.ZipFile(target) as package:
        index = gzip.decompress(package.read("indexes/index.cdx.gz")).decode().splitlines()
        assert package.getinfo(package.namelist()[2]).compress_type == zipfile.ZIP_STORED  # readers seek in WARCs
    assert len(index) == len(responses)  # one capture per response: the metadata records are not captures

    bodies = {(r.url, r.fetched.strftime("%Y%m%d%H%M%S")): r for r in responses}
    with Wayback(tmp_path / "pywb", [target]) as wayback:
        for page in pages:
            timestamp = page["ts"].replace("-", "").replace(":", "").replace("T", "").rstrip("Z")
            status, _, body = wayback.raw(page["url"], timestamp)
            archived = bodies[(page["url"], timestamp)]
            assert status == 200 and body in (decoded_body(archived), archived.body), page["url"]


def test_a_warc_folder_of_a_store_gives_the_same_pages_and_replay_reads_the_package_back(sitemap_crawl, tmp_path):
    target = tmp_path / "warc.wacz"
    assert wacz(str(sitemap_crawl.store / "warc"), "-o", str(target), tmp=tmp_path).returncode == 0
    assert {(p["url"], p["ts"]) for p in package_pages(target)} == set(manifest_pages(sitemap_crawl))
    replay = scrapy("replay", str(target), store=tmp_path / "replayed")
    assert replay.returncode == 0, replay.stderr[-2000:]
    assert same_tree(sitemap_crawl.store / "articles", tmp_path / "replayed" / "articles")


def test_a_store_in_s3_is_packed_from_s3(sitemap_crawl, moto_s3, tmp_path):
    bucket = moto_s3.create_bucket()
    for path in sitemap_crawl.store.rglob("*"):
        if path.is_file() and path.relative_to(sitemap_crawl.store).parts[0] in ("warc", "manifest"):
            moto_s3.client().upload_file(str(path), bucket, f"news/{path.relative_to(sitemap_crawl.store).as_posix()}")
    target = tmp_path / "s3.wacz"
    done = scrapy("wacz", f"s3://{bucket}/news/warc", "-o", str(target), store=tmp_path / "unused", env=moto_s3.env())
    assert done.returncode == 0, done.stderr[-2000:]
    assert {(p["url"], p["ts"]) for p in package_pages(target)} == set(manifest_pages(sitemap_crawl))


def test_warcs_without_a_store_list_their_html_pages(tmp_path):
    target = tmp_path / "wget.wacz"
    assert wacz(str(FOREIGN / "wget.warc.gz"), "-o", str(target), tmp=tmp_path).returncode == 0
    expected = json.loads((FOREIGN / "expected.json").read_text())["wget.warc.gz"]
    assert sorted(p["url"] for p in package_pages(target)) == sorted(expected)
    assert run_tool("wacz", "validate", "-f", str(target)).returncode == 0


def test_mistakes_are_one_line_and_exit_2(tmp_path):
    no_output = wacz(str(FOREIGN / "wget.warc.gz"), tmp=tmp_path)
    assert no_output.returncode == 2 and "-o FILE.wacz" in no_output.stderr
    (tmp_path / "empty").mkdir()
    empty = wacz(str(tmp_path / "empty"), "-o", str(tmp_path / "x.wacz"), tmp=tmp_path)
    assert empty.returncode == 2 and empty.stderr.strip().splitlines()[-1].endswith("no WARC files there")
    assert not (tmp_path / "x.wacz").exists()
    (tmp_path / "corrupt.warc.gz").write_bytes(b"garbage\n")  # the one file named is not a WARC at all
    corrupt = wacz(str(tmp_path / "corrupt.warc.gz"), "-o", str(tmp_path / "x.wacz"), tmp=tmp_path)
    assert corrupt.returncode == 2, corrupt.stderr[-2000:]
    assert corrupt.stderr.startswith(f"error: {tmp_path / 'corrupt.warc.gz'}: not a readable WARC file")
    assert corrupt.stderr.count("\n") == 1
    assert not (tmp_path / "x.wacz").exists() and not list(tmp_path.glob("wacz-*"))  # no package, no leftovers


def damaged_copies(folder: Path) -> dict[str, int]:
    """Copies of the corpus WARC (90 articles), damaged as copies and disks damage files, in ``folder`` beside a
    sound WARC of another tool's; the articles each still holds whole."""
    data = CORPUS_WARC.read_bytes()
    spans = corpus_responses()
    big = next(number for number in range(20, 90) if spans[number][1] > 60000)  # more than warcio's 16 KB block
    folder.mkdir()
    (folder / "sound.warc.gz").write_bytes((FOREIGN / "wget.warc.gz").read_bytes())
    (folder / "cut-in-headers.warc.gz").write_bytes(data[: spans[40][0] + 300])  # a copy cut short
    (folder / "cut-in-payload.warc.gz").write_bytes(data[: spans[60][0] + spans[60][1] // 2])
    # a gzip member broken at its start, one broken partway
    damaged_corpus(folder / "corrupt.warc.gz", [spans[10][0] + 100, spans[big][0] + 40000])
    plain = gzip.decompress(data)  # an uncompressed WARC cut short in the 70th response's payload
    (folder / "cut-plain.warc").write_bytes(plain[: [m.start() for m in re.finditer(rb"WARC-Type: response\r\n",
                                                                                    plain)][69] + 5000])
    (folder / "empty.warc.gz").write_bytes(b"")
    (folder / "no-warc.warc.gz").write_bytes(b"<html><p>a page saved under the wrong name</p></html>\n" * 20)
    return {"cut-in-headers.warc.gz": 40, "cut-in-payload.warc.gz": 60, "corrupt.warc.gz": 88, "cut-plain.warc": 69}


def test_damaged_warc_files_are_packed_as_replay_reads_them_named_and_the_package_validates(tmp_path):
    # one damaged file among good ones packaged nothing (exit 2), and one cut short was packaged without a word
    folder = tmp_path / "warcs"
    kept = damaged_copies(folder)
    target = tmp_path / "x.wacz"
    done = wacz(str(folder), "-o", str(target), tmp=tmp_path)
    assert done.returncode == 1, done.stderr[-3000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 6 and all(line.startswith("error: ") for line in lines), lines
    for name in kept:
        (line,) = [line for line in lines if f"{folder / name}:" in line]
        assert "damaged WARC file" in line and "unreadable" in line, line
    corrupt = next(line for line in lines if "corrupt.warc.gz" in line)
    assert corrupt.count("unreadable, read on after them") == 2
    assert "damaged WARC file, 269 whole records packed" in corrupt, corrupt  # the two responses only
    for name in ("empty", "no-warc"):
        (line,) = [line for line in lines if f"{folder / name}.warc.gz:" in line]
        assert "not a readable WARC file" in line and line.endswith("left out"), line
    assert "Error -3" not in done.stderr.replace("read on after them: Error -3", "")  # no warcio noise
    assert done.stdout.startswith(f"wrote {target}: 5 WARC file(s)")

    validation = run_tool("wacz", "validate", "-f", str(target))
    assert validation.returncode == 0 and "Validation succeeded" in validation.stdout, validation.stdout[-2000:]
    pages = package_pages(target)
    assert len(pages) == sum(kept.values()) + 3  # every article read whole, and the sound file's 3 pages
    with zipfile.ZipFile(target) as package:
        assert sorted(n for n in package.namelist() if n.startswith("archive/")) == [
            f"archive/{name}" for name in sorted([*kept, "sound.warc.gz"])]
    replayed = scrapy("replay", str(target), store=tmp_path / "replayed")  # the package reads back whole
    assert replayed.returncode == 0 and replayed.run_record()["errors"] == {}, replayed.stderr[-2000:]
    with open(CORPUS_WARC, "rb") as stream:
        last = list(iter_exchanges(stream))[-1]  # after both corrupt members
    with Wayback(tmp_path / "pywb", [target]) as wayback:
        status, _, body = wayback.raw(last.url, last.fetched.strftime("%Y%m%d%H%M%S"))
    assert status == 200 and body in (decoded_body(last), last.body)


def test_a_folder_of_damaged_files_only_packages_nothing_and_fails(tmp_path):
    folder = tmp_path / "warcs"
    folder.mkdir()
    (folder / "empty.warc.gz").write_bytes(b"")
    (folder / "no-warc.warc").write_bytes(b"not a WARC\n")
    done = wacz(str(folder), "-o", str(tmp_path / "x.wacz"), tmp=tmp_path)
    assert done.returncode == 1 and done.stderr.strip().splitlines()[-1] == (
        "error: nothing packaged: every WARC file there is damaged"), done.stderr[-2000:]
    assert not (tmp_path / "x.wacz").exists() and not list(tmp_path.glob("wacz-*"))


def test_archive_cdxj_writes_an_index_beside_each_warc_file(site, tmp_path):
    crawl = scrapy("crawl", "sitemap", "-a", f"url={site.url('/sitemap.xml')}", "-a", "limit=5",
                   store=tmp_path / "store", settings={"ARCHIVE_CDXJ": "true"})
    assert crawl.returncode == 0, crawl.stderr[-2000:]
    for warc in (tmp_path / "store" / "warc").rglob("*.warc.gz"):
        index = warc.with_name(warc.name.removesuffix(".warc.gz") + ".cdxj").read_text().splitlines()
        responses = list(iter_exchanges(warc.open("rb")))
        assert len(index) == len(responses) > 5
        assert {json.loads(line.split(" ", 2)[2])["filename"] for line in index} == {warc.name}
    assert crawl.run_record()["errors"] == {}


def test_metadata_records_of_older_archives_are_no_captures_either(tmp_path):
    """Archives written before the metadata records became warc-fields have JSON ones; the index leaves them out."""
    old = [path for path in sorted(PAGES.glob("*/*/page.warc.gz"))
           if any(r.rec_type == "metadata" and r.rec_headers.get_header("Content-Type") == "application/json"
                  for r in ArchiveIterator(path.open("rb")))]
    assert old
    target = tmp_path / "old.wacz"
    assert wacz(str(old[0]), "-o", str(target), tmp=tmp_path).returncode == 0
    with zipfile.ZipFile(target) as package:
        index = gzip.decompress(package.read("indexes/index.cdx.gz")).decode().splitlines()
    assert [json.loads(line.split(" ", 2)[2])["mime"] for line in index] == ["text/html"]


def test_a_gzip_warc_damaged_in_its_first_member_packs_every_other_record_readable(tmp_path):
    # its first bytes are no gzip magic any more: the records kept were written as uncompressed ones, each
    # followed by CRLF CRLF between gzip members, and pywb and wacz validate read one capture of 90
    folder = tmp_path / "warcs"
    folder.mkdir()
    damaged_corpus(folder / "corpus.warc.gz", [0])  # the warcinfo record's gzip header
    target = tmp_path / "x.wacz"
    done = wacz(str(folder), "-o", str(target), tmp=tmp_path)
    assert done.returncode == 1 and "damaged WARC file" in done.stderr, done.stderr[-2000:]
    validation = run_tool("wacz", "validate", "-f", str(target))
    assert validation.returncode == 0 and "Validation succeeded" in validation.stdout, validation.stdout[-2000:]
    assert len(package_pages(target)) == 90
    with zipfile.ZipFile(target) as package:
        assert len(gzip.decompress(package.read("indexes/index.cdx.gz")).decode().splitlines()) == 90


def test_a_warc_gzipped_whole_is_named_with_its_cure_not_packed_cut(tmp_path):
    # one gzip stream for all records, as `gzip file.warc` writes it: was called damaged and cut to its first
    # record (an offset read from the wrong stream: a package of garbage and a traceback, or "[Errno 22]")
    plain = gzip.decompress(CORPUS_WARC.read_bytes())
    second = plain.index(b"WARC/1.", 10)
    for name, data in (("whole.warc.gz", plain), ("no-warcinfo.warc.gz", plain[second:])):
        (tmp_path / name).write_bytes(gzip.compress(data))
        done = wacz(str(tmp_path / name), "-o", str(tmp_path / "x.wacz"), tmp=tmp_path)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr[-2000:]
        assert "records share a gzip member" in done.stderr and "warcio recompress" in done.stderr
        assert not (tmp_path / "x.wacz").exists()


def test_a_last_record_with_a_short_content_length_is_packed_unchanged(tmp_path):
    # warcio reads past the bytes a miscounted Content-Length leaves after a record of an uncompressed file, and
    # so does replay; after the last record they were taken for a record cut short, and the file repacked
    plain = gzip.decompress((FOREIGN / "wget.warc.gz").read_bytes())
    last = plain.rindex(b"WARC/1.")
    length = re.compile(rb"\r\nContent-Length: (\d+)\r\n").search(plain, last)
    assert length
    quirk = plain[: length.start(1)] + str(int(length.group(1)) - 8).encode() + plain[length.end(1):]
    (tmp_path / "wget.warc").write_bytes(quirk)
    target = tmp_path / "x.wacz"
    done = wacz(str(tmp_path / "wget.warc"), "-o", str(target), tmp=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    with zipfile.ZipFile(target) as package:
        assert package.read("archive/wget.warc") == quirk


def test_a_folder_whose_one_file_is_empty_fails_as_damage_not_as_a_mistake(tmp_path):
    folder = tmp_path / "warcs"
    folder.mkdir()
    (folder / "a.warc.gz").write_bytes(b"")  # exit 2 ("a user's mistake") only because the folder held one file
    done = wacz(str(folder), "-o", str(tmp_path / "x.wacz"), tmp=tmp_path)
    assert done.returncode == 1, done.stderr[-2000:]
    assert done.stderr.strip().splitlines()[-1] == "error: nothing packaged: every WARC file there is damaged"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_packing_stopped_by_a_signal_leaves_no_package_and_no_copies(signum, tmp_path):
    # the WARC files are copied into a temporary directory beside the package first: as large as the archive
    folder = tmp_path / "warcs"
    folder.mkdir()
    for n in range(20):  # seconds of work: the signal comes while the copies are there
        shutil.copy(CORPUS_WARC, folder / f"crawl-{n:02d}.warc.gz")
    command = scrapy_command("wacz", str(folder), "-o", str(tmp_path / "x.wacz"), store=tmp_path / "store")
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while not list(tmp_path.glob("wacz-*")) and process.poll() is None:
        time.sleep(0.01)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 1, stderr[-2000:]
    assert stderr == "error: stopped before the package was written: nothing written\n"
    assert not (tmp_path / "x.wacz").exists() and not list(tmp_path.glob("wacz-*"))


def test_a_stop_as_the_folder_of_copies_is_made_leaves_no_copies(tmp_path, monkeypatch, capsys):
    # the signal above can come just after the folder is made (with mkdtemp and TemporaryDirectory, before
    # anything owned it: the test above met it once under load); the folder goes all the same, another's stays
    folder = tmp_path / "warcs"
    folder.mkdir()
    shutil.copy(CORPUS_WARC, folder / "crawl.warc.gz")
    (tmp_path / "wacz-of-another-run").mkdir()
    make, made = Path.mkdir, []

    def made_then_stopped(path, *args, **kwargs):
        make(path, *args, **kwargs)
        if path.name.startswith("wacz-"):
            made.append(path)
            raise KeyboardInterrupt  # what the command's SIGTERM handler raises

    monkeypatch.setattr(Path, "mkdir", made_then_stopped)
    command = WaczCommand()
    command.settings = Settings()
    command.settings.setmodule("settings.base")
    try:
        command.run_checked([str(folder)], argparse.Namespace(output=str(tmp_path / "x.wacz"), title=None))
    except KeyboardInterrupt:
        pytest.fail("the stop escaped the command")
    assert [path.parent for path in made] == [tmp_path]
    assert command.exitcode == 1
    assert capsys.readouterr().err == "error: stopped before the package was written: nothing written\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["wacz-of-another-run", "warcs"]


def test_uncompressed_warc_files_damaged_in_a_middle_record_pack_every_other_record_and_validate(tmp_path):
    # the first read error ended each file: 135 of its 271 records packed, 44 of its 90 pages listed
    folder = tmp_path / "warcs"
    folder.mkdir()
    for how in ("garbled", "long", "missing"):
        damaged_plain_corpus(folder / f"{how}.warc", how)
    target = tmp_path / "x.wacz"
    done = wacz(str(folder), "-o", str(target), tmp=tmp_path)
    assert done.returncode == 1, done.stderr[-3000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 3 and all(line.count("unreadable, read on after them") == 1 for line in lines), lines
    assert done.stdout.startswith(f"wrote {target}: 3 WARC file(s), 89 captures, {3 * 89} pages"), done.stdout
    validation = run_tool("wacz", "validate", "-f", str(target))
    assert validation.returncode == 0 and "Validation succeeded" in validation.stdout, validation.stdout[-2000:]
    with zipfile.ZipFile(target) as package:
        index = gzip.decompress(package.read("indexes/index.cdx.gz")).decode().splitlines()
        copies = [package.read(f"archive/{how}.warc") for how in ("garbled", "long", "missing")]
    # each file's 89 responses and the resource that holds an archived WARC file, not the record inside it
    assert len(index) == 3 * 90 and not any("embedded.example" in line for line in index)
    # the corpus records but the damaged one, the resource, and the record held in it
    assert [copy.count(b"WARC/1.1\r\n") for copy in copies] == [270 + 1 + 1] * 3
    replayed = scrapy("replay", str(target), store=tmp_path / "replayed")  # the repaired copies read back whole
    assert replayed.returncode == 0 and replayed.run_record()["errors"] == {}, replayed.stderr[-2000:]
