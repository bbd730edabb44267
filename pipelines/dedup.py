"""Dedup stage: is a document new, unchanged, or a new revision of what the archive holds?

The stage owns the crawl's archive index (:class:`pipelines.storage.index.ArchiveIndex`,
opened from the store's manifests when the spider opens); the spider asks it
which URLs are fresh (``REVISIT_AFTER``) and the store stage records what it
wrote in it. An article whose body is unchanged writes nothing; a changed
body becomes a new revision and the previous text is kept under
``revisions/``. The store stage looks again under the URL's lock before it
writes (:meth:`pipelines.store.ArticleStore.save`): another copy of the same
article may have been stored meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from typing import Any

from pipelines.item import Document
from pipelines.storage import Storage, storage_from_settings
from pipelines.storage.index import ArchiveIndex, IndexBusy, Known

logger = logging.getLogger(__name__)


def open_index(storage: Storage, state_dir: str | Path) -> ArchiveIndex:
    """The archive index of a store, its cache under ``state_dir`` brought up to date from the store."""
    index = ArchiveIndex.for_store(storage, state_dir)
    logger.debug("archive index: %d articles known in %s", len(index), storage.uri)
    return index


def classify(document: Document, known: Known | None) -> Document:
    """Mark a document new, unchanged or revised against what the archive holds."""
    document.known = known
    if known is None:
        document.status = "new"
    elif known.body_sha256 == document.body_sha256:
        document.status = "unchanged"
        document.revision = known.revision
    else:
        document.status = "revised"
        document.revision = known.revision + 1
        document.previous_key = known.key
    return document


class DedupPipeline:
    """Marks each document new, unchanged or revised; owns the archive index the spider and the store share."""

    def __init__(self, storage: Storage, state_dir: str):
        self.storage = storage
        self.state_dir = state_dir
        self._index: ArchiveIndex | None = None
        self._opening = threading.Lock()  # the store stage's open_spider asks for it at the same time as this one

    @classmethod
    def from_crawler(cls, crawler: Any) -> DedupPipeline:
        return cls(storage_from_settings(crawler.settings), crawler.settings.get("STATE_DIR"))

    @property
    def index(self) -> ArchiveIndex:
        """Opened at the first need (the spider's first revisit check, or when the spider opens)."""
        with self._opening:
            if self._index is None:
                self._index = open_index(self.storage, self.state_dir)
        return self._index

    async def open_spider(self) -> None:
        await asyncio.to_thread(lambda: self.index)

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, Document):
            index = self.index
            # inline: the round trip to a thread cost the crawl process more than the query itself (6.22 -> 5.74
            # ms of its CPU a page, median of 4 interleaved pairs of 2,700-page crawls, bench/RESULTS.md)
            try:
                known = index.lookup(item.url, wait=False)
            except IndexBusy:  # a store thread is committing: wait for it off the reactor
                known = await asyncio.to_thread(index.lookup, item.url)
            classify(item, known)
        return item
