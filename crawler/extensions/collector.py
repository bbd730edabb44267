"""CollectLess: the crawl process's cycle collector stops rescanning what lives for the whole run.

Python's collector runs every 700 new container objects, and every tenth
pass rescans the older ones: each module, class and setting Scrapy loaded.
A crawl allocates a few hundred containers per page (requests, responses,
Deferreds, coroutines): 938 passes and 0.8-0.9 s of a 2,700-page crawl, in
the process that downloads and archives and shares the cores with extraction. Once the
engine has started, what exists is there for the whole run: it is collected
once, then frozen (never scanned again), and the first threshold is raised
to ``GC_THRESHOLD``. Cycles made during the crawl are still collected, in
fewer, larger passes; a negative value leaves the collector as Python sets it.
"""

from __future__ import annotations

import gc

from scrapy import signals
from scrapy.exceptions import NotConfigured


def collect_less(threshold: int) -> None:
    gc.collect()  # start-up garbage goes now, not frozen with the rest
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(threshold, older, oldest)


class CollectLess:
    def __init__(self, threshold: int):
        self.threshold = threshold

    @classmethod
    def from_crawler(cls, crawler):
        threshold = crawler.settings.getint("GC_THRESHOLD")
        if threshold < 0:
            raise NotConfigured("GC_THRESHOLD is negative: the collector keeps Python's settings")
        extension = cls(threshold)
        crawler.signals.connect(extension.engine_started, signal=signals.engine_started)
        return extension

    def engine_started(self) -> None:
        collect_less(self.threshold)
