"""Replay throughput for 1 and 2 workers sharing a replay through Redis, and bytes read by a selective replay.

    python -m bench.replay [--pages 900] [--repeat 3]

Crawls the sample site served ``--pages / 90`` times over (``/c<n>/...``) into
one store with its CDXJ indexes, then replays that archive again and again,
the settings interleaved (the machine is shared: a run of each in turn, the
load average noted before each): one process without a frontier, one worker
with ``FRONTIER_URL``, two workers (one extraction process each). Time is
wall time from start until every process has exited, start-up included.
Then replays one copy of the site (``--url /c1/``), a selection by URL, and
compares the bytes it read (WARC and index) with a full replay's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.helpers import ROOT, scrapy_command
from tests.servers.base import ServerProcess
from tests.servers.redis import RedisServer

CORPUS_PAGES = 90
QUIET = {"LOG_LEVEL": "WARNING", "PROGRESS_SUMMARY": "false", "PROGRESS_INTERVAL": "0"}
SETUPS = {  # name -> (workers, settings of each)
    "1 process, no frontier": (0, {"EXTRACT_WORKERS": "-1"}),
    "1 worker": (1, {"EXTRACT_WORKERS": "-1"}),
    "2 workers": (2, {"EXTRACT_WORKERS": "1"}),
}


def replay(warc: Path, scratch: Path, run: str, workers: int, settings: dict[str, str], redis: RedisServer,
           *args: str) -> tuple[float, list[dict]]:
    """Seconds until every worker exited, and their run records."""
    store = scratch / run / "store"
    shared = {"FRONTIER_URL": redis.url, "CRAWL_ID": run, "REPLAY_UNIT_SIZE": str(2 * 1024 * 1024)} if workers else {}
    started = time.monotonic()
    processes = [
        subprocess.Popen(scrapy_command("replay", str(warc), *args, store=store, state=scratch / run / f"state{n}",
                                        settings={**QUIET, **settings, **shared}),
                         cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for n in range(max(workers, 1))
    ]
    for process in processes:
        _, stderr = process.communicate()
        if process.returncode:
            raise SystemExit(f"a replay failed:\n{stderr[-2000:]}")
    seconds = time.monotonic() - started
    records = [json.loads(path.read_text()) for path in (store / "runs").glob("*.json")]
    shutil.rmtree(scratch / run)
    return seconds, records


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=900)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each setting (0: the bytes read only)")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="bench-replay-"))
    copies = -(-args.pages // CORPUS_PAGES)
    print(f"cores: {os.cpu_count()}; archive: the sample site {copies} times over", flush=True)
    try:
        archive = scratch / "archive"
        with ServerProcess("tests.servers.http_archive", "--copies", str(copies)) as site:
            crawl = subprocess.run(scrapy_command("crawl", "sitemap", "-a", f"url={site.url('/sitemap.xml')}",
                                                  store=archive, settings={**QUIET, "ARCHIVE_CDXJ": "true"}),
                                   cwd=ROOT, capture_output=True, text=True, check=False)
        if crawl.returncode:
            raise SystemExit(f"the crawl failed:\n{crawl.stderr[-2000:]}")
        warc = archive / "warc"
        size = sum(p.stat().st_size for p in warc.rglob("*.warc.gz"))
        print(f"WARC: {size / 1e6:.1f} MB in {len(list(warc.rglob('*.warc.gz')))} file(s)", flush=True)
        rates: dict[str, list[float]] = {name: [] for name in SETUPS}
        with RedisServer() as redis:
            for n in range(args.repeat):
                for name, (workers, settings) in SETUPS.items():
                    load = os.getloadavg()[0]
                    seconds, records = replay(warc, scratch, f"r{n}-{workers}", workers, settings, redis)
                    pages = sum(r["pages_fetched"] for r in records)
                    rates[name].append(pages / seconds)
                    shares = "/".join(str(r["pages_fetched"]) for r in records)
                    units = sum(r.get("replay", {}).get("units", 0) for r in records)
                    print(f"run {n}  {name:<24} {seconds:6.1f} s  {pages / seconds:5.1f} pages/s  pages {shares}  "
                          f"units {units}  load before {load:.1f}", flush=True)
            for name, values in rates.items() if args.repeat else ():
                print(f"median {name:<24} {statistics.median(values):5.1f} pages/s", flush=True)
            full = replay(warc, scratch, "full", 0, {"EXTRACT_WORKERS": "-1"}, redis)[1][0]["replay"]
            part = replay(warc, scratch, "part", 0, {"EXTRACT_WORKERS": "-1"}, redis, "--url", "/c1/")[1][0].get(
                "replay", {}
            )
        for label, figures in (("full replay", full), ("--url /c1/", part)):
            print(
                f"{label:<12} records read {figures.get('records', 0):5d}  WARC bytes read "
                f"{figures.get('bytes_read', 0) / 1e6:7.2f} MB  "
                f"index bytes read {figures.get('index_bytes', 0) / 1e6:5.2f} MB"
            )
        ratio = (part.get("bytes_read", 0) + part.get("index_bytes", 0)) / full["bytes_read"]
        print(f"selective/full bytes read (WARC + index): {ratio:.3f}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
