"""pipelines.report: the alarms' rules, the figures from run records and manifests, the page's safety."""

from __future__ import annotations

import json
import re

from pipelines.report.alarms import AlarmPolicy, layout_alarms
from pipelines.report.figures import figures
from pipelines.report.page import render_page
from pipelines.report.runlog import (
    count_article,
    count_failure,
    sites_from_stats,
    urls_from_stats,
)
from pipelines.report.units import human_bytes

FIELDS = {"date": 40, "author": 38, "image": 39, "description": 40, "language": 40}


def site_run(articles=40, pages=40, found=45, fields=None, body_chars=None) -> dict:
    return {"found": found, "pages": pages, "articles": articles, "stored": articles,
            "fields": dict(fields if fields is not None else FIELDS), "body_chars": body_chars or articles * 3000}


def history(n=10, **kw) -> list[dict]:
    return [{"run_id": f"r{i}", "sites": {"nypost": site_run(**kw)}} for i in range(n)]


def test_a_site_whose_bylines_vanish_raises_one_author_alarm():
    now = {"nypost": site_run(fields={**FIELDS, "author": 5})}
    alarms = layout_alarms(now, history())
    assert [a["measure"] for a in alarms] == ["author"]
    assert alarms[0]["message"] == "nypost: author on 12% of 40 articles, 95% over the last 10 runs"


def test_links_pages_and_body_length_are_watched_too():
    now = {"nypost": site_run(found=3, pages=40, articles=12, fields=dict.fromkeys(FIELDS, 12), body_chars=12 * 400)}
    measures = {a["measure"] for a in layout_alarms(now, history())}
    assert measures == {"found", "articles", "body_chars"}


def test_no_alarm_without_history_for_small_runs_or_ordinary_noise():
    broken = {"nypost": site_run(fields={**FIELDS, "author": 0})}
    assert layout_alarms(broken, history(n=2)) == []  # fewer than min_runs earlier runs
    small = {"nypost": site_run(articles=5, pages=5, found=45, fields={**FIELDS, "author": 0}, body_chars=15000)}
    assert layout_alarms(small, history()) == []  # 5 articles: too few to tell
    usual = {"nypost": site_run(fields={**FIELDS, "author": 30})}  # 75% against 95%: not a fall by half
    assert layout_alarms(usual, history()) == []
    rare = history(fields={**FIELDS, "author": 4})  # a field on 10% of articles going to 0 is noise
    assert layout_alarms({"nypost": site_run(fields={**FIELDS, "author": 0})}, rare) == []


def test_history_is_the_sites_own_last_runs_only():
    other = [{"run_id": f"o{i}", "sites": {"punch": site_run(fields={**FIELDS, "author": 0})}} for i in range(10)]
    old_good, recent_bad = history(n=10), history(n=10, fields={**FIELDS, "author": 2})
    now = {"nypost": site_run(fields={**FIELDS, "author": 2})}
    assert layout_alarms(now, other + recent_bad + old_good, AlarmPolicy(history_runs=10)) == []


def test_run_log_counts_per_site_and_keeps_a_few_urls():
    stats: dict[str, object] = {}

    class Stats:
        def inc_value(self, key, count=1, start=0):
            stats[key] = stats.get(key, start) + count

        def get_value(self, key, default=None):
            return stats.get(key, default)

        def set_value(self, key, value):
            stats[key] = value

    for n in range(3):
        count_failure(Stats(), "errors", "http_404", f"https://a.example/{n}", "a_example", keep=2)
    count_article(Stats(), "a_example", {"title": "T", "author": "Jo", "date": "2024"}, 1234, "stored")
    assert stats["errors/http_404"] == 3 and stats["sites/a_example/errors/http_404"] == 3
    site = sites_from_stats(stats)["a_example"]
    assert site["articles"] == site["stored"] == 1 and site["body_chars"] == 1234
    assert site["fields"] == {"date": 1, "author": 1, "image": 0, "description": 0, "language": 0}
    assert [e["url"] for e in urls_from_stats(stats)["errors"]["http_404"]] == ["https://a.example/0",
                                                                                "https://a.example/1"]


def test_figures_from_records_and_manifests():
    records = [{"run_id": "r1", "started": "2026-11-01T10:00:00Z", "finished": "2026-11-01T10:05:00Z",
                "pages_fetched": 5, "articles_stored": 2, "errors": {"http_404": 1},
                "archive": {"records": 16, "bytes": 5000},
                "sites": {"gazette": {"found": 3, "pages": 3, "articles": 2, "stored": 2,
                                      "fields": {"date": 2, "author": 1}, "body_chars": 900,
                                      "errors": {"http_404": 1}}},
                "urls": {"errors": {"http_404": [{"url": "https://g.example/gone", "site": "gazette"}]}}}]
    lines = [("r1", {"url": "https://g.example/a", "site": "gazette", "fetched": "2026-11-01T10:01:00Z",
                     "fields": ["author", "date", "title"], "body_chars": 500, "revision": 1, "title": "A"}),
             ("r1", {"url": "https://g.example/b", "site": "gazette", "fetched": "2026-11-02T10:01:00Z",
                     "fields": ["date", "title"], "body_chars": 400, "revision": 2, "title": "B"}),
             ("r0", {"url": "https://g.example/c", "site": "gazette", "fetched": "2026-10-30T10:01:00Z",
                     "sha256": "x", "title": "an old line: no fields"})]
    report = figures(records, lines, store="test")
    site = report["sites"]["gazette"]
    assert site["articles"] == 3 and site["documents"] == 3 and site["revisions"] == 1
    assert site["per_day"] == {"2026-10-30": 1, "2026-11-01": 1, "2026-11-02": 1}
    assert site["fill"]["author"] == 0.5 and site["fill_measured"] == 2  # the old line is not counted as empty
    assert site["runs"][0]["fill"]["author"] == 0.5 and site["runs"][0]["body_chars_mean"] == 450
    assert site["errors"] == {"http_404": {"count": 1, "urls": ["https://g.example/gone"]}}
    assert report["totals"]["archive_bytes"] == 5000 and report["totals"]["archive_records"] == 16


def test_page_escapes_what_the_store_says_and_loads_nothing():
    hostile = '</script><script>alert(1)</script><img src="https://evil.example/x.png">'
    lines = [("r1", {"url": "https://g.example/a", "site": "gazette", "fetched": "2026-11-01T10:01:00Z",
                     "title": hostile, "revision": 3, "fields": []})]
    page = render_page(figures([], lines, store=hostile))
    assert "<script>alert" not in page and '<img src="https://evil' not in page
    assert re.findall(r"<script[^>]*>", page) == ['<script type="application/json" id="report-data">']
    data = page.split('id="report-data">', 1)[1].rsplit("</script>", 1)[0]
    assert json.loads(data)["sites"]["gazette"]["most_revised"][0]["title"] == hostile
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)


def test_sizes_for_people():
    assert [human_bytes(n) for n in (0, 999, 3_209_456, 15_400_000_000)] == ["0 B", "999 B", "3.2 MB", "15.4 GB"]


def test_a_replay_finds_no_links_and_that_is_no_alarm():
    replay = {"nypost": site_run(found=0, pages=40, articles=40)}
    assert layout_alarms(replay, history()) == []
    dead_sources = {"nypost": site_run(found=0, pages=0, articles=0, fields={})}
    assert [a["measure"] for a in layout_alarms(dead_sources, history())] == ["found"]
