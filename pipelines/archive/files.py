"""Where an archive's WARC files are, and how to read them: whole, a byte range, or the CDXJ index beside each.

A location is a WARC file, a directory, a store URI prefix (``s3://bucket/prefix/warc``) or a WACZ package
(local or in a store), which gives each WARC it holds. What replay needs beyond opening a file is here: its
size and its site (a store keeps ``warc/<site>/<file>``), bytes ``[start, end)`` of it (a local seek, or one
ranged GET on S3), and the CDXJ index written beside it (``ARCHIVE_CDXJ``, or by a selective replay). A
WACZ member is read whole: its package's index is for the package, and the zip may deflate it. Every read
can be counted (:class:`ReadCounter`), so that a replay says how many bytes it read.
"""

from __future__ import annotations

import errno
import io
import struct
import threading
import zipfile
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, Any, BinaryIO

from pipelines.storage.local import read_range

WARC_SUFFIXES = (".warc.gz", ".warc")
WACZ_SUFFIX = ".wacz"
INDEX_SUFFIX = ".cdxj"


def is_archive(name: str) -> bool:
    return name.endswith((*WARC_SUFFIXES, WACZ_SUFFIX))


def index_name(warc: str) -> str:
    """``x.warc.gz`` -> ``x.cdxj``: where a WARC file's CDXJ index lives (pipelines.archive.wacz writes it)."""
    return warc.removesuffix(".gz").removesuffix(".warc") + INDEX_SUFFIX


def site_of(parts: list[str]) -> str:
    """The site of a store's ``warc/<site>/<file>`` (path parts); "" for a file kept anywhere else."""
    return parts[-2] if len(parts) >= 3 and parts[-3] == "warc" else ""


class ReadCounter:
    """Bytes read from an archive, by every stream it counts; thread-safe (the replay reads in threads)."""

    def __init__(self) -> None:
        self.bytes = 0
        self._lock = threading.Lock()

    def add(self, count: int) -> None:
        with self._lock:
            self.bytes += count

    def wrap(self, stream: BinaryIO) -> CountedStream:
        return CountedStream(stream, self)


class CountedStream:
    """A stream whose reads are added to a :class:`ReadCounter` (``read`` and ``readline``: what warcio calls)."""

    def __init__(self, stream: BinaryIO, counter: ReadCounter):
        self.stream = stream
        self.counter = counter

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size) if size is not None and size >= 0 else self.stream.read()
        self.counter.add(len(data))
        return data

    def readline(self, size: int = -1) -> bytes:
        data = self.stream.readline(size)
        self.counter.add(len(data))
        return data

    def __getattr__(self, name: str) -> Any:  # close, seekable, seek, tell: a revisit's capture is read again
        return getattr(self.stream, name)

    def __enter__(self) -> CountedStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass
class ArchiveFile:
    """One WARC file of a location, named as messages name it (a path, ``s3://bucket/key``, ``package#member``)."""

    name: str
    opener: Callable[[], Any]  # the whole file, as a stream (a context manager)
    site: str = ""  # from warc/<site>/<file>; "" when the file is not kept in a store's layout
    sizer: Callable[[], int | None] = field(default=lambda: None, repr=False)
    ranger: Callable[[int, int | None], BinaryIO] | None = field(default=None, repr=False)  # None: read whole only
    indexer: Callable[[], bytes | None] = field(default=lambda: None, repr=False)  # the CDXJ beside it, if any
    index_saver: Callable[[bytes], str] | None = field(default=None, repr=False)  # writes one beside it
    indexed: bool = False  # a CDXJ index is beside it (as listed: no request)
    _size: int | None = field(default=None, init=False, repr=False)

    def open(self, counter: ReadCounter | None = None) -> Any:
        stream = self.opener()
        if counter is None:
            return stream
        return counter.wrap(stream) if hasattr(stream, "read") else _counted(stream, counter)

    def open_range(self, start: int, end: int | None, counter: ReadCounter | None = None) -> Any:
        """Bytes ``[start, end)``; the whole file for a file that cannot be read in parts."""
        if self.ranger is None:
            return self.open(counter)
        stream = self.ranger(start, end)
        return counter.wrap(stream) if counter else stream

    def size(self) -> int | None:
        if self._size is None:
            self._size = self.sizer()
        return self._size

    def index(self, counter: ReadCounter | None = None) -> bytes | None:
        data = self.indexer()
        if data is not None and counter:
            counter.add(len(data))
        return data


