"""One short line per item event: never an article's HTML or text in the log."""

from __future__ import annotations

import logging

from scrapy import logformatter


def _describe(item) -> str:
    return getattr(item, "key", "") or getattr(item, "url", "") or type(item).__name__


class ArchiveLogFormatter(logformatter.LogFormatter):
    def scraped(self, item, response, spider):
        return {"level": logging.DEBUG, "msg": "stored %(item)s", "args": {"item": _describe(item)}}

    def dropped(self, item, exception, response, spider):
        return {"level": logging.INFO, "msg": "not stored: %(reason)s", "args": {"reason": exception}}

    def item_error(self, item, exception, response, spider):
        return {"level": logging.ERROR, "msg": "error processing %(item)s", "args": {"item": _describe(item)}}
