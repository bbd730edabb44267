"""Scrapyd: the project's egg (``make egg``) uploaded through addversion.json, one spider scheduled through
schedule.json, on a Scrapyd of its own on 127.0.0.1; the crawl stores its documents and its run record."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import ROOT, read_documents
from tests.servers.base import ServerProcess
from tests.servers.scrapyd import ScrapydServer
from tests.servers.static_site import write_article, write_sitemap

PROJECT = "newsarchive"  # scrapy.cfg [deploy] project


def build_egg(dist: Path) -> Path:
    result = subprocess.run(["make", "-s", "egg", f"DIST={dist}", f"BIN={Path(sys.executable).parent}"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    eggs = list(dist.glob("newsarchive-*.egg"))
    assert len(eggs) == 1, result.stderr[-2000:]
    return eggs[0]


def test_scrapyd_runs_a_spider_of_the_deployed_egg(tmp_path):
    egg = build_egg(tmp_path / "dist")
    root, store, state = tmp_path / "site", tmp_path / "store", tmp_path / "state"
    paths = [write_article(root, n) for n in range(4)]
    write_sitemap(root, paths)
    with ServerProcess("tests.servers.static_site", str(root)) as site, ScrapydServer() as scrapyd:
        added = scrapyd.post("addversion.json", [("project", PROJECT), ("version", "r1")], {"egg": egg.read_bytes()})
        assert added["status"] == "ok", added
        spiders = scrapyd.get("listspiders.json", project=PROJECT)["spiders"]
        assert {"sitemap", "feed", "urls", "nypost"} <= set(spiders)  # site files are read from inside the egg
        settings = {"STORE_URI": store, "STATE_DIR": state, "STORE_SPOOL_DIR": state / "spool",
                    "ALLOW_PRIVATE_NETWORKS": "true", "DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "false",
                    "EXTRACT_WORKERS": "0", "JOB_NAME": "gazette-scrapyd"}
        scheduled = scrapyd.post("schedule.json", [
            ("project", PROJECT), ("spider", "sitemap"), ("url", site.url("/sitemap.xml")),
            *(("setting", f"{name}={value}") for name, value in settings.items()),
        ])
        assert scheduled["status"] == "ok", scheduled
        job = scheduled["jobid"]
        deadline = time.monotonic() + 120
        while not any(j["id"] == job for j in scrapyd.get("listjobs.json", project=PROJECT)["finished"]):
            assert time.monotonic() < deadline, scrapyd.log(PROJECT, "sitemap", job)[-3000:]
            time.sleep(0.5)
        log = scrapyd.log(PROJECT, "sitemap", job)
    documents = read_documents(store)
    assert sorted(documents) == sorted(site.url("/" + p) for p in paths), log[-3000:]
    records = list((store / "runs").glob("*.json"))
    assert len(records) == 1
    record = json.loads(records[0].read_text())
    assert (record["job"], record["spider"], record["finish_reason"]) == ("gazette-scrapyd", "sitemap", "finished")
    assert record["articles_stored"] == 4
