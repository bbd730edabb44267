"""Retries with backoff, honouring Retry-After.

Scrapy's RetryMiddleware retries at once. A server that answers 429 or 503
is asking for time: this waits what its Retry-After says (capped), or an
exponential backoff for other retryable failures, without blocking the
reactor (the wait is an asyncio sleep inside the download's coroutine).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request, Response

logger = logging.getLogger(__name__)


def retry_after_seconds(value: str | bytes | None, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_seconds(attempt: int, base: float, cap: float) -> float:
    return min(cap, base * (2 ** max(0, attempt)))


class RetryAfterMiddleware(RetryMiddleware):
    def __init__(self, settings):
        super().__init__(settings)
        self.backoff_base = settings.getfloat("RETRY_BACKOFF_BASE")
        self.backoff_max = settings.getfloat("RETRY_BACKOFF_MAX")
        self.retry_after_max = settings.getfloat("RETRY_AFTER_MAX")

    # Scrapy calls a downloader middleware's methods as coroutines, and without ``spider``, as documented
    # (topics/coroutines); RetryMiddleware's annotations describe its own, synchronous ones
    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        result = super().process_response(request, response)
        if isinstance(result, Request):
            asked = retry_after_seconds(response.headers.get(b"Retry-After"))
            if asked is not None:
                delay = min(asked, self.retry_after_max)
                self.crawler.stats.inc_value("retry/retry_after")
            else:
                delay = backoff_seconds(request.meta.get("retry_times", 0), self.backoff_base, self.backoff_max)
            await self._wait(delay, request)
        return result

    async def process_exception(  # type: ignore[override]  # a coroutine too, as process_response
        self, request: Request, exception: Exception
    ) -> Request | Response | None:
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await self._wait(
                backoff_seconds(request.meta.get("retry_times", 0), self.backoff_base, self.backoff_max), request
            )
        return result

    async def _wait(self, delay: float, request: Request) -> None:
        if delay > 0:
            logger.debug("retrying %s in %.1f s", request.url, delay)
            await asyncio.sleep(delay)
