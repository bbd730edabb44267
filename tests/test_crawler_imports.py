"""The crawl process never loads the extraction libraries: trafilatura and htmldate live in the workers only."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.servers.base import ROOT

# Builds a crawler with the project's settings as `scrapy crawl` does (add-ons, extensions, downloader
# middlewares, every command, the spiders, the item pipelines' classes), in a fresh interpreter so that
# what it imports can be seen.
PROBE = r"""
import json, sys
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
from scrapy.cmdline import _get_commands_dict
from scrapy.spiderloader import get_spider_loader
from scrapy.utils.misc import load_object
_get_commands_dict(settings, inproject=True)
get_spider_loader(settings).list()
[load_object(path) for path in settings.getdict("ITEM_PIPELINES")]
print(json.dumps(sorted(m for m in ("trafilatura", "htmldate") if m in sys.modules)))
"""


def test_a_crawls_commands_spiders_and_pipelines_do_not_load_trafilatura_or_htmldate(tmp_path):
    """0.1 s and 20 MB that only the extraction workers need."""
    settings = {"STORE_URI": str(tmp_path / "store"), "STATE_DIR": str(tmp_path / "state")}
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(settings)], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