def archive_files(location: str, storage_opener: Any) -> Iterator[ArchiveFile]:
    """The WARC files at a file, a directory or a store URI prefix, sorted by name; a WACZ gives each WARC it holds.

    ``storage_opener(location)`` gives ``(storage, key prefix)`` for a URI (not called for a local path).
    """
    if "://" not in location or location.startswith("file://"):
        path = Path(location.removeprefix("file://"))
        if path.is_file():
            files = [path]
        elif path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and is_archive(p.name))
        else:
            raise FileNotFoundError(f"{location}: no such WARC file or directory")
        for file in files:
            if file.name.endswith(WACZ_SUFFIX):
                yield from _wacz_members(str(file), partial(open, file, "rb"))
            else:
                yield _local_file(file)
        return
    storage, prefix = storage_opener(location)
    listed = [prefix] if is_archive(prefix) else list(storage.list(prefix))
    indexes = {key for key in listed if key.endswith(INDEX_SUFFIX)}
    for key in sorted(key for key in listed if is_archive(key)):
        if key.endswith(WACZ_SUFFIX):
            yield from _wacz_members(storage.describe(key), partial(open_ranged, storage, key),
                                     partial(_stored_member, storage, key))
        else:
            yield _stored_file(storage, key, index_name(key) in indexes)


def warc_sources(location: str, storage_opener: Any) -> Iterator[tuple[str, Any]]:
    """(name, opener) of each WARC at a location (:func:`archive_files`, for readers that read files whole)."""
    for file in archive_files(location, storage_opener):
        yield file.name, file.opener


def _local_file(path: Path) -> ArchiveFile:
    index = path.with_name(index_name(path.name))

    def save_index(data: bytes) -> str:
        tmp = index.with_name(f".{index.name}.tmp")
        tmp.write_bytes(data)
        tmp.replace(index)  # atomic: a reader never sees half an index
        return str(index)

    return ArchiveFile(
        name=str(path),
        opener=partial(open, path, "rb"),
        site=site_of(list(path.parts)),
        sizer=lambda: path.stat().st_size,
        ranger=partial(read_range, path),
        indexer=lambda: index.read_bytes() if index.is_file() else None,
        index_saver=save_index,
        indexed=index.is_file(),
    )


def _stored_file(storage: Any, key: str, indexed: bool) -> ArchiveFile:
    index = index_name(key)

    def save_index(data: bytes) -> str:
        storage.put(index, data, "text/plain; charset=utf-8")
        return storage.describe(index)

    return ArchiveFile(
        name=storage.describe(key),
        opener=lambda: storage.open_read(key),
        site=site_of(key.split("/")),
        sizer=lambda: storage.size(key),
        ranger=partial(storage.open_range, key),
        indexer=(lambda: storage.get(index)) if indexed else (lambda: None),
        index_saver=save_index,
        indexed=indexed,
    )


def _wacz_members(name: str, opener: Callable[[], Any],
                  stored_opener: Callable[[int, int, bytes], BinaryIO] | None = None) -> Iterator[ArchiveFile]:
    """The WARCs of a WACZ package (``archive/*.warc.gz``), each opened as a stream of the zip.

    ``stored_opener(header_offset, size, name)`` opens a member the zip stores uncompressed (as WACZ
    packages do) by its own bytes in the package; without it, or for a deflated or encrypted member,
    zipfile reads it (and refuses what it cannot).
    """
    try:
        with opener() as handle, zipfile.ZipFile(handle) as package:
            members = sorted((m for m in package.infolist()
                              if m.filename.startswith("archive/") and m.filename.endswith(WARC_SUFFIXES)),
                             key=lambda m: m.filename)
    except zipfile.BadZipFile as exc:  # one line for the user, as for a WACZ without WARC files
        raise FileNotFoundError(f"{name}: not a WACZ package (a zip file): {exc}") from None
    if not members:
        raise FileNotFoundError(f"{name}: a WACZ without WARC files (archive/*.warc.gz)")
    for member in members:
        member_opener: Callable[[], Any]
        if stored_opener is not None and member.compress_type == zipfile.ZIP_STORED and not member.flag_bits & 0x1:
            raw_name = member.orig_filename.encode("utf-8" if member.flag_bits & 0x800 else "cp437", "replace")
            member_opener = partial(stored_opener, member.header_offset, member.compress_size, raw_name)
        else:
            member_opener = partial(_zip_member, opener, member.filename)
        yield ArchiveFile(name=f"{name}#{member.filename}", opener=member_opener)


