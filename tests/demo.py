"""``make demo``: serve the bundled sample site on 127.0.0.1, crawl it into ./archive, show what was stored.

The sample site is 90 real article pages (tests/fixtures/corpus) with a
sitemap, feeds and a few pages that are not articles. The crawl is a normal
``scrapy crawl sitemap`` into the ``sample`` site (tests/fixtures/sites);
only loopback is allowed for it.

The site is served on a fixed port (8765), so its articles keep their URLs
from one demo to the next, and a second ``make demo`` within REVISIT_AFTER
(a day) fetches only robots.txt and the sitemaps and stores nothing new. When
the port is taken, another one is used and said so: the URLs are then new.

    python -m tests.demo [--store DIR] [--port N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from tests.helpers import SAMPLE_SITES
from tests.servers.base import ROOT, ServerProcess

STORE = ROOT / "archive"
PORT = 8765  # the sample site file's sitemap URL names it too


def serve(port: int) -> ServerProcess:
    try:
        return ServerProcess("tests.servers.http_archive", "--port", str(port)).__enter__()
    except RuntimeError:
        if not port:
            raise
        print(f"port {port} is taken: the sample site runs on another port, so its URLs are new to the archive",
              file=sys.stderr)
        return ServerProcess("tests.servers.http_archive", "--port", "0").__enter__()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Crawl the bundled sample site into a store")
    parser.add_argument("--store", type=Path, default=STORE)
    parser.add_argument("--port", type=int, default=PORT, help="the sample site's port (0: any free one)")
    args = parser.parse_args(argv)
    site = serve(args.port)
    try:
        print(f"sample site: {site.url('/')}  (sitemap: {site.url('/sitemap.xml')})", flush=True)
        command = [
            sys.executable, "-m", "scrapy", "crawl", "sitemap",
            "-a", f"url={site.url('/sitemap.xml')}", "-a", "site=sample",
            "-s", f"SITES_DIRS={SAMPLE_SITES.relative_to(ROOT)}",
            "-s", f"STORE_URI={args.store}", "-s", "ALLOW_PRIVATE_NETWORKS=true",
            "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=false", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16",
        ]
        print("$ scrapy " + " ".join(command[3:]), flush=True)
        result = subprocess.run(command, cwd=ROOT)
    finally:
        site.stop()
    if result.returncode:
        return result.returncode
    store = args.store
    documents = sorted((store / "articles").rglob("*.txt"))
    print(f"\nstored in {store}:")
    for prefix in ("articles", "warc", "manifest", "runs"):
        files = [p for p in (store / prefix).rglob("*") if p.is_file()]
        print(f"  {prefix + '/':<10} {len(files):>4} files")
    if documents:
        newest = max(documents, key=lambda p: p.stat().st_mtime)
        print(f"\none document ({newest}):\n")
        print("\n".join(newest.read_text(encoding="utf-8").splitlines()[:24]))
    print(f"\nSee it all: scrapy report -s STORE_URI={store} -o report.html, or scrapy browse -s STORE_URI={store}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
