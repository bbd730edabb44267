"""A JOBDIR duplicate filter that survives a crash: ``requests.seen`` holds requests done with.

Scrapy's filter writes a request's fingerprint to ``JOBDIR/requests.seen`` as
soon as the request is queued, through a buffered file, while the disk
queue itself is only consistent after a clean stop. After a crash the queue
is gone, but whatever part of ``requests.seen`` reached the disk still
filters those requests out: the resumed crawl never fetches them. Here a
fingerprint is written once the item of its response has left the pipeline
(stored, or dropped), flushed at once; the rest only at a clean close,
together with the queue Scrapy saves then.
A crawl rerun after a crash requests again whatever the queue lost; what
was already stored is skipped by the archive index (REVISIT_AFTER).

The disk queue itself (``JOBDIR/requests.queue``) is not to be trusted after
a crash: its state file is written at a clean stop only, so the resumed
crawl read the killed run's chunk files from their start, popped old entries
(pages fetched twice) and never reached the newest ones: a URL given to the
crawl was requested by neither run (measured: 909 of 910). A marker file
says a crawl of this JOBDIR is running; found at start, the previous run was
killed, and its queue goes: the spider yields its start requests again and
``requests.seen`` (requests done with) filters what is done.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import IO, Any

from scrapy import signals
from scrapy.dupefilters import RFPDupeFilter
from scrapy.utils.job import job_dir

logger = logging.getLogger(__name__)
RUNNING = "crawl.running"  # JOBDIR/crawl.running: a crawl of this JOBDIR is running (or was killed)

LENGTH_BYTES = 2  # requests.seen: each fingerprint as its 2-byte big-endian length, then its bytes


class ResumableDupeFilter(RFPDupeFilter):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.unsaved: set[bytes] = set()  # queued, not yet done with: written only at a clean close

    @classmethod
    def from_crawler(cls, crawler):
        directory = job_dir(crawler.settings)
        if directory:  # here, not in open(): Scrapy's scheduler loads the disk queue before it opens the filter
            discard_queue_of_a_killed_run(Path(directory))
        dupefilter = super().from_crawler(crawler)
        if dupefilter.file:
            for signal in (signals.item_scraped, signals.item_dropped):
                crawler.signals.connect(dupefilter.done, signal=signal)
        return dupefilter

    def request_seen(self, request) -> bool:
        if not self.file:
            return super().request_seen(request)
        fingerprint = self._fingerprint(request)
        if fingerprint in self._fingerprints:
            return True
        self._fingerprints.add(fingerprint)
        self.unsaved.add(fingerprint)
        return False

    def done(self, item: Any = None, response: Any = None, **kwargs: Any) -> None:
        request = getattr(response, "request", None)
        if request is None:
            return
        fingerprint = self._fingerprint(request)
        if fingerprint in self.unsaved and self.file:
            self.unsaved.discard(fingerprint)
            save(self.file, fingerprint)
            self.file.flush()

    def close(self, reason: str) -> None:
        if self.file:
            for fingerprint in self.unsaved:  # a clean stop: the queue holding these is saved too
                save(self.file, fingerprint)
            self.unsaved.clear()
            self.file.flush()
            Path(self.file.name).with_name(RUNNING).unlink(missing_ok=True)
        super().close(reason)


def save(file: IO[bytes], fingerprint: bytes) -> None:
    """Append one fingerprint to ``requests.seen`` as RFPDupeFilter writes them (and reads them at the next start)."""
    file.write(len(fingerprint).to_bytes(LENGTH_BYTES, "big") + fingerprint)


def discard_queue_of_a_killed_run(directory: Path) -> None:
    """Drop ``requests.queue`` when the last crawl of ``directory`` did not stop cleanly; mark this one running."""
    marker = directory / RUNNING
    queue = directory / "requests.queue"
    if marker.exists() and queue.exists():
        logger.warning("JOBDIR %s: the last crawl was killed; its request queue is not trusted and is dropped "
                       "(the start requests are made again, what was done is filtered)", directory)
        shutil.rmtree(queue)
    directory.mkdir(parents=True, exist_ok=True)
    marker.touch()
