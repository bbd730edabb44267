"""Site files: the bundled ones load and are spiders; a broken one is one line naming file and field."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.errors import ConfigError
from crawler.sites import SITES_DIR, host_key, load_site_file, load_sites
from tests.helpers import ROOT

GOOD = """
name = "Example News"
domains = ["www.example.com"]
feeds = ["https://www.example.com/rss.xml"]
article = '/\\d{4}/\\d{2}/\\d{2}/'
front_matter = { categories = ["world"] }
[clean]
inserts = ["more from example"]
drop = ["^Sign up now"]
strip = ["//div[@class='promo']"]
"""


def write(tmp_path: Path, text: str, name: str = "example_news") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def test_bundled_sites_load():
    sites = load_sites()
    assert {"nypost", "dailymail", "premium_times", "punch"} <= set(sites)
    assert sites["nypost"].name == "NY Post" and sites["dailymail"].name == "Daily Mail"
    assert any("also read" in p for p in sites["premium_times"].inserts)


def test_site_file_becomes_a_profile(tmp_path):
    site = load_site_file(write(tmp_path, GOOD))
    assert site.key == "example_news" and site.domains == ("example.com",)
    assert site.owns("https://www.example.com/2026/11/21/x.html") and site.owns("https://m.example.com/")
    assert not site.owns("https://example.com.evil.org/")
    assert site.is_article_url("https://www.example.com/2026/11/21/x.html")
    assert not site.is_article_url("https://www.example.com/about/")
    profile = site.profile
    assert profile.front_matter["categories"] == ["world"] and profile.front_matter["extends"] == "_layouts.post"
    assert profile.source == "Example News" and profile.strip == ("//div[@class='promo']",)


def test_a_site_files_time_zone_and_article_pattern_reach_the_extraction(tmp_path):
    profile = load_site_file(write(tmp_path, 'timezone = "Europe/Berlin"\n' + GOOD)).profile
    assert profile.timezone == "Europe/Berlin" and profile.article == "/\\d{4}/\\d{2}/\\d{2}/"


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda t: "unknown = 1\n" + t, r"unknown field\(s\) unknown"),
        (lambda t: t.replace('name = "Example News"', ""), "'name'"),
        (lambda t: t.replace('domains = ["www.example.com"]', "domains = []"), "'domains'"),
        (lambda t: t.replace("'/\\d{4}/\\d{2}/\\d{2}/'", "'(unclosed'"), "not a valid regular expression"),
        (lambda t: t.replace("//div[@class='promo']", "//div[@class="), "not a valid XPath"),
        (lambda t: t.replace("https://www.example.com/rss.xml", "file:///etc/passwd"), r"not an http\(s\) URL"),
        (lambda t: t.replace("https://www.example.com/rss.xml", "https://www.example.com:abc/rss"),
         r"not a valid URL \(Port could not be cast"),
        (lambda t: t.replace("https://www.example.com/rss.xml", "https://[::1/rss"), r"not a valid URL"),
        (lambda t: t.replace("[clean]", "[clean\n"), "not valid TOML"),
        (lambda t: 'timezone = "Europe/Atlantis"\n' + t, "not a known IANA time zone"),
    ],
)
def test_bad_site_file_says_what_is_wrong(tmp_path, change, message):
    path = write(tmp_path, change(GOOD))
    with pytest.raises(ConfigError, match=message) as error:
        load_site_file(path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def test_site_file_is_data_not_code(tmp_path):
    path = write(tmp_path, GOOD.replace('name = "Example News"', 'name = "__import__(\'os\').system(\'touch pwned\')"'))
    assert load_site_file(path).name.startswith("__import__")
    assert not (tmp_path / "pwned").exists()


def test_file_name_must_be_a_safe_key(tmp_path):
    with pytest.raises(ConfigError, match="snake_case"):
        load_site_file(write(tmp_path, GOOD, name="../Bad-Name"))


def test_host_key_is_store_safe():
    assert host_key("https://www.Example.co.uk/x") == "example_co_uk"
    assert host_key("http://127.0.0.1:8080/") == "site_127_0_0_1"
    assert host_key("http://[::1]/") == "site_1"


def run_scrapy(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scrapy", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_scrapy_list_shows_generic_and_site_spiders():
    result = run_scrapy("list")
    assert result.returncode == 0
    names = result.stdout.split()
    assert {"urls", "sitemap", "feed"} | {p.stem for p in SITES_DIR.glob("*.toml")} <= set(names)


def test_broken_site_file_is_one_line_and_nothing_starts(tmp_path):
    write(tmp_path, GOOD.replace("[clean]", "[clean"), name="broken_site")
    result = run_scrapy("crawl", "nypost", "-s", f"SITES_DIRS={tmp_path}")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "broken_site.toml" in result.stderr and "not valid TOML" in result.stderr


@pytest.mark.parametrize(
    "settings, message",
    [
        ('{ DOWNLOAD_DELAY = "soon" }', "settings.DOWNLOAD_DELAY='soon': expected a number"),
        ("{ DOWNLOAD_MAXSIZE = 0 }", "settings.DOWNLOAD_MAXSIZE=0: expected a number from 1"),
        ("{ RETRY_TIMES = 1000 }", "settings.RETRY_TIMES=1000"),
        ("{ CONCURRENT_REQUESTS_PER_DOMAIN = 500 }", "CONCURRENT_REQUESTS_PER_DOMAIN=500"),
        ('{ COOKIES_ENABLED = "yes" }', "expected true or false"),
        ("{ ALLOW_PRIVATE_NETWORKS = true }", "cannot set ALLOW_PRIVATE_NETWORKS"),
        ('{ DOWNLOADER_MIDDLEWARES = {} }', "cannot set DOWNLOADER_MIDDLEWARES"),
    ],
)
def test_site_file_settings_only_tune_within_bounds(tmp_path, settings, message):
    path = write(tmp_path, GOOD.replace("front_matter =", f"settings = {settings}\nfront_matter ="))
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_site_file(path)


def test_site_file_settings_within_bounds_are_kept(tmp_path):
    path = write(
        tmp_path, GOOD.replace("front_matter =", "settings = { DOWNLOAD_DELAY = 2.5, RETRY_TIMES = 5 }\nfront_matter =")
    )
    assert load_site_file(path).settings == {"DOWNLOAD_DELAY": 2.5, "RETRY_TIMES": 5}
