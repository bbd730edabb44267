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
        # a stage says how much a drop matters (DropItem's log_level): a page that is no article is
        # routine (DEBUG), one that failed is a warning; counted and listed in the run record either way
        level = getattr(exception, "log_level", None) or logging.INFO
        level = getattr(logging, level) if isinstance(level, str) else level
        return {"level": level, "msg": "not stored: %(reason)s", "args": {"reason": exception}}

    def item_error(self, item, exception, response, spider):
        return {"level": logging.ERROR, "msg": "error processing %(item)s", "args": {"item": _describe(item)}}
