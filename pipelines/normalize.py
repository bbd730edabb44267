"""Normalize stage: an :class:`Article` becomes a :class:`Document` (:mod:`pipelines.document.render`)."""

from __future__ import annotations

from pipelines.document.render import FORMATS, check_site_key, to_document
from pipelines.item import Article


class NormalizePipeline:
    """Article in, Document out, in ``OUTPUT_FORMAT``."""

    def __init__(self, output_format: str):
        if output_format not in FORMATS:
            raise ValueError(f"OUTPUT_FORMAT={output_format!r}: expected one of {', '.join(FORMATS)}")
        self.output_format = output_format

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.get("OUTPUT_FORMAT"))

    def process_item(self, item):
        if not isinstance(item, Article):
            return item
        check_site_key(item.site.key)
        return to_document(item, self.output_format, rendered=False)  # rendered once dedup has its revision
