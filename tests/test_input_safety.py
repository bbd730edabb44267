"""Pages, sitemaps and site files are written by strangers: nothing they say reaches a path, runs, or leaks.

Property-based (hypothesis): any title, description or body reads back from
a document unchanged; any URL, title or host gives a store key made of a
site key and a hash. End to end: a sitemap full of hostile URLs is crawled,
the good pages are stored and each hostile URL is counted.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.errors import ConfigError
from crawler.extensions.runrecord import RunRecord
from crawler.redact import redact, secret_values
from crawler.sites import SITE_SETTINGS, host_key, load_site_file, url_problem
from pipelines.document.render import SITE_KEY_RE, parse_document, render, to_document
from pipelines.item import Article, Block, Document, SiteProfile
from pipelines.storage import check_key
from pipelines.storage.local import LocalStorage
from tests.helpers import ROOT, scrapy
from tests.servers.base import ServerProcess
from tests.servers.http_faults import HOSTILE_URLS

# strings YAML would read as something else, or that look like the document's own structure
TRICKY = (
    "yes", "No", "off", "null", "~", "", " ", "1e3", "0x1F", "0o17", ".inf", "-.nan", "2020-09-09", "12:30:00",
    "---", "...", "--- x", "- item", "? key", ": value", "a: b", "a:b", "key: value\nother: 1", "#not a comment",
    "'", '"', "''", "\\", "@at", "`tick", "%YAML 1.1", "!tag", "!!python/object/apply:os.system ['touch pwned']",
    "&anchor", "*alias", "<<: *alias", "{a: 1}", "[1, 2]", "|", ">", "\t", "\r", "\r\n", "\n---\n", "\u2028",
    "\u0085", "\ufeff", "\x00", "\x1b[31mred", "\u202eevil", "Москва, 北京, القاهرة", "🎉",
)
texts = st.one_of(st.text(st.characters(exclude_categories=("Cs",))), st.sampled_from(TRICKY))
# a paragraph of extracted text: one line, trimmed, whitespace collapsed (pipelines/extract.py makes them so)
paragraphs = st.lists(texts.map(lambda text: " ".join(text.split())).filter(bool), min_size=1, max_size=6)


def document(meta: dict, body: str) -> Document:
    return Document(url="https://example.com/a", site="example", meta=meta, body=body, text="", body_sha256="")


def read_like_a_file(text: str) -> str:
    """The text as a reader gets it from disk: UTF-8 bytes, decoded with universal newlines."""
    return io.TextIOWrapper(io.BytesIO(text.encode("utf-8")), encoding="utf-8").read()


@settings(max_examples=300, deadline=None)
@given(title=texts, description=texts, author=texts, url=texts, categories=st.lists(texts, max_size=3), body=paragraphs)
def test_any_metadata_and_body_read_back_unchanged(title, description, author, url, categories, body):
    meta = {"extends": "_layouts.post", "title": title, "description": description, "categories": categories,
            "featured": True, "url": url, "author": author}
    text = render(document(meta, "\n\n".join(body)), "frontmatter").text
    parsed, parsed_body = parse_document(read_like_a_file(text))
    assert parsed == meta and list(parsed) == list(meta)
    assert parsed_body.split("\n\n") == body


def article(
    title: str = "Title", url: str = "https://example.com/a", site: str = "example", body=("Text.",)
) -> Article:
    return Article(
        url=url,
        site=SiteProfile(key=site, front_matter={"featured": True}),
        fetched=datetime(2026, 11, 21, tzinfo=UTC),
        blocks=[Block(text) for text in body],
        title=title,
        description=title,
    )


@settings(max_examples=200, deadline=None)
@given(title=texts, body=paragraphs)
def test_a_title_is_kept_on_one_line_and_cannot_break_out(title, body):
    meta, parsed_body = parse_document(read_like_a_file(to_document(article(title=title, body=body)).text))
    assert meta.get("title", "") == " ".join(title.split())
    assert meta["url"] == "https://example.com/a" and meta["featured"] is True
    assert parsed_body.split("\n\n") == body


LAYOUT = re.compile(r"^articles/[a-z][a-z0-9_]{0,62}/\d{4}/\d\d/\d\d/[0-9a-f]{16}\.txt$")
urls = st.one_of(st.text(), st.builds(lambda host, path: f"http://{host}/{path}", st.text(), st.text()),
                 st.sampled_from((*HOSTILE_URLS, "http://../../etc/passwd", "http://%2e%2e/%2e%2e/", "http://a/..")))


@pytest.fixture(scope="module")
def storage(tmp_path_factory) -> LocalStorage:
    return LocalStorage(tmp_path_factory.mktemp("keys"))


@settings(max_examples=300, deadline=None)
@given(url=urls, title=texts)
def test_store_keys_come_from_a_site_key_and_a_hash_only(url, title, storage):
    site = host_key(url)
    assert SITE_KEY_RE.match(site)
    key = to_document(article(title=title, url=url, site=site)).key
    assert LAYOUT.match(key) and check_key(key) == key
    assert storage.path(key).resolve().is_relative_to(storage.root)


@pytest.mark.parametrize("key", ["../x", "articles/../../x", "/etc/passwd", "a//b", "a/./b", "a\\b", "a/b\x00", ""])
def test_unsafe_keys_are_refused(key, tmp_path):
    with pytest.raises(ValueError, match="unsafe store key"):
        LocalStorage(tmp_path).put(key, b"x")
    assert list(tmp_path.iterdir()) == []  # nothing written, anywhere


def test_a_document_with_code_in_its_front_matter_is_refused_not_run(tmp_path):
    marker = tmp_path / "pwned"
    text = f"---\ntitle: !!python/object/apply:os.system ['touch {marker}']\nurl: x\n---\nbody\n"
    with pytest.raises(ValueError, match="not valid YAML"):
        parse_document(text)
    assert not marker.exists()


# --- site files ----------------------------------------------------------------------------

SITE = """name = "Example News"
domains = ["example.com"]
feeds = ["https://example.com/rss.xml"]
"""


@pytest.mark.parametrize("setting", [
    'DOWNLOADER_MIDDLEWARES = { "crawler.netguard.AddressGuardMiddleware" = 0 }',
    "ALLOW_PRIVATE_NETWORKS = true",
    'ITEM_PIPELINES = { "os.system" = 1 }',
    'TWISTED_DNS_RESOLVER = "os.system"',
    'ADDONS = { "os.system" = 1 }',
    "ROBOTSTXT_OBEY = false",
])
def test_a_site_file_cannot_load_code_or_lower_the_guard(tmp_path, setting):
    path = tmp_path / "example.toml"
    path.write_text(SITE + f"[settings]\n{setting}\n")
    with pytest.raises(ConfigError, match="a site file cannot set"):
        load_site_file(path)


def test_a_site_file_tunes_fetching_and_code_in_it_stays_text(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "example.toml"
    path.write_text(SITE.replace("Example News", f"__import__('os').system('touch {marker}')")
                    + "[settings]\nDOWNLOAD_DELAY = 2.0\nCONCURRENT_REQUESTS_PER_DOMAIN = 1\n")
    (tmp_path / "example.py").write_text(f"open({str(marker)!r}, 'w')\n")  # beside it, never imported
    site = load_site_file(path)
    assert site.name.startswith("__import__") and site.settings == {
        "DOWNLOAD_DELAY": 2.0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
    }
    listed = subprocess.run([sys.executable, "-m", "scrapy", "list", "-s", f"SITES_DIRS={tmp_path}"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and "example" in listed.stdout.split()
    assert not marker.exists()
    assert {"DOWNLOAD_DELAY", "USER_AGENT"} <= SITE_SETTINGS


# --- secrets ------------------------------------------------------------------------------


def test_secrets_are_masked():
    class Settings:
        attributes = {"AWS_SECRET_ACCESS_KEY": 1, "S3_PROFILE": 1, "API_TOKEN": 1, "DOWNLOAD_DELAY": 1}

        def get(self, name):
            return {"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI", "S3_PROFILE": "archive", "API_TOKEN": "t0ken",
                    "DOWNLOAD_DELAY": 0.25}[name]

    secrets = secret_values(Settings())
    assert secrets == {"wJalrXUtnFEMI", "t0ken"}
    assert redact("key wJalrXUtnFEMI via redis://:hunter2@host:6379/0 and http://user:pw@proxy:3128", secrets) == (
        "key *** via redis://:***@host:6379/0 and http://user:***@proxy:3128")
    assert redact("https://example.com/a:b@c is a page", secrets) == "https://example.com/a:b@c is a page"


def test_no_secret_in_the_log_or_the_store(tmp_path):
    (tmp_path / "urls.txt").write_text("http://localhost:9/story\n")
    crawl = scrapy("crawl", "urls", "-a", f"file={tmp_path / 'urls.txt'}", "-v", store=tmp_path / "store",
                   settings={"AWS_SECRET_ACCESS_KEY": "cli-secret-7f3a", "ALLOW_PRIVATE_NETWORKS": "false"},
                   env={"AWS_SECRET_ACCESS_KEY": "env-secret-91bc", "http_proxy": "http://user:proxy-pw-5d2e@127.0.0.1:9"})
    assert crawl.returncode == 1, crawl.stderr[-3000:]  # its one page is refused: nothing could be fetched
    assert (
        "AWS_SECRET_ACCESS_KEY" in crawl.stderr
    )  # the setting is listed (-v: Scrapy's overridden settings), its value is not
    stored = "".join(p.read_text(errors="replace") for p in (tmp_path / "store").rglob("*") if p.is_file())
    for secret in ("cli-secret-7f3a", "env-secret-91bc", "proxy-pw-5d2e"):
        assert secret not in crawl.stderr + crawl.stdout + stored


def test_a_url_with_a_password_is_refused_in_one_line_that_masks_it(tmp_path):
    # Scrapy's client refused it only when fetching, in a traceback that printed the password
    (tmp_path / "urls.txt").write_text("http://reader:pw-8c1e@127.0.0.1:9/story\n")
    crawl = scrapy("crawl", "urls", "-a", f"file={tmp_path / 'urls.txt'}", store=tmp_path / "store")
    assert (crawl.returncode, crawl.stderr) == (2, f"error: -a file={tmp_path / 'urls.txt'}: line 1 is not a fetchable "
                                                   "URL (a user name or password in it): "
                                                   "'http://reader:***@127.0.0.1:9/story'\n")
    assert url_problem("https://user@news.example.com/a") and not url_problem("https://news.example.com/a@b")


def test_a_long_password_is_masked_before_the_line_is_cut(tmp_path):
    # the line was cut at 80 characters first: the "@" went, the mask did not match, the password's start was printed
    token = "tok-" + "5e0a" * 30
    (tmp_path / "urls.txt").write_text(f"https://reader:{token}@127.0.0.1:9/story\n")
    crawl = scrapy("crawl", "urls", "-a", f"file={tmp_path / 'urls.txt'}", store=tmp_path / "store")
    assert crawl.returncode == 2 and "https://reader:***@127.0.0.1:9/story" in crawl.stderr
    assert "5e0a" not in crawl.stderr


def test_the_run_record_masks_what_the_log_masks(tmp_path):
    # its `urls` lists the failed URLs and the archive parts that could not be read, as error texts quote them
    record = RunRecord(LocalStorage(tmp_path), None, {"run_id": "r1"}, str(tmp_path / "state"),
                       secrets=frozenset({"wJalrXUtnFEMI"}))
    record._write({"urls": {"errors": {"archive_unreachable": [
        {"archive": "s3://b/warc/x.warc.gz: Could not connect to the endpoint URL: http://key:s3-pw-44@minio:9000/b"},
        {"url": "https://news.example.com/a?token=wJalrXUtnFEMI"}]}}})
    written = (tmp_path / "runs" / "r1.json").read_text()
    assert "s3-pw-44" not in written and "wJalrXUtnFEMI" not in written
    assert "http://key:***@minio:9000/b" in written and json.loads(written)["urls"]["errors"]


def test_the_run_record_stays_readable_whatever_the_secrets_are(tmp_path):
    # masked in its JSON text, a secret that is also a word of JSON's syntax broke the record (`"ok": ***`): the
    # report and the layout-change alarms skip a record they cannot read; one that JSON escapes was not masked
    secrets = frozenset({"true", "null", "0.25", "pa\"ss\\wörd-77"})
    record = RunRecord(LocalStorage(tmp_path), None, {"run_id": "r1"}, str(tmp_path / "state"), secrets=secrets)
    record._write({"ok": True, "worker": None, "delay": 0.25, "urls": {"errors": {"http_403": [
        {"url": 'https://news.example.com/a?k=pa"ss\\wörd-77', "error": "403 for https://u:pw-9@news.example.com/a"}]}}})
    read = json.loads((tmp_path / "runs" / "r1.json").read_text())
    assert (read["ok"], read["worker"], read["delay"]) == (True, None, 0.25)
    assert read["urls"]["errors"]["http_403"] == [
        {"url": "https://news.example.com/a?k=***", "error": "403 for https://u:***@news.example.com/a"}]


def test_scrapys_public_default_password_is_no_secret():
    # FTP_PASSWORD's default "guest" (anonymous FTP) masked every "guest" in the log and the run record's URLs
    from scrapy.settings import Settings

    settings = Settings({"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI"})
    assert secret_values(settings) == {"wJalrXUtnFEMI"}
    assert redact("https://news.example.com/guest-column/1", secret_values(settings)) == (
        "https://news.example.com/guest-column/1")


# --- end to end ------------------------------------------------------------------------------


def test_a_sitemap_of_hostile_urls_stores_the_good_pages_and_counts_the_rest(tmp_path):
    with ServerProcess("tests.servers.http_faults", "--good", "2") as server:
        crawl = scrapy("crawl", "sitemap", "-a", f"url={server.url('/sitemap-hostile.xml')}", store=tmp_path / "store")
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    record = crawl.run_record()
    assert record["articles_stored"] == 2 and len(crawl.documents()) == 2
    # no URL at all, an impossible port: skipped (other schemes never leave the sitemap parser);
    # the metadata address: refused; the climb out of the site: the server's 404
    assert record["skipped"] == {"bad_url": 3}, record
    assert record["errors"] == {"blocked_address": 1, "http_404": 1}
    for path in (tmp_path / "store").rglob("*"):
        relative = path.relative_to(tmp_path / "store").as_posix()
        assert ".." not in relative and "passwd" not in relative and "etc" not in relative.split("/")
