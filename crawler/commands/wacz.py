"""``scrapy wacz <warc dir | store | s3://bucket/prefix[/warc]> -o FILE.wacz``: the archive as one WACZ 1.1.1 file.

The package opens in ReplayWeb.page and pywb as it is: the WARC files, their
CDXJ index, and ``pages/pages.jsonl`` listing every stored article (its URL as
fetched, the time of its archived response, its title) from the store's
manifests. Given a directory of WARCs without a store around it, the pages
are the archived article responses instead. A stored article whose response
is not in these WARCs is left out of the list and counted.

A damaged WARC file (a corrupt gzip member, cut short) is packaged with the records that read whole, as
replay reads it; a file with none (empty, no WARC) is left out. Each is named in one line on stderr.

SIGTERM stops it as Ctrl-C does: no package, and the temporary copies of the WARC files (as large as
the archive) are removed.

Exit codes: 0 written, 1 written without what damaged files lost (or nothing: every file damaged, or
stopped), 2 a user's mistake (no WARC there, the one file named is no WARC, no -o FILE.wacz).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy.exceptions import UsageError

from crawler.cli import EXIT_FAILED, ProjectCommand
from crawler.errors import ConfigError
from pipelines.archive.files import WACZ_SUFFIX, is_archive
from pipelines.archive.reader import READ_ERRORS
from pipelines.archive.wacz import (
    archive_pages,
    keep_whole_records,
    manifest_pages,
    write_wacz,
)
from pipelines.report.runlog import printable
from pipelines.storage import Storage, storage_from_settings


class Command(ProjectCommand):
    requires_crawler_process = False

    def syntax(self) -> str:
        return "[options] <warc dir | store dir | s3://bucket/prefix> -o FILE.wacz"

    def short_desc(self) -> str:
        return "Package the archive as a WACZ file (WARCs, CDXJ index, the stored articles as pages)"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("-o", "--output", default="", help="the WACZ file to write")
        parser.add_argument("--title", default="", help="the package's title (default: the location)")

    def run_checked(self, args: list[str], opts: Any) -> None:
        previous = signal.signal(signal.SIGTERM, _stop)  # as Ctrl-C: the temporary directory is removed on the way out
        try:
            self.package(args, opts)
        except KeyboardInterrupt:
            sys.stderr.write("error: stopped before the package was written: nothing written\n")
            self.exitcode = EXIT_FAILED
        finally:
            signal.signal(signal.SIGTERM, previous)

    def package(self, args: list[str], opts: Any) -> None:
        if len(args) != 1:
            raise UsageError("give one WARC directory, store directory or s3:// prefix")
        if not opts.output.endswith(WACZ_SUFFIX):
            raise UsageError("-o FILE.wacz: where to write the package")
        storage, warc_prefix, root = locate(args[0], self.settings)
        one_file = is_archive(warc_prefix)
        if one_file:
            keys = [warc_prefix] if not warc_prefix.endswith(WACZ_SUFFIX) else []
        else:
            keys = sorted(k for k in storage.list(warc_prefix) if is_archive(k) and not k.endswith(WACZ_SUFFIX))
        if not keys:
            raise FileNotFoundError(f"{args[0]}: no WARC files there")
        target = Path(opts.output)
        with folder_of_copies(target.resolve().parent) as tmp:
            warcs, damaged = [], []
            captured: set[tuple[str, str]] = set()
            for key in keys:  # each file checked here, so that a damaged one is named
                warc = copy_out(storage, key, tmp / archive_name(key, warc_prefix))
                try:
                    if problem := keep_whole_records(warc, captured):
                        damaged.append(f"{storage.describe(key)}: damaged WARC file, {printable(problem)}")
                    warcs.append(warc)
                except READ_ERRORS as exc:
                    unreadable = f"{storage.describe(key)}: not a readable WARC file ({printable(str(exc))})"
                    if one_file:  # the one file named is no WARC: the user's mistake (a folder's one file: damage)
                        raise ConfigError(unreadable) from exc
                    damaged.append(f"{unreadable}: left out")
            for line in damaged:
                sys.stderr.write(f"error: {line}\n")
            if not warcs:
                sys.stderr.write("error: nothing packaged: every WARC file there is damaged\n")
                self.exitcode = EXIT_FAILED
                return
            if root is None:
                pages, missing = archive_pages(warcs), 0
            else:
                manifests = [k for k in sorted(storage.list(join(root, "manifest"))) if k.endswith(".jsonl")]
                # a manifest gone since it was listed has no lines (as for report and browse)
                lines = [json.loads(line) for key in manifests
                         for line in (storage.get(key) or b"").decode("utf-8").splitlines() if line]
                pages, missing = manifest_pages(lines, captured)
            partial = tmp / "package.wacz"
            with open(partial, "wb") as out:
                write_wacz(out, warcs, pages, title=opts.title or args[0])
            os.replace(partial, target)  # a reader never sees half a package
        sys.stdout.write(f"wrote {target}: {len(warcs)} WARC file(s), {len(captured)} captures, {len(pages)} pages\n")
        if missing:
            sys.stderr.write(f"warning: {missing} stored article(s) have no archived response in these WARC files "
                             "(archived elsewhere, or crawled with ARCHIVE_ENABLED off): not listed as pages\n")
        if damaged:  # what could be read is packaged; the package is not the whole archive
            self.exitcode = EXIT_FAILED


def _stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@contextmanager
def folder_of_copies(parent: Path) -> Iterator[Path]:
    """The folder beside the package that the WARC files are copied into, removed however the packing ends.

    Its name is chosen before it is made, and it is made inside the ``try``: with mkdtemp and
    TemporaryDirectory, a stop that came between making the folder and owning it left the copies behind,
    as large as the archive. A second Ctrl-C or SIGTERM waits until the folder is gone.
    """
    folder = parent / f"wacz-{uuid.uuid4().hex}"
    try:
        folder.mkdir(mode=0o700)
        yield folder
    finally:
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            shutil.rmtree(folder, ignore_errors=True)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)


def locate(location: str, settings: Any) -> tuple[Storage, str, str | None]:
    """(storage, prefix of the WARC files, prefix of the store root or None when there is no store around them)."""
    if "://" not in location or location.startswith("file://"):
        path = Path(location.removeprefix("file://")).expanduser()
        if path.is_file():
            return storage_from_settings(settings, str(path.parent.resolve())), path.name, None
        if not path.is_dir():
            raise FileNotFoundError(f"{location}: no such directory")
        base, prefix = str(path.resolve()), ""
        if (path / "warc").is_dir():
            return storage_from_settings(settings, base), "warc", ""
        if path.name == "warc":
            return storage_from_settings(settings, str(path.resolve().parent)), "warc", ""
        return storage_from_settings(settings, base), prefix, None
    parts = urlsplit(location)
    storage = storage_from_settings(settings, f"{parts.scheme}://{parts.netloc}")
    prefix = parts.path.strip("/")
    if any(True for _ in storage.list(join(prefix, "warc"))):
        return storage, join(prefix, "warc"), prefix
    if prefix.rsplit("/", 1)[-1] == "warc":
        return storage, prefix, prefix.rpartition("/")[0]
    return storage, prefix, None


def join(prefix: str, name: str) -> str:
    return f"{prefix}/{name}" if prefix else name


def archive_name(key: str, warc_prefix: str) -> str:
    """``warc/<site>/<run>-<n>.warc.gz`` -> ``<site>-<run>-<n>.warc.gz``: one flat folder, no two names alike."""
    relative = key[len(warc_prefix):].lstrip("/") if key.startswith(warc_prefix) else key
    return relative.replace("/", "-") or Path(key).name


def copy_out(storage: Storage, key: str, path: Path) -> Path:
    with storage.open_read(key) as source, open(path, "wb") as handle:
        while chunk := source.read(1024 * 1024):
            handle.write(chunk)
    return path
