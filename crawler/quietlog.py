"""The default log: the progress line, warnings, errors and the summary; Scrapy's start-up report on request."""

from __future__ import annotations

import logging

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
