"""The address guard: only http(s), never metadata or link-local addresses, private ones only when allowed.

Redirects to 169.254.169.254 and friends are in test_crawl_faults (the fault
server redirects there, with ALLOW_PRIVATE_NETWORKS on so that it can be
reached itself); here the guard is run with the project's default, off.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request

import pytest
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawler.middlewares.redirects import RedirectLoopMiddleware, redirect_target
from crawler.netguard import AddressGuardMiddleware, blocked_reason, check_url
from tests.helpers import scrapy
from tests.servers.base import ServerProcess

# address -> (reason with private networks refused, reason with them allowed); "" means it may be fetched
ADDRESSES = {
    # cloud metadata and link-local: never
    "169.254.169.254": ("a cloud metadata address", "a cloud metadata address"),
    "169.254.170.2": ("a cloud metadata address", "a cloud metadata address"),
    "fd00:ec2::254": ("a cloud metadata address", "a cloud metadata address"),
    "100.100.100.200": ("a cloud metadata address", "a cloud metadata address"),
    "192.0.0.192": ("a cloud metadata address", "a cloud metadata address"),
    "169.254.1.1": ("a link-local address", "a link-local address"),
    "fe80::1": ("a link-local address", "a link-local address"),
    "fe80::1%eth0": ("a link-local address", "a link-local address"),
    # the same, spelled as IPv6
    "::ffff:169.254.169.254": ("a cloud metadata address", "a cloud metadata address"),
    "::ffff:a9fe:a9fe": ("a cloud metadata address", "a cloud metadata address"),
    "::169.254.169.254": ("a cloud metadata address", "a cloud metadata address"),
    "64:ff9b::a9fe:a9fe": ("a cloud metadata address", "a cloud metadata address"),
    "64:ff9b:1::a9fe:a9fe": ("a cloud metadata address", "a cloud metadata address"),
    "2002:a9fe:a9fe::1": ("a cloud metadata address", "a cloud metadata address"),
    "::ffff:169.254.1.1": ("a link-local address", "a link-local address"),
    # loopback, private, shared, reserved: only with ALLOW_PRIVATE_NETWORKS
    "127.0.0.1": ("a loopback address", ""),
    "127.8.9.10": ("a loopback address", ""),
    "::1": ("a loopback address", ""),
    "::ffff:127.0.0.1": ("a loopback address", ""),
    "::127.0.0.1": ("a loopback address", ""),
    "64:ff9b::7f00:1": ("a loopback address", ""),
    "2002:7f00:1::1": ("a loopback address", ""),
    "10.1.2.3": ("a private address", ""),
    "172.16.0.1": ("a private address", ""),
    "172.31.255.255": ("a private address", ""),
    "192.168.1.1": ("a private address", ""),
    "::ffff:10.0.0.1": ("a private address", ""),
    "fc00::1": ("a private address", ""),
    "fd12:3456::1": ("a private address", ""),
    "0.0.0.0": ("a private address", ""),
    "::": ("a private address", ""),
    "100.64.0.1": ("not a public address", ""),
    "192.0.0.8": ("not a public address", ""),
    "192.0.2.1": ("a private address", ""),
    "198.18.0.1": ("a private address", ""),
    "203.0.113.7": ("a private address", ""),
    "2001:db8::1": ("a private address", ""),
    "fec0::1": ("not a public address", ""),
    "224.0.0.1": ("not a public address", ""),
    "ff02::1": ("not a public address", ""),
    "240.0.0.1": ("a private address", ""),
    "255.255.255.255": ("a private address", ""),
    # public
    "8.8.8.8": ("", ""),
    "93.184.216.34": ("", ""),
    "2606:4700::1111": ("", ""),
    "2a00:1450:4001::1": ("", ""),
    "::ffff:8.8.8.8": ("", ""),
    "64:ff9b::808:808": ("", ""),
    "2002:808:808::1": ("", ""),
}


@pytest.mark.parametrize("address", ADDRESSES)
def test_blocked_reason(address):
    refused, allowed = ADDRESSES[address]
    assert blocked_reason(address) == refused
    assert blocked_reason(address, allow_private=True) == allowed


@pytest.mark.parametrize("url", [
    "ftp://example.com/story", "file:///etc/passwd", "gopher://example.com/", "data:text/html,hi",
    "javascript:alert(1)", "ws://example.com/", "s3://bucket/key", "//example.com/no-scheme",
])
def test_only_http_and_https(url):
    assert "is not http(s)" in check_url(url, allow_private=True)


@pytest.mark.parametrize("url, reason", [
    ("http://169.254.169.254/latest/meta-data/", "a cloud metadata address"),
    ("http://[::ffff:169.254.169.254]/", "a cloud metadata address"),
    ("http://[fd00:ec2::254]:80/", "a cloud metadata address"),
    ("http://[::ffff:127.0.0.1]:8080/", "a loopback address"),
    ("https://[::1]/", "a loopback address"),
    ("http://localhost:8080/", "a loopback address"),
    ("http://admin.localhost/", "a loopback address"),
    ("http://10.0.0.5/", "a private address"),
    ("http://[bad/story", "not a URL"),
    ("https://example.com/news/1.html", ""),
])
def test_check_url(url, reason):
    assert check_url(url) == reason


def guard(allow_private: bool = False) -> AddressGuardMiddleware:
    return AddressGuardMiddleware.from_crawler(get_crawler(settings_dict={"ALLOW_PRIVATE_NETWORKS": allow_private}))


@pytest.mark.parametrize("url", ["http://169.254.169.254/", "http://[::ffff:169.254.169.254]/", "http://[fe80::1]/"])
def test_metadata_and_link_local_are_refused_even_when_private_networks_are_allowed(url):
    with pytest.raises(IgnoreRequest, match="blocked address"):
        asyncio.run(guard(allow_private=True).process_request(Request(url)))


def test_private_literals_pass_only_when_allowed():
    request = Request("http://192.168.0.10:8080/story")
    assert asyncio.run(guard(allow_private=True).process_request(request)) is None
    with pytest.raises(IgnoreRequest, match="a private address"):
        asyncio.run(guard().process_request(request))


def test_a_redirect_back_along_the_chain_is_a_loop():
    request = Request("http://example.com/b", meta={"redirect_urls": ["http://example.com/a"]})
    back = HtmlResponse("http://example.com/b", status=302, headers={"Location": "/a#top"})
    onward = HtmlResponse("http://example.com/b", status=301, headers={"Location": "//example.com/c"})
    assert redirect_target(request, back) == "http://example.com/a"
    assert redirect_target(request, onward) == "http://example.com/c"
    with pytest.raises(IgnoreRequest, match="redirect loop"):
        RedirectLoopMiddleware().process_response(request, back)
    assert RedirectLoopMiddleware().process_response(request, onward) is onward


# --- end to end, with the project's default ALLOW_PRIVATE_NETWORKS=false ------------------------

# names and spellings of 127.0.0.1: the IP literals are refused as written, the others once resolved
LOOPBACK_HOSTS = (
    "localhost",
    "127.0.0.1",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "2130706433",
    "127.1",
    "0177.0.0.1",
)


def requests_seen(server: ServerProcess) -> dict:
    with urllib.request.urlopen(server.url("/_requests"), timeout=10) as response:
        return json.load(response)


@pytest.fixture(scope="module")
def faults_server():
    with ServerProcess("tests.servers.http_faults", "--good", "1") as server:
        yield server


def loopback_urls(server: ServerProcess) -> list[str]:
    port = server.base_url.rsplit(":", 1)[1]
    return [f"http://{host}:{port}/fault/not-found?via={n}" for n, host in enumerate(LOOPBACK_HOSTS)]


def test_names_and_literals_of_loopback_are_never_fetched(faults_server, tmp_path):
    (tmp_path / "urls.txt").write_text("\n".join(loopback_urls(faults_server)) + "\n")
    crawl = scrapy("crawl", "urls", "-a", f"file={tmp_path / 'urls.txt'}", store=tmp_path / "store",
                   settings={"ALLOW_PRIVATE_NETWORKS": "false"})
    assert crawl.returncode == 1, crawl.stderr[-3000:]  # nothing could be fetched: the crawl failed, and says why
    assert crawl.stderr.strip().endswith(f"nothing could be fetched (blocked_address: {len(LOOPBACK_HOSTS)})")
    assert requests_seen(faults_server) == {}  # not even robots.txt
    record = crawl.run_record()
    assert record["errors"] == {"blocked_address": len(LOOPBACK_HOSTS)}
    assert not record["retries"]  # a refusal is final: never retried
    assert "2130706433 resolves to 127.0.0.1" in crawl.stderr


def test_the_resolver_refuses_names_on_its_own(faults_server, tmp_path):
    """With the middleware taken out, the DNS resolver (TWISTED_DNS_RESOLVER) still refuses the names."""
    hosts = [url for url in loopback_urls(faults_server) if "//2130706433:" in url or "//127.1:" in url]
    (tmp_path / "urls.txt").write_text("\n".join(hosts) + "\n")
    middlewares = {"crawler.netguard.AddressGuardMiddleware": None, "crawler.archive.record.ArchiveMiddleware": 950}
    crawl = scrapy("crawl", "urls", "-a", f"file={tmp_path / 'urls.txt'}", store=tmp_path / "store",
                   settings={"ALLOW_PRIVATE_NETWORKS": "false", "RETRY_TIMES": "0",
                             "DOWNLOADER_MIDDLEWARES": json.dumps(middlewares)})
    assert crawl.returncode == 1, crawl.stderr[-3000:]  # nothing could be fetched
    assert requests_seen(faults_server) == {}
    assert "blocked 2130706433: it resolves to 127.0.0.1" in crawl.stderr
    assert crawl.run_record()["errors"] == {"dns": 2}
