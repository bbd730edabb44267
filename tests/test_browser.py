"""The report and the browse pages in a real browser: Debian's chromium, headless, driven by Playwright.

Every request the pages make is seen by the test (Playwright routes them
all): anything not on this machine is refused and fails the test. Console
errors and page errors fail it too.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from pipelines.document.render import parse_document
from pipelines.item import Document
from pipelines.report.units import percent
from pipelines.storage import sha256_hex
from pipelines.storage.index import ArchiveIndex
from pipelines.storage.local import LocalStorage
from pipelines.store import ArticleStore
from tests.helpers import ROOT, scrapy, scrapy_command

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is missing: `make test` installs it (tests/servers/install-chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Debian's chromium; Playwright's own browser builds are never downloaded
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run"])
        yield browser
        browser.close()


class Watched:
    """A page whose requests, console errors and page errors are all recorded."""

    def __init__(self, browser):
        self.context = browser.new_context(viewport={"width": 1200, "height": 900})
        self.outside: list[str] = []
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on(
            "console", lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None
        )
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))

    def _route(self, route):
        url = route.request.url
        self.requests.append(url)
        parts = urlsplit(url)
        if parts.scheme in ("file", "data", "about") or parts.hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def close(self):
        self.context.close()


@contextmanager
def watched(browser):
    page = Watched(browser)
    try:
        yield page
    finally:
        page.close()
    assert page.outside == [], f"requests that would leave the machine: {page.outside}"


def test_report_renders_offline_and_shows_the_run_records_figures(browser, sitemap_crawl, tmp_path):
    out = tmp_path / "report.html"
    assert scrapy("report", "-o", str(out), store=sitemap_crawl.store).returncode == 0
    record = sitemap_crawl.run_record()
    with watched(browser) as w:
        w.page.goto(out.as_uri())
        assert w.errors == []
        assert w.requests == [out.as_uri()]  # the page alone: no script, style, font or image fetched
        page = w.page
        assert page.locator('[data-total="WARC records"] b').inner_text() == f"{record['archive']['records']:,}"
        assert page.locator('[data-total="pages fetched"] b').inner_text() == f"{record['pages_fetched']:,}"
        for site, seen in record["sites"].items():
            row = page.locator(f'#sites tr[data-site="{site}"]')
            assert row.locator('[data-figure="articles"]').inner_text() == f"{seen['stored']:,}"
            for field, count in seen["fields"].items():
                assert row.locator(f'[data-field="{field}"]').inner_text() == percent(count / seen["articles"])
        assert page.locator("svg.chart").count() >= 6 and page.locator("svg.chart rect, svg.chart circle").count() > 10
        figures = json.loads(page.locator("#report-data").text_content())
        assert figures["totals"]["articles"] == record["articles_stored"]
        shot = page.screenshot(full_page=False)
        assert len(shot) > 20_000  # a drawn page, not a blank one


@pytest.fixture(scope="module")
def revised_store(sitemap_crawl, tmp_path_factory) -> tuple[Path, dict]:
    """The sample crawl's store, plus a second revision of one article written as a later run would."""
    store = tmp_path_factory.mktemp("browse") / "store"
    shutil.copytree(sitemap_crawl.store, store)
    lines = [
        json.loads(line) for path in (store / "manifest").glob("*.jsonl") for line in path.read_text().splitlines()
    ]
    line = next(item for item in sorted(lines, key=lambda item: item["url"]) if item["title"] and item.get("date"))
    storage = LocalStorage(store)
    meta, body = parse_document((store / line["key"]).read_text())
    corrected = body + "\n\nA correction was added."
    changed = Document(
        url=line["url"],
        site=line["site"],
        meta=dict(meta),
        body=corrected,
        text="",
        body_sha256=sha256_hex(corrected.encode()),
        key=line["key"],
        page_url=line.get("fetched_url", ""),
        fetched=sitemap_crawl.run_record()["finished"],
    )  # after the crawl's fetch: a newer text
    index = ArchiveIndex.for_store(storage, store.parent / "state")
    article_store = ArticleStore(storage, index, "manifest/correction-run.jsonl")
    assert article_store.save(changed) == "revised"
    article_store.close()
    index.close()
    return store, line


@contextmanager
def browse(store: Path, state: Path):
    command = scrapy_command("browse", "--port", "0", store=store, state=state)
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert match, f"browse did not start: {line!r} {process.stderr.read() if process.poll() is not None else ''}"
        yield match.group(0)
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_browse_finds_an_article_shows_it_its_revisions_and_its_archived_page(browser, revised_store, tmp_path):
    store, line = revised_store
    words = re.findall(r"\w{5,}", line["title"])[:3]
    with browse(store, tmp_path / "state") as base, watched(browser) as w:
        page = w.page
        page.goto(base)
        page.fill('input[name="q"]', " ".join(words))
        page.click("button")
        page.wait_for_load_state()
        hits = page.locator("#results .hit a")
        assert line["title"] in hits.all_inner_texts()
        page.get_by_role("link", name=line["title"], exact=True).first.click()
        page.wait_for_load_state()
        assert page.locator("#title").inner_text() == line["title"]
        assert line["url"] in page.locator("#front-matter").inner_text()
        assert "A correction was added." in page.locator("#body").inner_text()
        revisions = page.locator("#revisions li")
        assert revisions.count() == 2
        page.locator("#revisions a", has_text="revision 1").click()
        page.wait_for_load_state()
        first = page.locator("body").inner_text()
        assert "A correction was added." not in first and line["url"] in first
        page.go_back()
        page.get_by_role("link", name="archived page").first.click()
        page.wait_for_load_state()
        frame = page.frame_locator("#archived")
        archived_text = frame.locator("body").inner_text(timeout=10_000)
        assert "Archived" in archived_text and words[0] in archived_text
        assert page.locator("#archived").get_attribute("sandbox") == ""
        assert w.errors == []
        assert all(urlsplit(url).hostname == "127.0.0.1" for url in w.requests), w.requests


def test_browse_filters_by_site_and_date_and_is_read_only(browser, revised_store, tmp_path):
    store, line = revised_store
    day = f"{line['date'][:10]}"
    with browse(store, tmp_path / "state") as base, watched(browser) as w:
        page = w.page
        page.goto(f"{base}?from={day}&to={day}")
        titles = page.locator("#results .hit a").all_inner_texts()
        assert line["title"] in titles and len(titles) < 90
        page.goto(f"{base}?site=no_such_site")
        assert page.locator("#count").inner_text().startswith("0 documents")
        response = page.request.post(base)
        assert response.status == 405
        assert w.errors == []
    # bound to loopback unless asked
    assert urlsplit(base).hostname == "127.0.0.1"


def test_browse_without_a_store_is_a_users_mistake(tmp_path):
    result = scrapy("browse", "--port", "0", store=tmp_path / "nothing")
    assert result.returncode == 2 and "no such store directory" in result.stderr


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_browse_on_a_port_that_is_none_is_a_users_mistake(tmp_path, port):
    (tmp_path / "store").mkdir()
    result = scrapy("browse", "--port", port, store=tmp_path / "store")
    assert result.returncode == 2  # one line, before the store is indexed
    assert result.stderr == f"error: --port {port}: give a port from 1 to 65535 (0: any free port)\n"

