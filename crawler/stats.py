"""StatsCollector: Scrapy's in-memory stats collector, without its per-read deprecation shim.

Scrapy 2.19's collector overrides ``__getattribute__``: every attribute read,
its own ``self._stats`` inside each method included, first looks for a cached
wrapper (an AttributeError raised and caught), and each counter call goes
through a wrapper that warns about the deprecated ``spider`` argument. At a
dozen counters per page that was 3.7% of the crawl process's CPU. The methods
are Scrapy's and still accept ``spider``; only the warning is gone.
"""

from __future__ import annotations

from scrapy.statscollectors import MemoryStatsCollector


class StatsCollector(MemoryStatsCollector):
    __getattribute__ = object.__getattribute__
