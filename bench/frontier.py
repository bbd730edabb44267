"""Speed-up from 1 to N workers sharing a Redis frontier, on the sample site served on 127.0.0.1.

    python -m bench.frontier [--workers 1 2] [--repeat 3] [--delay 0 0.3]

For each site latency (``--delay``: seconds before each article page) and each
worker count, crawls the 90-article sample site from scratch ``--repeat``
times and prints the time until the last article was stored (the idle tail
before workers exit is left out) and the load average of the machine, which
other work may share. Without a frontier (workers 0) is the plain crawl.
"""

from __future__ import annotations

import argparse
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

ARTICLES = 90
POLITE = {"CONCURRENT_REQUESTS": "8", "CONCURRENT_REQUESTS_PER_DOMAIN": "4"}  # per worker, as on a real site


def crawl_time(site: ServerProcess, redis: RedisServer, workers: int, scratch: Path, run: str, delay: float) -> float:
    store = scratch / run / "store"
    settings = {"EXTRACT_WORKERS": "-1", "LOG_LEVEL": "WARNING", "PROGRESS_SUMMARY": "false",
                "FRONTIER_IDLE_TIMEOUT": "1"}
    if delay:
        settings.update(POLITE)
    if workers:
        settings.update({"FRONTIER_URL": redis.url, "CRAWL_ID": run})
    started = time.monotonic()
    processes = [
        subprocess.Popen(
            scrapy_command("crawl", "sitemap", "-a", f"url={site.url('/sitemap.xml')}", store=store,
                           state=scratch / run / f"state{n}", settings=settings),
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        for n in range(max(workers, 1))
    ]
    done = 0.0
    while any(p.poll() is None for p in processes):
        if not done and len(list((store / "articles").rglob("*.txt"))) >= ARTICLES:
            done = time.monotonic() - started
        time.sleep(0.05)
    for process in processes:
        if process.returncode:
            raise SystemExit(f"a worker failed:\n{process.stderr.read()[-2000:]}")
    return done or time.monotonic() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--delay", type=float, nargs="+", default=[0.0, 0.3])
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="bench-frontier-"))
    print(f"cores: {os.cpu_count()}; sample site: {ARTICLES} articles; times: seconds until the last article is stored")
    try:
        with RedisServer() as redis:
            for delay in args.delay:
                with ServerProcess("tests.servers.http_archive", "--delay", str(delay)) as site:
                    base = None
                    for workers in args.workers:
                        times, loads = [], []
                        for n in range(args.repeat):
                            loads.append(os.getloadavg()[0])
                            times.append(crawl_time(site, redis, workers, scratch, f"d{delay}-w{workers}-{n}", delay))
                        median = statistics.median(times)
                        base = base if base is not None or workers != 1 else median
                        label = f"{workers} worker(s)" if workers else "no frontier"
                        speedup = f"  speed-up vs 1 worker {base / median:.2f}x" if base and workers > 1 else ""
                        print(f"delay {delay:.1f}s  {label:<12} median {median:5.1f}  runs "
                              f"{' '.join(f'{t:.1f}' for t in times)}  load {' '.join(f'{load:.1f}' for load in loads)}"
                              f"{speedup}", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
