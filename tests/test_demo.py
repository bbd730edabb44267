"""``make demo`` does what it says: a second demo finds the same articles at the same URLs and stores nothing new."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from tests.helpers import ROOT
from tests.servers.base import free_port


def demo(store, port: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tests.demo", "--store", str(store), "--port", str(port)],
                          cwd=ROOT, capture_output=True, text=True, timeout=240)


def test_a_second_demo_stores_nothing_new(tmp_path):
    store, port = tmp_path / "archive", free_port()  # a fixed port of the test's own, as 8765 is the demo's
    first = demo(store, port)
    assert first.returncode == 0, first.stderr[-2000:]
    files = sorted(p.relative_to(store) for p in (store / "articles").rglob("*.txt"))
    assert len(files) == 90
    second = demo(store, port)
    assert second.returncode == 0, second.stderr[-2000:]
    assert sorted(p.relative_to(store) for p in (store / "articles").rglob("*.txt")) == files
    records = [json.loads(p.read_text()) for p in (store / "runs").glob("*.json")]
    latest, earliest = max(records, key=lambda r: r["started"]), min(records, key=lambda r: r["started"])
    # the 90 articles and the pages judged not to be articles (remembered too): none fetched again
    not_articles = sum(n for reason, n in earliest["skipped"].items() if reason.startswith("not_article/"))
    assert latest["articles_stored"] == 0 and latest["skipped"]["recently_fetched"] == 90 + not_articles
    assert latest["pages_fetched"] < 10  # robots.txt, sitemaps, pages that are no articles: not one article again
    assert len(list((store / "manifest").glob("*.jsonl"))) == 1  # the second run wrote no manifest line
    assert re.search(r"^articles stored\s+0$", second.stderr, re.MULTILINE)
