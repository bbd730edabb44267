"""What a crawl spends beyond its work: components switched off are not imported, log calls below LOG_LEVEL
and counters cost next to nothing."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

from scrapy.utils.test import get_crawler

from crawler.extensions.loglevel import lowest_handled_level
from crawler.stats import StatsCollector
from tests.servers.base import ROOT

# Builds a crawler with the project's settings as `scrapy crawl` does (logging set up, add-ons and extensions
# loaded), in a fresh interpreter so that what it imports can be seen.
PROBE = r"""
import gc, json, logging, sys, weakref
from scrapy import signals
from scrapy.core.downloader.middleware import DownloaderMiddlewareManager
from scrapy.settings import Settings
from scrapy.utils.log import configure_logging
from scrapy.utils.reactor import install_reactor
from scrapy.utils.test import get_crawler
settings = Settings()
settings.setmodule("settings.base", priority="project")
settings.setdict(json.loads(sys.argv[1]), priority="cmdline")
configure_logging(settings)
install_reactor(settings["TWISTED_REACTOR"])
crawler = get_crawler(settings_dict=settings)
crawler._apply_settings()
DownloaderMiddlewareManager.from_crawler(crawler)
# what else `scrapy crawl` loads: every command, the spiders, the item pipelines' classes
from scrapy.cmdline import _get_commands_dict
from scrapy.spiderloader import get_spider_loader
from scrapy.utils.misc import load_object
_get_commands_dict(settings, inproject=True)
get_spider_loader(settings).list()
[load_object(path) for path in settings.getdict("ITEM_PIPELINES")]
crawler.signals.send_catch_log(signals.engine_started)
class Node: pass
node = Node(); node.self = node; alive = weakref.ref(node); del node  # a cycle made during the crawl
junk = [[] for _ in range(2 * gc.get_threshold()[0])]  # enough new objects for the collector to pass
print(json.dumps({
    "gc_threshold": gc.get_threshold()[0],
    "gc_frozen": gc.get_freeze_count(),
    "cycle_collected": alive() is None,
    "extensions": [type(e).__module__ + "." + type(e).__name__ for e in crawler.extensions.middlewares],
    "downloader": list(crawler.settings.get_component_priority_dict_with_base("DOWNLOADER_MIDDLEWARES")),
    "imported": sorted(m for m in ("aiohttp", "tldextract", "trafilatura", "htmldate") if m in sys.modules),
    "debug_enabled": logging.getLogger("scrapy.core.engine").isEnabledFor(logging.DEBUG),
    "stats_class": type(crawler.stats).__module__ + "." + type(crawler.stats).__name__,
    "info_enabled": logging.getLogger("scrapy.core.engine").isEnabledFor(logging.INFO),
}))
"""

COOKIES = "scrapy.downloadermiddlewares.cookies.CookiesMiddleware"
REMOTE_CONTROL = "scrapy.extensions.remote_control.RemoteControl"


def probe(tmp_path, **settings) -> dict:
    settings = {"STORE_URI": str(tmp_path / "store"), "STATE_DIR": str(tmp_path / "state"), **settings}
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(settings)], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_components_switched_off_are_not_imported(tmp_path):
    loaded = probe(tmp_path)
    assert COOKIES not in loaded["downloader"]
    assert REMOTE_CONTROL not in loaded["extensions"]
    # aiohttp (remote control), tldextract (cookies): 0.25 s of every start-up; trafilatura and htmldate
    # (0.1 s, 20 MB) only in the extraction workers
    assert loaded["imported"] == []
    assert "crawler.extensions.progress.Progress" in loaded["extensions"]  # the rest is all there


def test_a_component_switched_on_is_loaded(tmp_path):
    loaded = probe(tmp_path, COOKIES_ENABLED=True)
    assert COOKIES in loaded["downloader"]
    assert "tldextract" in loaded["imported"]


def test_a_component_the_user_places_is_kept(tmp_path):
    loaded = probe(tmp_path, DOWNLOADER_MIDDLEWARES={COOKIES: 701})
    assert COOKIES in loaded["downloader"]


@pytest.mark.parametrize("level, debug", [("INFO", False), ("WARNING", False), ("DEBUG", True)])
def test_log_calls_below_the_log_level_are_dropped_at_once(tmp_path, level, debug):
    loaded = probe(tmp_path, LOG_LEVEL=level)
    assert loaded["debug_enabled"] is debug
    assert loaded["info_enabled"] is (level != "WARNING")


def test_the_lowest_level_a_handler_writes():
    logger = logging.Logger("probe")
    assert lowest_handled_level(logger) == logging.NOTSET  # no handler: nothing to go by
    for level in (logging.WARNING, logging.INFO):
        handler = logging.NullHandler()
        handler.setLevel(level)
        logger.addHandler(handler)
    assert lowest_handled_level(logger) == logging.INFO
    logger.addHandler(logging.NullHandler())  # takes everything (pytest's capture does)
    assert lowest_handled_level(logger) == logging.NOTSET


def test_a_later_crawler_logs_at_its_own_level(tmp_path):
    """Two crawlers in one process (AsyncCrawlerRunner): the second's LOG_LEVEL=DEBUG is honoured."""
    script = PROBE.replace("print(json.dumps({", """crawler2 = get_crawler(settings_dict={**settings, "LOG_LEVEL": "DEBUG"})
crawler2._apply_settings()
print(json.dumps({""")
    result = subprocess.run([sys.executable, "-c", script, json.dumps({"STORE_URI": str(tmp_path / "s"), "STATE_DIR": str(tmp_path / "t")})],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1])["debug_enabled"] is True


def test_the_crawl_counts_with_the_project_stats_collector(tmp_path):
    assert probe(tmp_path)["stats_class"] == "crawler.stats.StatsCollector"


@pytest.mark.parametrize("threshold", [20_000, 5_000])
def test_the_collector_skips_what_lives_for_the_whole_crawl(tmp_path, threshold):
    loaded = probe(tmp_path, GC_THRESHOLD=threshold)
    assert loaded["gc_threshold"] == threshold
    assert loaded["gc_frozen"] > 10_000  # modules, classes, settings: never scanned again
    assert loaded["cycle_collected"]  # what the crawl makes is still collected, without an explicit collect


def test_a_negative_gc_threshold_leaves_the_collector_alone(tmp_path):
    loaded = probe(tmp_path, GC_THRESHOLD=-1)
    assert loaded["gc_threshold"] == 700 and loaded["gc_frozen"] == 0
    assert "crawler.extensions.collector.CollectLess" not in loaded["extensions"]
    assert loaded["cycle_collected"]


def test_counters_work_as_scrapys_and_still_take_a_spider():
    stats = StatsCollector(get_crawler())
    stats.inc_value("pages")
    stats.inc_value("pages", 2, spider=None)  # the argument Scrapy deprecates: accepted, ignored
    stats.max_value("in_flight_max", 5)
    stats.max_value("in_flight_max", 3)
    stats.min_value("first", 7)
    stats.set_value("reason", "finished")
    assert stats.get_value("pages") == 3 and stats.get_value("missing", 0) == 0
    assert stats.get_stats() == {"pages": 3, "in_flight_max": 5, "first": 7, "reason": "finished"}
