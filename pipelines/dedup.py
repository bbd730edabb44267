"""Dedup: is a document new, unchanged, or a new revision of what the archive holds?

An article whose body is unchanged writes nothing; a changed body becomes a
new revision and the previous text is kept under ``revisions/``.
"""

from __future__ import annotations

import logging
from typing import Any

from pipelines import runtime
from pipelines.document.render import render
from pipelines.item import Document
from pipelines.storage.index import ArchiveIndex, Known

logger = logging.getLogger(__name__)


def archive_index(crawler: Any) -> ArchiveIndex:
    """The crawl's index, shared by the spider (revisit policy) and the store stage."""

    def make() -> ArchiveIndex:
        index = ArchiveIndex.for_store(runtime.storage(crawler), crawler.settings.get("STATE_DIR"))
        logger.debug("archive index: %d articles known in %s", len(index), runtime.storage(crawler).uri)
        return index

    return runtime.shared(crawler, "archive_index", make)


def classify(document: Document, known: Known | None, output_format: str) -> Document:
    """Mark a document new, unchanged or revised against what the archive holds."""
    if known is None:
        document.status = "new"
    elif known.body_sha256 == document.body_sha256:
        document.status = "unchanged"
        document.revision = known.revision
    else:
        document.status = "revised"
        document.revision = known.revision + 1
        document.previous_key = known.key
        render(document, output_format)
    return document
