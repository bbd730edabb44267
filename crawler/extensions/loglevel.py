"""SkipUnloggedRecords: a log call below every handler's level costs nothing again.

Scrapy sets the root logger to NOTSET and its own "scrapy" logger to DEBUG,
and filters in the root handler: each DEBUG call (a "Crawled (200)" and a
"stored" line per page) builds a full record, looks up its caller and hands
it to a handler that drops it, 10 microseconds each in the one process that
downloads and archives. Raising those loggers to the lowest level a root
handler writes drops such calls at the first check; what is written is
unchanged. Where a handler takes everything (pytest's log capture, a user's
NOTSET handler), the levels stay as Scrapy sets them.
"""

from __future__ import annotations

import logging


def lowest_handled_level(logger: logging.Logger) -> int:
    """The lowest level some handler of ``logger`` writes; NOTSET when one takes everything or none is set."""
    levels = [handler.level for handler in logger.handlers]
    return min(levels) if levels and all(levels) else logging.NOTSET


def skip_unlogged_records() -> None:
    lowest = lowest_handled_level(logging.root)
    logging.root.setLevel(lowest)  # NOTSET where a handler takes everything: as Scrapy leaves it
    scrapy_logger = logging.getLogger("scrapy")
    # set both ways: an earlier crawler in this process may have raised it; DEBUG is Scrapy's "all through"
    if not scrapy_logger.handlers and scrapy_logger.propagate:
        scrapy_logger.setLevel(lowest or logging.DEBUG)


class SkipUnloggedRecords:
    def __init__(self):
        # extensions are built after Scrapy (re)installs its root handler for this crawler's LOG_LEVEL
        skip_unlogged_records()

    @classmethod
    def from_crawler(cls, crawler):
        return cls()


# Scrapy's loggers that report its start-up (versions, settings, components) and its stats dump at INFO
SCRAPY_STARTUP_LOGGERS = ("scrapy.utils.log", "scrapy.crawler", "scrapy.middleware", "scrapy.addons",
                          "scrapy.core.engine", "scrapy.statscollectors", "scrapy.extensions.telnet")


def quiet_scrapy_startup(log_level: str | int, verbose: bool = False) -> None:
    """The default log is the progress line, warnings, errors and the summary table.

    Scrapy's own start-up report and stats dump (150 lines before a summary) show with
    ``-v`` or at ``LOG_LEVEL=DEBUG``; their warnings and errors always do. A filter, not a
    level: Scrapy's logging set-up resets the levels of loggers it finds, never their filters.
    """
    level = logging.getLevelName(log_level) if isinstance(log_level, str) else log_level
    if verbose or not isinstance(level, int) or level <= logging.DEBUG:
        return
    for name in SCRAPY_STARTUP_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, WarningsOnly) for f in logger.filters):
            logger.addFilter(WarningsOnly())


class WarningsOnly(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING
