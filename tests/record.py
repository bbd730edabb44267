"""Record a page as a regression fixture: ``make fixture SITE=<site> URL=<url>``.

    python -m tests.record <site> <url> [--from WARC|DIR [--coding NAME]] [--overwrite-expected]

Fetches the page once with the crawler itself (``scrapy crawl urls``, so
robots.txt, User-Agent and the address guard apply), or takes it from an
existing archive with ``--from``, and writes

    tests/fixtures/pages/<site>/<slug>/page.warc.gz   the exchange, as archived
    tests/fixtures/pages/<site>/<slug>/meta.json      url, site, fetched (the WARC-Date), recorded_with
    tests/fixtures/pages/<site>/<slug>/expected.json  the document's fields, drafted from today's extraction

``--coding`` (with ``--from``) records the page as a site serving it in that
content coding sends it, offline: the sample site (tests/servers/http_archive.py)
serves the archived page, the crawler fetches it, and the fixture keeps that
response as received (compressed, Content-Encoding and all) under the page's
own URL and fetch time. The fixtures were re-recorded that way in gzip, br,
zstd and deflate; a few stay identity.

Review expected.json by hand (fix what extraction gets wrong: that is the
regression you want caught), then commit the folder. ``--overwrite-expected``
re-drafts expected.json from the stored page only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
from functools import partial
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

from scrapy.utils.project import get_project_settings

from crawler.archive.replay import open_store_prefix
from crawler.sites import DEFAULT_FRONT_MATTER, load_sites
from pipelines.archive.files import warc_sources
from pipelines.archive.reader import ArchivedResponse, iter_exchanges
from pipelines.archive.writer import Exchange, exchange_records, warcinfo_record
from pipelines.document.render import parse_document, to_document
from pipelines.extraction.page import extract_and_clean
from pipelines.item import Page, SiteProfile
from tests.helpers import decoded_body
from tests.servers.encodings import ALL

PAGES = Path(__file__).parent / "fixtures" / "pages"
FIELDS = ("url", "title", "description", "date", "author", "language", "source", "image", "body")


def slug_for(url: str) -> str:
    parts = urlsplit(url)
    tail = [p for p in parts.path.split("/") if p]
    words = re.sub(r"[^a-z0-9]+", "-", (tail[-1] if tail else parts.hostname or "page").lower()).strip("-")[:48]
    return f"{words or 'page'}-{hashlib.sha256(url.encode()).hexdigest()[:6]}"


def profile(site: str) -> SiteProfile:
    sites = load_sites()
    return sites[site].profile if site in sites else SiteProfile(key=site, front_matter=dict(DEFAULT_FRONT_MATTER))


def find_response(url: str, location: str) -> ArchivedResponse:
    settings = get_project_settings()
    for _, opener in warc_sources(location, partial(open_store_prefix, settings=settings)):
        with opener() as stream:
            for response in iter_exchanges(stream):
                if response.url == url and response.status == 200:
                    return response
    raise SystemExit(f"error: {url} is not in {location}")


def fetch(site: str, url: str, private: bool = False) -> ArchivedResponse:
    with tempfile.TemporaryDirectory() as tmp:
        # a fixture folder named for the host (bbc_com) has no site file: the crawl keys the page by its host
        site_args = ["-a", f"site={site}"] if site in load_sites() else []
        command = [sys.executable, "-m", "scrapy", "crawl", "urls", "-a", f"urls={url}", *site_args,
                   "-s", f"STORE_URI={tmp}/store", "-s", f"STATE_DIR={tmp}/state", "-s", "REVISIT_AFTER=0",
                   "-s", "LOG_LEVEL=WARNING", "-s", "PROGRESS_SUMMARY=false",
                   "-s", f"ALLOW_PRIVATE_NETWORKS={private}"]  # private: the sample site on 127.0.0.1
        subprocess.run(command, check=True, cwd=Path(__file__).resolve().parents[1])
        archived = [r for _, opener in warc_sources(f"{tmp}/store/warc", None) for r in iter_exchanges(opener())]
    pages = [r for r in archived if r.status == 200 and r.meta.get("role") == "article"]
    if not pages:
        raise SystemExit(f"error: no article page fetched from {url}")
    return pages[-1]


def served_in(coding: str, response: ArchivedResponse, site: str) -> ArchivedResponse:
    """``response`` as the crawler receives it from a server sending it in ``coding`` (the sample site, offline)."""
    from tests.servers.base import ServerProcess
    from tests.servers.http_archive import served_path

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "page.warc.gz"
        exchange = Exchange(url=response.url, site=site, fetched=response.fetched, status=response.status,
                            headers=response.headers, body=decoded_body(response), meta=response.meta)
        source.write_bytes(exchange_records(exchange))
        with ServerProcess("tests.servers.http_archive", "--warc", str(source), "--coding", coding) as server:
            received = fetch(site, server.url(served_path(response.url)), private=True)
    received.url, received.fetched = response.url, response.fetched  # the page's own address and time
    return received


def document_fields(response: ArchivedResponse, site: str) -> dict:
    """The document a crawl makes of this response, as the fields expected.json holds."""
    content_type = next((v for k, v in response.headers if k.lower() == "content-type"), "")
    page = Page(url=response.url, body=decoded_body(response), site=profile(site), fetched=response.fetched,
                content_type=content_type, hints=response.meta.get("hints", {}))
    article = extract_and_clean(page)
    meta, body = parse_document(to_document(article).text)
    fields = {key: meta.get(key, "") for key in FIELDS if key != "body"}
    fields["body"] = body
    return fields


def write_fixture(site: str, response: ArchivedResponse, overwrite_expected: bool = True) -> Path:
    folder = PAGES / site / slug_for(response.url)
    folder.mkdir(parents=True, exist_ok=True)
    exchange = Exchange(
        url=response.url,
        site=site,
        fetched=response.fetched,
        status=response.status,
        headers=response.headers,
        body=response.body,
        meta={"role": "article", **response.meta, "site": site},
    )
    (folder / "page.warc.gz").write_bytes(
        warcinfo_record("page.warc.gz", {"software": "tests/record.py"}) + exchange_records(exchange)
    )
    meta = {
        "url": response.url,
        "site": site,
        "fetched": response.fetched.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "recorded_with": f"newsarchive {version('newsarchive')}, scrapy {version('scrapy')}, "
        f"trafilatura {version('trafilatura')}",
    }
    (folder / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    if overwrite_expected or not (folder / "expected.json").exists():
        expected = document_fields(response, site)
        (folder / "expected.json").write_text(json.dumps(expected, indent=2, ensure_ascii=False, default=str) + "\n")
    return folder


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Record one page as a regression fixture")
    parser.add_argument("site", help="site key: a site file's name, or a new key for a host")
    parser.add_argument("url")
    parser.add_argument(
        "--from", dest="source", help="take the page from this WARC file or directory instead of fetching"
    )
    parser.add_argument(
        "--overwrite-expected", action="store_true", help="re-draft expected.json of an existing fixture"
    )
    parser.add_argument("--coding", choices=ALL, help="with --from: record it as served in this content coding")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", args.site):
        raise SystemExit("error: SITE must be a snake_case key")
    folder = PAGES / args.site / slug_for(args.url)
    if folder.exists() and args.overwrite_expected and not args.source:
        with open(folder / "page.warc.gz", "rb") as stream:
            response = next(iter_exchanges(stream))
    else:
        response = find_response(args.url, args.source) if args.source else fetch(args.site, args.url)
    if args.coding:
        if not args.source:
            raise SystemExit("error: --coding records a page taken --from an archive")
        response = served_in(args.coding, response, args.site)
    folder = write_fixture(
        args.site, response, overwrite_expected=args.overwrite_expected or not (folder / "expected.json").exists()
    )
    print(f"{folder}: review expected.json, then commit the folder")


if __name__ == "__main__":
    main()
