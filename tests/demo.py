"""``make demo``: serve the bundled sample site on 127.0.0.1, crawl it into ./archive, show what was stored.

The sample site is 90 real article pages (tests/fixtures/corpus) with a
sitemap, feeds and a few pages that are not articles. The crawl is a normal
``scrapy crawl sitemap``; only loopback is allowed for it.
"""

from __future__ import annotations

import subprocess
import sys

from tests.servers.base import ROOT, ServerProcess

STORE = ROOT / "archive"


def main() -> int:
    with ServerProcess("tests.servers.http_archive") as site:
        print(f"sample site: {site.url('/')}  (sitemap: {site.url('/sitemap.xml')})", flush=True)
        command = [
            sys.executable, "-m", "scrapy", "crawl", "sitemap",
            "-a", f"url={site.url('/sitemap.xml')}", "-a", "site=sample",
            "-s", f"STORE_URI={STORE}", "-s", "ALLOW_PRIVATE_NETWORKS=true",
            "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=false", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16",
            "-s", "LOG_LEVEL=WARNING", "-s", "REVISIT_AFTER=0",
        ]
        print("$ scrapy " + " ".join(command[3:]), flush=True)
        result = subprocess.run(command, cwd=ROOT)
    if result.returncode:
        return result.returncode
    documents = sorted((STORE / "articles").rglob("*.txt"))
    print(f"\nstored in {STORE}:")
    for prefix in ("articles", "warc", "manifest", "runs"):
        files = [p for p in (STORE / prefix).rglob("*") if p.is_file()]
        print(f"  {prefix + '/':<10} {len(files):>4} files")
    if documents:
        newest = max(documents, key=lambda p: p.stat().st_mtime)
        print(f"\none document ({newest.relative_to(ROOT)}):\n")
        print("\n".join(newest.read_text(encoding="utf-8").splitlines()[:24]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
