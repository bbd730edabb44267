"""``python -m bench.report``: how long ``scrapy report`` takes on a large store (target: 100,000 articles in 10 s).

Writes a store of ARTICLES manifest lines and RUNS run records, in the
shapes the crawler writes them (sites, fields, body lengths, revisions,
errors with URLs, one site losing its bylines in its last runs), then times
the whole command, start-up included, as a user waits for it: once with an
empty STATE_DIR (every run record read from the store) and once again (run
records from the cache). Not a test: the figures depend on the machine.

    python -m bench.report [--articles 100000] [--runs 200] [--keep DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipelines.report.alarms import layout_alarms
from pipelines.report.fields import TRACKED_FIELDS

ROOT = Path(__file__).resolve().parents[1]
SITES = ("nypost", "dailymail", "punch", "premium_times")
KEYS = ("categories", "date", "description", "extends", "featured", "fetched", "image", "language", "section",
        "source", "title", "url")


def make_store(root: Path, articles: int, runs: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    (root / "manifest").mkdir(parents=True)
    (root / "runs").mkdir()
    start = datetime(2026, 9, 1, tzinfo=UTC)
    weights = [rng.uniform(0.6, 1.4) for _ in range(runs)]  # runs find more or fewer new articles
    sizes = [int(articles * w / sum(weights)) for w in weights]
    sizes[-1] += articles - sum(sizes)
    number = 0
    history: list[dict] = []
    for run, per_run in enumerate(sizes):
        site = SITES[run % len(SITES)]
        began = start + timedelta(hours=6 * run)
        run_id = f"{site}-{began:%Y%m%dT%H%M%SZ}-{run:04x}"
        bylines = not (site == "nypost" and run >= runs - 8)
        lines, fields, chars = [], dict.fromkeys(TRACKED_FIELDS, 0), 0
        for i in range(per_run):
            number += 1
            url = f"https://www.{site}.example/2026/{number}/story-{number}.html"
            present = sorted([*KEYS, *(["author"] if bylines and rng.random() < 0.95 else [])])
            body_chars = rng.randint(1500, 6000)
            chars += body_chars
            for name in TRACKED_FIELDS:
                fields[name] += name in present
            digest = hashlib.sha256(url.encode()).hexdigest()
            lines.append(json.dumps({
                "url": url, "key": f"articles/{site}/2026/10/01/{digest[:16]}.txt", "body_sha256": digest,
                "sha256": digest[::-1], "title": f"Story number {number} about the council budget vote",
                "date": "2026-10-01-10-00-00",
                "fetched": (began + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "revision": 2 if rng.random() < 0.02 else 1, "site": site, "fields": present, "body_chars": body_chars,
            }))
        (root / "manifest" / f"{run_id}.jsonl").write_text("\n".join(lines) + "\n")
        pages = per_run + 12
        record = {
            "job": site, "spider": site, "crawl_id": run_id, "run_id": run_id,
            "started": began.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "finished": (began + timedelta(minutes=9)).strftime("%Y-%m-%dT%H:%M:%SZ"), "finish_reason": "finished",
            "pages_fetched": pages, "articles_stored": per_run, "articles_revised": 0, "articles_unchanged": 3,
            "errors": {"http_404": 2, "timeout": 1}, "skipped": {"recently_fetched": 40},
            "archive": {"responses": pages, "records": 3 * pages + 1, "bytes": 150_000 * pages, "files": 1},
            "urls": {"errors": {"http_404": [{"site": site, "url": f"https://www.{site}.example/gone-{run}-{j}"}
                                             for j in range(2)]}},
            "sites": {site: {"found": per_run + 40, "pages": per_run + 2, "articles": per_run, "stored": per_run,
                             "fields": fields, "body_chars": chars, "errors": {"http_404": 2, "timeout": 1},
                             "skipped": {"recently_fetched": 40}}},
        }
        record["alarms"] = layout_alarms(record["sites"], history[::-1])  # as the run record extension does
        history.append(record)
        (root / "runs" / f"{run_id}.json").write_text(json.dumps(record, indent=2))


def timed_report(store: Path, state: Path, out: Path) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "scrapy", "report", "-s", f"STORE_URI={store}", "-s", f"STATE_DIR={state}",
                    "-o", str(out / "report.html"), "-o", str(out / "report.json")], cwd=ROOT, check=True)
    return time.monotonic() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="write the store here and keep it")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-report-"))
    store = args.keep or work / "store"
    try:
        make_store(store, args.articles, args.runs)
        cold = timed_report(store, work / "state", work)
        warm = timed_report(store, work / "state", work)
        size = (work / "report.html").stat().st_size
        print(f"scrapy report on {args.articles:,} articles in {args.runs} runs: {cold:.2f} s (empty STATE_DIR), "
              f"{warm:.2f} s (run records cached); report.html {size / 1e3:,.0f} kB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
