"""SIGTERM / SIGINT for a crawl: stop gracefully at any moment, as Scrapy does once the crawl is going.

Scrapy's own handlers come too late and go too early for a crawl started by
a scheduler, which may signal it at any time: a signal while the spider is
being opened stopped the reactor under the half-open crawl (no closing run
record, exit code 0), and one after the reactor stopped killed the process
(exit code -15, after a complete crawl). Here one handler covers the whole
run: the first signal closes the spider with reason ``shutdown`` as soon as
the engine runs (requests in flight finish, items are stored, the run
record is closed); a second forces the reactor to stop, as in Scrapy, and
:attr:`GracefulStop.forced` tells the command that the run failed: its last
writes may be unfinished and its run record still says ``running``.
"""

from __future__ import annotations

import logging
import signal
from typing import Any

from scrapy.utils.defer import deferred_from_coro

logger = logging.getLogger(__name__)

SIGNALS = (signal.SIGTERM, signal.SIGINT)
POLL = 0.1  # seconds between looks at a starting engine


class GracefulStop:
    def __init__(self, crawler: Any):
        self.crawler = crawler
        self.received = 0
        self.waiting = False
        self.forced = False  # a second signal stopped the reactor under the crawl

    def install(self) -> GracefulStop:
        """Call before the crawl starts, and start the process with ``install_signal_handlers=False``."""
        from twisted.internet import reactor

        for signum in SIGNALS:
            signal.signal(signum, self.on_signal)
        reactor.callWhenRunning(setattr, self, "reactor_started", True)
        return self

    reactor_started = False

    def on_signal(self, signum: int, frame: Any) -> None:
        from twisted.internet import reactor

        if not reactor.running and (self.reactor_started or self.received):
            return  # the crawl is over, or a stop is already queued for when it starts
        self.received += 1
        # logging and Scrapy calls belong to the reactor thread, not to a signal handler
        if self.received == 1:
            reactor.callFromThread(self.stop, signal.Signals(signum).name)
        else:
            reactor.callFromThread(self.force, signal.Signals(signum).name)

    def stop(self, name: str) -> None:
        from twisted.internet import reactor

        engine = getattr(self.crawler, "engine", None)
        if engine is not None and engine.running:
            logger.info("Received %s, shutting down gracefully. Send again to force", name)
            deferred_from_coro(self.crawler.stop_async())
            return
        if engine is not None and not self.crawler.crawling:
            return  # finished or stopping already
        if not self.waiting:
            logger.info("Received %s while starting: the crawl stops as soon as it runs", name)
            self.waiting = True
        if reactor.running:
            # Twisted types the reactor as zope interfaces, whose methods mypy reads without self (no mypy-zope)
            reactor.callLater(POLL, self.stop, name)  # type: ignore[arg-type]

    def force(self, name: str) -> None:
        from twisted.internet import reactor

        logger.info("Received %s twice, forcing unclean shutdown", name)
        if reactor.running:
            self.forced = True
            reactor.stop()  # type: ignore[misc]  # zope interface method, as callLater above
