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
"""

from __future__ import annotations

from typing import Any

from scrapy import signals
from scrapy.dupefilters import RFPDupeFilter

LENGTH_BYTES = 2  # requests.seen: each fingerprint as its 2-byte big-endian length, then its bytes


class ResumableDupeFilter(RFPDupeFilter):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.unsaved: set[bytes] = set()  # queued, not yet done with: written only at a clean close

    @classmethod
    def from_crawler(cls, crawler):
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
            self._save(fingerprint)
            self.file.flush()

    def close(self, reason: str) -> None:
        if self.file:
            for fingerprint in self.unsaved:  # a clean stop: the queue holding these is saved too
                self._save(fingerprint)
            self.unsaved.clear()
        super().close(reason)

    def _save(self, fingerprint: bytes) -> None:
        self.file.write(len(fingerprint).to_bytes(LENGTH_BYTES, "big") + fingerprint)