@contextmanager
def _counted(opened: Any, counter: ReadCounter) -> Iterator[CountedStream]:
    """A stream opened as a context manager (a zip's member), counted."""
    with opened as stream:
        yield counter.wrap(stream)


@contextmanager
def _zip_member(opener: Callable[[], Any], member: str) -> Iterator[IO[bytes]]:
    with opener() as handle, zipfile.ZipFile(handle) as package, package.open(member) as stream:
        yield stream


RANGE_BYTES = 8 * 1024 * 1024  # bytes a ranged GET reads ahead while a zip's member is read


def open_ranged(storage: Any, key: str, start: int = 0, size: int | None = None) -> BinaryIO:
    """A stored object (or its ``size`` bytes from ``start``) as a seekable file whose reads are ranged GETs
    (:class:`RangedObject`), buffered: at most :data:`RANGE_BYTES` are read ahead, never past its end."""
    if size is None:
        size = storage.size(key)
        if size is None:
            raise FileNotFoundError(f"{storage.describe(key)}: no such object")
    return io.BufferedReader(RangedObject(storage, key, size, start), max(1, min(RANGE_BYTES, size)))


_LOCAL_HEADER = struct.Struct("<4s22xHH")  # a zip entry's local header: signature, …, name and extra lengths


def _stored_member(storage: Any, key: str, header_offset: int, size: int, name: bytes) -> BinaryIO:
    """A member a zip stores uncompressed, read as its own bytes in the package: a seek within it (a
    revisit's original) is one ranged GET, where zipfile rereads the member from its start."""
    end = header_offset + _LOCAL_HEADER.size + len(name)
    with closing(storage.open_range(key, header_offset, end)) as stream:
        header = stream.read()
    if header[:4] != b"PK\x03\x04" or header[_LOCAL_HEADER.size:] != name:  # as zipfile checks
        raise OSError(f"{storage.describe(key)}: no zip entry {name.decode('utf-8', 'replace')} at byte "
                      f"{header_offset} (the package is damaged or changed)")
    _, name_length, extra_length = _LOCAL_HEADER.unpack(header[: _LOCAL_HEADER.size])
    return open_ranged(storage, key, header_offset + _LOCAL_HEADER.size + name_length + extra_length, size)


class RangedObject(io.RawIOBase):
    """A stored object read in place, each read one ranged GET: what a zip needs, which seeks.

    A WACZ in a store is listed from its end (the zip's directory: a few small reads) and each WARC in it
    is read from its own bytes, with no download of the package to local disk: a replay lists every
    package before it reads any, and a shared replay's workers each read a few members of each.
    """

    def __init__(self, storage: Any, key: str, size: int, start: int = 0):
        self.storage = storage
        self.key = key
        self.size = size  # bytes from ``start``: the object's, or a member's
        self.start = start
        self.position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        if base + offset < 0:  # an OSError, as a file gives: zipfile reads a too-short package as no zip so
            raise OSError(errno.EINVAL, f"negative seek position {base + offset}")
        self.position = base + offset
        return self.position

    def readall(self) -> bytes:
        """The rest in one GET (RawIOBase's own reads 8 KB at a time)."""
        buffer = bytearray(max(0, self.size - self.position))
        return bytes(buffer[: self.readinto(buffer)]) if buffer else b""

    def readinto(self, buffer: Any) -> int:
        end = min(self.position + len(buffer), self.size)
        if end <= self.position:
            return 0
        with closing(self.storage.open_range(self.key, self.start + self.position, self.start + end)) as stream:
            data = stream.read()
        if len(data) != end - self.position:
            raise OSError(f"{self.storage.describe(self.key)}: {len(data)} bytes read at "
                          f"{self.start + self.position}, {end - self.position} expected (the object changed?)")
        buffer[: len(data)] = data
        self.position = end
        return len(data)
