"""A command line that tells the truth: exit codes, mistakes named in one line, a quiet log, help as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.extensions.runrecord import work_failed
from tests.helpers import ROOT, SAMPLE_SITES, Crawl, scrapy, scrapy_command, stopped_after_a_document
from tests.servers.base import ServerProcess, free_port

SUMMARY_START = re.compile(r"^-{20,}$", re.MULTILINE)


def crawl(site, store, *args, **kw):
    return scrapy("crawl", "sitemap", "-a", f"url={site.url('/sitemap.xml')}", *args, store=store, **kw)


def test_exit_codes_done_nothing_new_failed_and_mistake(site, store):
    first = crawl(site, store)
    assert first.returncode == 0, first.stderr[-2000:]
    # the 90 articles, and the pages judged not to be articles: remembered too, not fetched again
    not_articles = sum(n for reason, n in first.run_record()["skipped"].items() if reason.startswith("not_article/"))
    again = crawl(site, store)  # every article is in the archive already: nothing new is no failure
    assert again.returncode == 0 and again.run_record()["skipped"]["recently_fetched"] == 90 + not_articles
    dead = scrapy("crawl", "sitemap", "-a", f"url=http://127.0.0.1:{free_port()}/sitemap.xml",
                  "-s", "RETRY_TIMES=0", store=store)
    assert dead.returncode == 1
    assert dead.stderr.strip().splitlines()[-1].startswith("error: the crawl failed: nothing could be fetched")
    gone = crawl(site, store, "-s", "REVISIT_AFTER=0", "-s", "DOWNLOAD_MAXSIZE=100")  # every article too large
    assert gone.returncode == 1 and "nothing stored, every page failed" in gone.stderr
    assert gone.run_record()["errors"]
    mistake = crawl(site, store, "-a", "limit=none")
    assert mistake.returncode == 2 and mistake.stderr.strip() == "error: -a limit='none': expected a whole number"


def test_articles_the_store_could_not_keep_fail_the_crawl(site, store):
    # a full disk lost some articles, and the crawl exited 0: a scheduler saw success
    (store / "articles" / "site_127_0_0_1").mkdir(parents=True)
    (store / "articles" / "site_127_0_0_1" / "2019").write_text("a file where the articles of 2019 go")
    lost = crawl(site, store)
    assert lost.returncode == 1, lost.stderr[-2000:]
    assert lost.stderr.strip().splitlines()[-1].startswith("error: the crawl failed: the store could not keep")
    record = lost.run_record()
    assert record["articles_stored"] and record["errors"]["store_failed/NotADirectoryError"]


def test_a_run_record_that_cannot_be_written_fails_the_crawl(site, store):
    # it stayed "running" for ever, and the crawl exited 0
    store.mkdir(parents=True)
    (store / "runs").write_text("a file where the run records go")
    unrecorded = crawl(site, store, "-a", "limit=3")
    assert unrecorded.returncode == 1, unrecorded.stderr[-2000:]
    assert "error: the crawl failed: its run record could not be written" in unrecorded.stderr


def test_work_failed_judges_the_run_record():
    assert work_failed({"pages_fetched": 0, "errors": {"dns": 2}}).startswith("nothing could be fetched (dns: 2)")
    assert work_failed({"pages_fetched": 9, "articles_stored": 0, "errors": {"http_500": 9}})
    assert (
        work_failed({"pages_fetched": 9, "articles_stored": 0, "articles_unchanged": 3, "errors": {"http_500": 6}})
        == ""
    )
    assert work_failed({"pages_fetched": 2, "articles_stored": 0, "errors": {}}) == ""  # nothing new
    assert work_failed({"pages_fetched": 9, "articles_stored": 8, "errors": {"http_404": 1}}) == ""
    assert work_failed({"pages_fetched": 9, "articles_stored": 6, "errors": {"store_failed/OSError": 3}}) == (
        "the store could not keep everything (store_failed/OSError: 3)")


@pytest.mark.parametrize(("given", "known"), [("OUTPT_FORMAT", "OUTPUT_FORMAT"), ("STORE_URL", "STORE_URI"),
                                              ("DOWNLOAD_DELAI", "DOWNLOAD_DELAY")])
def test_a_misspelt_setting_is_named_with_the_known_one(site, store, given, known):
    result = crawl(site, store, "-s", f"{given}=1")
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {given}: unknown setting; did you mean {known}?"
    assert not (store / "runs").exists()  # nothing started


def test_a_setting_unlike_any_known_one_is_left_to_the_addons(site, store):
    result = crawl(site, store, "-s", "MYADDON_COLOUR=blue", "-a", "limit=1")
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_misspelt_setting_in_a_schedule_names_the_job(tmp_path):
    schedule = tmp_path / "schedules.toml"
    schedule.write_text('[[job]]\nname = "wire"\nspider = "nypost"\nevery = "1h"\nsettings = { REVISIT_AFTR = 60 }\n')
    result = scrapy("schedule", "--config", str(schedule), "--check", store=tmp_path / "store")
    assert result.returncode == 2
    assert result.stderr.strip() == (f"error: {schedule}: job 'wire': REVISIT_AFTR: unknown setting; "
                                     "did you mean REVISIT_AFTER?")


def test_an_unknown_site_key_lists_the_known_ones(site, store):
    result = crawl(site, store, "-a", "site=nosuch")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: -a site='nosuch': unknown site; known sites: dailymail, nypost,")
    assert not store.exists() or not any(store.rglob("*.txt"))
    # limit 5: the pages sitemap may be read first, and its three /extra/ pages (no articles) count to the limit
    known = crawl(site, store, "-a", "site=sample", "-a", "limit=5", settings={"SITES_DIRS": str(SAMPLE_SITES)})
    assert known.returncode == 0 and [p.name for p in (store / "articles").iterdir()] == ["sample"]


def test_the_default_log_is_progress_warnings_errors_and_the_summary(site, store):
    result = crawl(site, store, "-a", "limit=19", settings={"LOG_LEVEL": "INFO", "PROGRESS_INTERVAL": "30"})
    assert result.returncode == 0
    before_summary = SUMMARY_START.split(result.stderr)[0].strip().splitlines()
    assert len(before_summary) <= 2, before_summary  # was 158 lines of versions, settings, components, stats
    for chatter in ("Overridden settings", "Enabled extensions", "Dumping Scrapy stats", "Versions"):
        assert chatter not in result.stderr
    summary = SUMMARY_START.split(result.stderr)[1]
    assert re.search(r"archive\s+\d+ WARC records \(\d+ responses\) in 1 file, \d+\.\d (kB|MB)", summary)
    verbose = crawl(site, store, "-a", "limit=2", "-v", settings={"REVISIT_AFTER": "0"})
    assert "Overridden settings" in verbose.stderr and "Dumping Scrapy stats" in verbose.stderr
    debug = crawl(site, store, "-a", "limit=2", settings={"LOG_LEVEL": "DEBUG", "REVISIT_AFTER": "0"})
    assert "Enabled item pipelines" in debug.stderr


@pytest.fixture(scope="module")
def slow_site():
    """The sample site, each page half a second late: a crawl of it is still fetching when it is signalled."""
    with ServerProcess("tests.servers.http_archive", "--delay", "0.5") as server:
        yield server


def signalled_crawl(site, store: Path, forced: bool) -> Crawl:
    command = scrapy_command("crawl", "sitemap", "-a", f"url={site.url('/sitemap.xml')}", store=store)
    return stopped_after_a_document(command, store, forced=forced)


def test_a_stop_finishes_its_writes_and_a_forced_stop_is_a_failure(slow_site, tmp_path):
    graceful = signalled_crawl(slow_site, tmp_path / "graceful", forced=False)
    assert graceful.returncode == 0, graceful.stderr[-3000:]
    assert graceful.run_record()["finish_reason"] == "shutdown"
    forced = signalled_crawl(slow_site, tmp_path / "forced", forced=True)
    assert "shutting down gracefully" in forced.stderr and "forcing unclean shutdown" in forced.stderr
    assert forced.run_record()["finish_reason"] == "running"  # the run never closed: its last writes may be lost
    assert forced.returncode == 1, forced.stderr[-3000:]
    assert forced.stderr.strip().splitlines()[-1].startswith("error: the crawl was forced to stop")


def help_text(*command: str) -> str:
    return subprocess.run([sys.executable, "-m", "scrapy", *command, "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60).stdout


def test_help_texts_render_as_written():
    schedule = help_text("schedule")
    assert "schedule file (default: schedules.toml; example:\n" in schedule
    assert not re.search(r"^=+$\n\s+settings/schedules", schedule, re.MULTILINE)  # a wrapped line is no heading
    assert re.search(r"^Options\n=======$", schedule, re.MULTILINE)  # the real headings still are
    extract = help_text("extract")
    assert "--format {frontmatter,plain}" in extract
    crawl_help = help_text("crawl")
    for argument in ("site=KEY", "limit=N", "url=URL[,URL]", "file=PATH", "urls=URL[,URL]", "Exit codes: 0"):
        assert argument in crawl_help


def test_every_number_and_switch_of_the_base_settings_is_checked_before_a_crawl():
    """A value of the wrong kind is one line before anything starts, not a traceback from whichever component
    reads it: the checks cover every true/false and every number settings/base.py sets."""
    import settings.base as base
    from crawler.config import BOOLEANS, NUMBERS

    values = {name: getattr(base, name) for name in dir(base) if name.isupper()}
    switches = {name for name, value in values.items() if isinstance(value, bool)}
    numbers = {name for name, value in values.items() if isinstance(value, (int, float)) and name not in switches}
    assert switches <= set(BOOLEANS), sorted(switches - set(BOOLEANS))
    assert numbers <= set(NUMBERS), sorted(numbers - set(NUMBERS))


@pytest.mark.parametrize(("args", "line"), [
    (["browse", "--port", "abc"], "error: --port abc: give a port from 1 to 65535 (0: any free port)"),
    (["browse", "--port", "8080x"], "error: --port 8080x: give a port from 1 to 65535 (0: any free port)"),
    (["evaluate", "--worst", "ten"], "error: --worst ten: expected a whole number, 0 or more"),
    (["evaluate", "--worst", "-3"], "error: --worst -3: expected a whole number, 0 or more"),
    (["extract", "--format", "xml", "page.html"],
     "error: --format: invalid choice: 'xml' (choose from 'frontmatter', 'plain')"),
    (["crawl", "sitemap", "-a", "url=http://127.0.0.1:9/sitemap.xml", "-L", "LOUD"],
     "error: setting LOG_LEVEL='LOUD' (-L): expected one of CRITICAL, ERROR, WARNING, INFO, DEBUG"),
    (["crawl", "sitemap", "-a", "url"], "error: Invalid -a value, use -a NAME=VALUE"),
    (["replay"], "error: give one WARC file, directory or s3:// prefix"),
    (["list", "nytimes"], "error: list takes no arguments ('nytimes'); `scrapy list -v` says what each spider crawls"),
    # checked when its spider was made, inside the crawl: a traceback that printed the password
    (["extract", "https://reader:pw-3b7d@127.0.0.1:9/story"],
     "error: 'https://reader:***@127.0.0.1:9/story': not a fetchable URL (a user name or password in it)"),
    (["extract", "https://127.0.0.1:99999/story"],
     "error: 'https://127.0.0.1:99999/story': not a valid URL (Port out of range 0-65535)"),
    # read by a stage when the crawl is built: a ValueError traceback and exit code 1 before it was checked
    (["crawl", "urls", "-a", "urls=https://a.example/n/1", "-s", "EXTRACT_INCLUDE_TABLES=perhaps"],
     "error: setting EXTRACT_INCLUDE_TABLES='perhaps': expected true or false"),
    (["crawl", "urls", "-a", "urls=https://a.example/n/1", "-s", "RETRY_TIMES=three"],
     "error: setting RETRY_TIMES='three': expected a whole number, 0 or more"),
    # switched on, but not loaded (settings/base.py leaves it out of EXTENSIONS_BASE): it would silently not run
    (["crawl", "urls", "-a", "urls=https://a.example/n/1", "-s", "REMOTE_CONTROL_ENABLED=True"],
     "error: setting REMOTE_CONTROL_ENABLED=True: also name the extension to load it, "
     "-s 'EXTENSIONS={\"scrapy.extensions.remote_control.RemoteControl\": 0}' (docs/safety.md)"),
])
def test_a_bad_command_line_value_is_one_line_and_exit_code_2(tmp_path, args, line):
    """Not argparse's usage block with its message at the end, nor a traceback: the contract's one line."""
    result = scrapy(*args, store=tmp_path / "store", settings={"LOG_LEVEL": "WARNING"})
    assert (result.returncode, result.stderr) == (2, line + "\n")
    assert not (tmp_path / "store").exists()  # nothing started


@pytest.mark.parametrize(("args", "option"), [
    (("extract", "{page}", "--fromat", "plain"), "--fromat"),  # a typo in a real option
    (("crawl", "urls", "-a", "urls=https://a.example/n/1", "--dry-run"), "--dry-run"),
    (("replay", "{warc}", "--sinse", "2026-01-01"), "--sinse"),
])
def test_an_unknown_option_is_named_not_taken_for_an_extra_argument(tmp_path, args, option):
    # Scrapy parses with parse_known_args: the option landed among the arguments, and the line said
    # "give one spider name" to a user who gave one
    page = tmp_path / "page.html"
    page.write_text("<html><head><title>T</title></head><body><article><h1>T</h1>"
                    + "<p>A sentence of a story about the council and its budget vote.</p>" * 8
                    + "</article></body></html>")
    args = tuple(a.format(page=page, warc=tmp_path / "none.warc.gz") for a in args)
    done = scrapy(*args, store=tmp_path / "store")
    assert done.returncode == 2 and done.stderr.strip().splitlines() == [done.stderr.strip()], done.stderr[-2000:]
    assert done.stderr.startswith(f"error: {option}: unknown option"), done.stderr[-2000:]
