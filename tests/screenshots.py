"""``python -m tests.screenshots``: docs/report.png, the report of a generated store as Chromium shows it.

The store is bench/report.py's (seeded: the same picture every time), small
enough to draw quickly: 12,000 articles of four sites over 48 runs, one site
losing its bylines in its last runs. Run it again after changing the report's
page, and commit the PNG.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.report import make_store

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "report.png"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def main() -> int:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        store, html = Path(tmp) / "store", Path(tmp) / "report.html"
        make_store(store, articles=12_000, runs=48)
        subprocess.run([sys.executable, "-m", "scrapy", "report", "-s", f"STORE_URI={store}",
                        "-s", f"STATE_DIR={tmp}/state", "-o", str(html)], cwd=ROOT, check=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--disable-gpu"])
            page = browser.new_page(viewport={"width": 1100, "height": 1000}, device_scale_factor=1)
            page.goto(html.as_uri())
            page.screenshot(path=str(OUT), clip={"x": 0, "y": 0, "width": 1100, "height": 1000})
            browser.close()
    print(f"{OUT} ({OUT.stat().st_size / 1e3:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
