"""``scrapy report`` and the layout-change alarms, on real crawls of the sample site.

The alarm's fixture is the sample site after a template change that drops
every byline: the same 90 pages with author markup, author meta tags and
JSON-LD authors removed (as a redesign does), served from a WARC the test
writes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import lxml.html
import pytest

from pipelines.archive.reader import iter_exchanges
from pipelines.archive.writer import Exchange, exchange_records
from tests.helpers import CORPUS_WARC, scrapy
from tests.servers.base import ServerProcess

BYLINE = re.compile(r"author|byline|contributor|writer|reporter", re.IGNORECASE)


def without_bylines(body: bytes) -> bytes:
    """The page as a redesign that dropped the byline would serve it."""
    tree = lxml.html.document_fromstring(body)
    for element in list(tree.iter()):
        if not isinstance(element.tag, str) or element.getparent() is None:
            continue
        names = " ".join(filter(None, (element.get(a) for a in ("name", "property", "itemprop", "class", "id", "rel"))))
        if element.tag == "script" and (element.get("type") or "").lower() == "application/ld+json":
            try:
                element.text = json.dumps(_scrub(json.loads(element.text or "")))
            except ValueError:
                element.drop_tree()
        elif BYLINE.search(names):
            element.drop_tree()
    return lxml.html.tostring(tree, encoding="utf-8")


def _scrub(value):
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if not BYLINE.search(k)}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


@pytest.fixture(scope="module")
def bylineless_site(tmp_path_factory):
    warc = tmp_path_factory.mktemp("redesign") / "no-bylines.warc.gz"
    with open(CORPUS_WARC, "rb") as source, open(warc, "wb") as out:
        for page in iter_exchanges(source):
            body = without_bylines(page.body) if page.status == 200 else page.body
            out.write(exchange_records(Exchange(url=page.url, site="corpus", fetched=page.fetched, status=page.status,
                                                headers=page.headers, body=body, meta=page.meta)))
    with ServerProcess("tests.servers.http_archive", "--warc", str(warc)) as server:
        yield server


def crawl(server, store: Path, *settings: str):
    result = scrapy("crawl", "sitemap", "-a", f"url={server.url('/sitemap.xml')}", "-s", "REVISIT_AFTER=0",
                    "-s", "ALARM_MIN_RUNS=2", *settings, store=store)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def report_json(store: Path, tmp_path: Path) -> dict:
    out = tmp_path / "report.json"
    result = scrapy("report", "-o", str(out), store=store)
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text())


def test_bylines_that_vanish_raise_the_alarm_in_log_record_and_report(site, bylineless_site, store, tmp_path):
    for _ in range(2):  # the site as usual: its history
        assert "layout change" not in crawl(site, store).stderr
    broken = crawl(bylineless_site, store)
    record = broken.run_record()
    measures = {alarm["measure"]: alarm for alarm in record["alarms"]}
    assert set(measures) == {"author"}, record["alarms"]  # the dates, bodies and links are as usual
    author = measures["author"]
    assert author["value"] < 0.25 and author["usual"] > 0.85 and author["runs"] == 2
    site_key = author["site"]
    seen = record["sites"][site_key]
    assert re.fullmatch(rf"{site_key}: author on \d+% of {seen['articles']} articles, \d+% over the last 2 runs",
                        author["message"])
    warning = [line for line in broken.stderr.splitlines() if "WARNING: layout change?" in line]
    assert len(warning) == 1 and warning[0].endswith(author["message"])
    assert re.search(
        rf"^layout change\?\s+{re.escape(author['message'])}$", broken.stderr, re.MULTILINE
    )  # in the summary
    report = report_json(store, tmp_path)
    assert [a["message"] for a in report["alarms"]] == [author["message"]]
    assert report["sites"][site_key]["alarms"][0]["run_id"] == record["run_id"]
    html = tmp_path / "report.html"
    assert scrapy("report", "-o", str(html), store=store).returncode == 0
    assert f'data-site="{site_key}" data-measure="author"' in html.read_text()


def test_report_figures_equal_the_run_records(sitemap_crawl, tmp_path):
    report = report_json(sitemap_crawl.store, tmp_path)
    record = sitemap_crawl.run_record()
    for site, seen in record["sites"].items():
        figures = report["sites"][site]
        assert figures["articles"] == seen["stored"] == record["articles_stored"] == 90
        run = figures["runs"][-1]
        assert run["articles"] == seen["articles"] and run["pages"] == seen["pages"]
        for field, count in seen["fields"].items():
            # per run from the run record, store-wide from the manifest lines: two ways, one answer
            assert run["fill"][field] == figures["fill"][field] == round(count / seen["articles"], 4)
        assert sum(figures["per_day"].values()) == 90
    assert report["totals"]["archive_records"] == record["archive"]["records"]
    assert report["totals"]["pages_fetched"] == record["pages_fetched"]
    assert {reason: e["count"] for reason, e in report["skipped"].items()} == record["skipped"]
    listed = {e["url"] for reason in record["urls"]["skipped"].values() for e in reason}
    assert listed and listed == {url for e in report["skipped"].values() for url in e["urls"]}


def test_report_of_no_store_is_a_users_mistake(tmp_path):
    result = scrapy("report", "-o", str(tmp_path / "r.html"), store=tmp_path / "nothing-here")
    assert result.returncode == 2 and result.stderr.strip().endswith("no such store directory")
    as_uri = scrapy("report", "-o", str(tmp_path / "r.html"), store=tmp_path / "nothing-here",
                    settings={"STORE_URI": (tmp_path / "nothing-here").as_uri()})
    assert as_uri.returncode == 2 and as_uri.stderr.strip().endswith("no such store directory")
    wrong = scrapy("report", "-o", str(tmp_path / "r.pdf"), store=tmp_path)
    assert wrong.returncode == 2 and "-o" in wrong.stderr and ".html or .json" in wrong.stderr
