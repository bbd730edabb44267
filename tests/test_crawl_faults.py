"""A crawl of good pages mixed with every fault of tests.servers.http_faults: nothing lost, every fault on record.

One crawl for the module: ``scrapy crawl urls`` over the good pages, every
fault, a robots.txt-disallowed page and a name that does not resolve, with
the default DOWNLOAD_MAXSIZE (20 MB) and a short DOWNLOAD_TIMEOUT. Its peak
memory (the crawl process and its extraction workers) is measured while it
runs.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass

import psutil
import pytest
from scrapy.extensions.telnet import TelnetConsole

from crawler.errors import ConfigError
from tests.helpers import ROOT, Crawl, scrapy_command
from tests.servers.base import ServerProcess
from tests.servers.http_faults import BLOCKED_REDIRECTS, FAULTS

PEAK_MEMORY_LIMIT = 700 * 1024 * 1024  # bytes: the bound the crawl must stay under with a 60 MB page in it
DNS_FAILURE = "http://nonexistent.invalid/story.html"  # .invalid never resolves (RFC 2606)
BOT_CONTACT = "mailto:archive-operator@example.org"

# fault -> the reason it is recorded under in the run record's "errors"
RECORDED_AS = {
    "always-503": "http_503",
    "always-429": "http_429",
    "not-found": "http_404",
    "not-modified": "http_304",  # was "bad_redirect", "HTTP 304 to 'nowhere'"
    "reset": "connection_lost",
    "reset-mid-body": "connection_lost",
    "stall": "timeout",
    "stall-body": "timeout",
    "huge": "too_large",
    "huge-stream": "too_large",
    "large-html": "too_large",
    "bomb": "too_large_decompressed",
    "binary": "not_html",
    "binary-as-html": "not_html",
    "bad-encoding": "undecodable",
    "empty": "empty",
    "redirect-loop": "redirect_loop",
    "redirect-chain": "too_many_redirects",
    "redirect-file": "bad_redirect",
    **dict.fromkeys(BLOCKED_REDIRECTS, "blocked_address"),
}
# faults a polite retry gets past, and a page that is readable despite its header: stored
RECOVERED = ("flaky-500", "retry-after-429", "retry-after-503-date", "unknown-charset", "mislabelled-charset")
HELPERS = ("redirect-loop-back",)  # the second hop of redirect-loop, never asked for directly


@dataclass
class FaultCrawl:
    crawl: Crawl
    server: ServerProcess
    good: list[str]
    requests: dict[str, list[float]]
    agents: list[str]
    peak_rss: int

    def url(self, fault: str) -> str:
        return self.server.url(f"/fault/{fault}")


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def run_measured(command: list[str], timeout: float = 180) -> tuple[subprocess.CompletedProcess, int]:
    """Run a command; its result and the peak resident memory of its process tree (bytes)."""
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        root = psutil.Process(process.pid)
        while not done.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(_rss(p) for p in tree))
            except psutil.NoSuchProcess:
                return
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        done.set()
        if process.poll() is None:
            process.kill()
            process.wait()
    watcher.join()
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr), peak


def _rss(process: psutil.Process) -> int:
    try:
        return process.memory_info().rss
    except psutil.Error:
        return 0


@pytest.fixture(scope="module")
def fault_crawl(tmp_path_factory) -> FaultCrawl:
    work = tmp_path_factory.mktemp("faults")
    with ServerProcess("tests.servers.http_faults", "--good", "10") as server:
        good = [server.url(path) for path in get_json(server.url("/_good"))]
        faults = [server.url(f"/fault/{name}") for name in FAULTS if name not in HELPERS]
        urls = [*good[:5], *faults, server.url("/private/members-only-story"), DNS_FAILURE, *good[5:]]
        (work / "urls.txt").write_text("\n".join(urls) + "\n")
        command = scrapy_command(
            "crawl", "urls", "-a", f"file={work / 'urls.txt'}", store=work / "store",
            settings={
                "DOWNLOAD_TIMEOUT": "2",  # the stalled server: three attempts of 2 s, not of 30 s
                "RETRY_TIMES": "2",
                "RETRY_BACKOFF_BASE": "0.5",
                "BOT_CONTACT": BOT_CONTACT,
            },
        )
        result, peak = run_measured(command)
        crawl = Crawl(result.returncode, result.stdout, result.stderr, work / "store")
        assert result.returncode == 0, result.stderr[-3000:]
        requests = get_json(server.url("/_requests"))
        agents = get_json(server.url("/_agents"))
        yield FaultCrawl(crawl, server, good, requests, agents, peak)


def test_every_fault_has_an_expectation():
    assert set(FAULTS) == set(RECORDED_AS) | set(RECOVERED) | set(HELPERS)


def test_crawl_finishes_on_its_own(fault_crawl):
    record = fault_crawl.crawl.run_record()
    assert record["finish_reason"] == "finished"
    assert not list((fault_crawl.crawl.store / ".tmp").iterdir())


def test_every_good_page_is_stored(fault_crawl):
    documents = fault_crawl.crawl.documents()
    stored_urls = {meta["url"] for meta, _ in documents.values()} | set(documents)
    assert set(fault_crawl.good) <= stored_urls
    recovered = {fault_crawl.url(name) for name in RECOVERED}
    assert recovered <= stored_urls
    record = fault_crawl.crawl.run_record()
    assert record["articles_stored"] == len(fault_crawl.good) + len(RECOVERED) == len(documents)


@pytest.mark.parametrize("fault", sorted(RECORDED_AS))
def test_fault_is_recorded_with_its_reason(fault_crawl, fault):
    reason = RECORDED_AS[fault]
    record = fault_crawl.crawl.run_record()
    expected = sum(1 for other in RECORDED_AS.values() if other == reason)
    assert record["errors"].get(reason) == expected, record["errors"]
    assert fault_crawl.requests.get(f"/fault/{fault}"), f"{fault} was never fetched"
    mark = BLOCKED_REDIRECTS.get(fault) or fault_crawl.url(fault)
    assert any(mark in line for line in fault_crawl.crawl.stderr.splitlines()), f"no log line names {mark}"


@pytest.mark.parametrize("fault", ["always-503", "stall", "reset"])
def test_a_failure_after_its_retries_is_one_line_in_the_log(fault_crawl, fault):
    # Scrapy's retry also logged "Gave up retrying …" as an error, with twisted's list of failures
    url = re.compile(re.escape(fault_crawl.url(fault)) + r"(?![\w-])")  # not /fault/stall-body for /fault/stall
    lines = [line for line in fault_crawl.crawl.stderr.splitlines() if url.search(line)]
    assert len(lines) == 1 and "Failure" not in lines[0], lines


def test_redirects_to_metadata_addresses_are_refused(fault_crawl):
    log = fault_crawl.crawl.stderr
    assert "blocked address (a cloud metadata address) (http://169.254.169.254/latest/meta-data/" in log
    assert "2852039166 resolves to 169.254.169.254" in log  # a name is checked on the address it resolves to
    assert fault_crawl.crawl.run_record()["errors"]["blocked_address"] == len(BLOCKED_REDIRECTS)


def test_run_record_holds_no_other_errors(fault_crawl):
    record = fault_crawl.crawl.run_record()
    assert set(record["errors"]) == set(RECORDED_AS.values()) | {"dns"}
    assert record["errors"]["dns"] == 1


@pytest.mark.parametrize("fault", RECOVERED[:3])
def test_server_errors_are_retried_until_the_page_comes(fault_crawl, fault):
    times = fault_crawl.requests[f"/fault/{fault}"]
    assert len(times) == (3 if fault == "flaky-500" else 2)
    retries = fault_crawl.crawl.run_record()["retries"]
    assert retries["retry_after"] == 1 + 1 + 2  # retry-after-429, retry-after-503-date, always-429 twice


def test_a_mislabelled_charset_is_read_as_the_page_declares(fault_crawl):
    documents = {url: body for url, (meta, body) in fault_crawl.crawl.documents().items()}
    body = documents[fault_crawl.url("mislabelled-charset")]
    assert "\ufffd" not in body and re.search(r"[çãõáéíóú]", body), body[:300]


def test_retry_after_is_honoured(fault_crawl):
    # 429 with "Retry-After: 1", 503 with an HTTP date one to two seconds ahead; lower bounds only
    for fault, wait in (("retry-after-429", 1.0), ("retry-after-503-date", 1.0), ("always-429", 1.0)):
        times = fault_crawl.requests[f"/fault/{fault}"]
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert gaps and min(gaps) >= wait - 0.1, (fault, gaps)


def test_backoff_doubles_between_retries(fault_crawl):
    times = fault_crawl.requests["/fault/always-503"]  # RETRY_BACKOFF_BASE=0.5: waits of 0.5 s, then 1 s
    assert len(times) == 3
    assert times[1] - times[0] >= 0.45 and times[2] - times[1] >= 0.95, times


def test_gives_up_after_retry_times(fault_crawl):
    for fault in ("always-503", "always-429", "stall"):
        assert len(fault_crawl.requests[f"/fault/{fault}"]) == 3, fault  # RETRY_TIMES=2: three attempts
    assert len(fault_crawl.requests["/fault/not-found"]) == 1  # a 404 is not retried
    assert len(fault_crawl.requests["/fault/redirect-chain"]) == 1 + 10  # REDIRECT_MAX_TIMES hops, then stop


def test_peak_memory_stays_bounded_with_a_60_mb_page(fault_crawl):
    assert fault_crawl.requests.get("/fault/huge-stream") and fault_crawl.requests.get("/fault/huge")
    assert 0 < fault_crawl.peak_rss < PEAK_MEMORY_LIMIT, f"peak RSS {fault_crawl.peak_rss / 2**20:.0f} MB"


def test_oversized_bodies_are_not_archived(fault_crawl):
    from pipelines.archive.reader import iter_exchanges

    sizes = {}
    for path in (fault_crawl.crawl.store / "warc").rglob("*.warc.gz"):
        with open(path, "rb") as stream:
            sizes.update({response.url: len(response.body) for response in iter_exchanges(stream)})
    assert fault_crawl.url("huge") not in sizes and fault_crawl.url("huge-stream") not in sizes
    assert sizes[fault_crawl.url("bomb")] < 2 * 1024 * 1024  # kept as sent: gzip, not inflated
    assert all(size <= 20 * 1024 * 1024 for size in sizes.values())


# --- politeness ----------------------------------------------------------------------------


def test_robots_txt_disallow_is_obeyed_and_counted(fault_crawl):
    assert fault_crawl.requests.get("/robots.txt")
    assert "/private/members-only-story" not in fault_crawl.requests
    assert fault_crawl.crawl.run_record()["skipped"].get("robots_txt") == 1


def test_user_agent_names_the_project_and_the_contact(fault_crawl):
    assert fault_crawl.agents == [f"newsarchive/0.1 (+{BOT_CONTACT})"]


def test_politeness_defaults():
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("settings.base")
    assert settings.getbool("ROBOTSTXT_OBEY") and settings.getbool("AUTOTHROTTLE_ENABLED")
    assert 0 < settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") <= 8
    assert settings.getfloat("DOWNLOAD_DELAY") > 0
    assert settings.getint("DOWNLOAD_MAXSIZE") == 20 * 1024 * 1024
    assert not settings.getbool("ALLOW_PRIVATE_NETWORKS")
    assert not settings.getbool("TELNETCONSOLE_ENABLED") and not settings.getbool("REMOTE_CONTROL_ENABLED")


def test_scrapy_extensions_load_but_the_switched_off_servers():
    from scrapy.settings import Settings
    from scrapy.utils.conf import build_component_list

    settings = Settings()
    settings.setmodule("settings.base")
    loaded = {name.rsplit(".", 1)[-1] for name in build_component_list(settings.getwithbase("EXTENSIONS"))}
    # what the crawl relies on: stats, log counts, the memory guard, CLOSESPIDER_*, AutoThrottle, our own
    assert {"CoreStats", "LogCount", "MemoryUsage", "CloseSpider", "AutoThrottle", "RunRecord"} <= loaded
    assert not loaded & {"RemoteControl", "TelnetConsole"}


class OwnTelnetConsole(TelnetConsole):
    """A project's console: a subclass of Scrapy's, named by its own path."""


@pytest.mark.parametrize("extension", [TelnetConsole, f"{__name__}.OwnTelnetConsole", OwnTelnetConsole])
def test_a_console_switched_on_and_loaded_is_no_error_however_it_is_named(extension):
    # EXTENSIONS takes classes as well as paths (a settings module, CrawlerProcess({...})), and subclasses: the
    # check compared str(key) with Scrapy's path and called each of these "not loaded"
    from scrapy.settings import Settings

    from crawler.config import check_servers_loaded

    settings = Settings()
    settings.setmodule("settings.base")
    settings.set("TELNETCONSOLE_ENABLED", True, priority="cmdline")
    settings.set("EXTENSIONS", {extension: 0}, priority="cmdline")
    check_servers_loaded(settings)
    settings.set("EXTENSIONS", {extension: None}, priority="cmdline")  # switched off again: it is not loaded
    with pytest.raises(ConfigError, match="TELNETCONSOLE_ENABLED=True: also name the extension"):
        check_servers_loaded(settings)


def test_no_remote_control_server_is_opened(fault_crawl):
    assert "Remote control HTTP server listening" not in fault_crawl.crawl.stderr
