"""``make bench``: pages/s, CPU and peak memory of the project against a hand-written spider.

Serves N archived pages (the sample site's 90 pages, repeated under /c<n>/) on
127.0.0.1, crawls them with `scrapy crawl sitemap` and with
bench/baseline_spider.py under the same concurrency, then measures replay
throughput and memory over a longer crawl. Around each project crawl it
measures the single-process extraction rate (before and after: the machine's
speed drifts) and the rate of one extraction process per core at once, with
no crawl: how close to cores x single-process the machine itself gets. Prints a table with
ratios and writes bench/out/results.json. Not a
test: figures depend on the machine and on what else runs on it ("other CPU
%": what the rest of the machine used meanwhile, in % of one core).

    python -m bench.run [--pages 2700] [--memory-pages 10000] [--concurrency 16] [--repeat 1]
                        [--skip-baseline] [--skip-memory] [--set NAME=VALUE ...]

Pages/s counts the whole command, start-up and shutdown included, as a user
waits for it; "steady" is the rate between the 10th and the 90th percentile of
the files' write times. CPU is the sum over the crawl's process tree (crawl
process, extraction workers); the test server's own CPU is shown apart. With
--repeat, the crawls and the single-process measures alternate and the
ratios use medians. A quick run: --pages 450 --memory-pages 900.
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil

from pipelines.evaluation.corpus import load_cases
from pipelines.evaluation.quality import predict
from pipelines.workers.pool import usable_cpus
from tests.servers.base import ROOT, ServerProcess

CORPUS = ROOT / "tests" / "fixtures" / "corpus"
OUT = ROOT / "bench" / "out"
CORPUS_PAGES = 90
# seconds between samples of the process tree's CPU time and RSS; a sample costs 0.8 ms of CPU (psutil
# reads the whole process table), taken from the crawl it measures: every 0.1 s that was 0.4% of 2 cores
SAMPLE_EVERY = 0.25


@dataclass
class Run:
    name: str
    pages: int
    seconds: float
    cpu_seconds: float  # whole process tree
    main_cpu_seconds: float  # the crawl process alone (reactor, WARC writer, store threads)
    server_cpu_seconds: float  # the benchmark's HTTP server, not part of the crawl's figures
    peak_rss_mb: float  # sum over the process tree, sampled
    load: float  # 1-minute load average when the run started
    other_cpu_seconds: float = 0.0  # used meanwhile by the rest of the machine: other work disturbing the figures
    steady_pages_per_second: float = 0.0  # between the 10th and the 90th percentile of the files' times
    rss_samples: list[tuple[float, float]] = field(default_factory=list)

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    @property
    def cpu_percent(self) -> float:
        return 100 * self.cpu_seconds / self.seconds if self.seconds else 0.0

    def cpu_ms_per_page(self, seconds: float) -> float:
        return 1000 * seconds / self.pages if self.pages else 0.0

    def summary(self) -> dict:
        return {**asdict(self), "pages_per_second": round(self.pages_per_second, 1),
                "cpu_percent": round(self.cpu_percent), "rss_samples": self.rss_samples[::20],
                "main_cpu_ms_per_page": round(self.cpu_ms_per_page(self.main_cpu_seconds), 2),
                "tree_cpu_ms_per_page": round(self.cpu_ms_per_page(self.cpu_seconds), 2),
                "server_cpu_ms_per_page": round(self.cpu_ms_per_page(self.server_cpu_seconds), 2)}


def cpu_seconds(proc: psutil.Process) -> float:
    times = proc.cpu_times()  # own time only: children_* would count reaped workers a second time
    return times.user + times.system


def measure(name: str, command: list[str], cwd: Path, output: tuple[Path, str], server: ServerProcess,
            env: dict | None = None) -> Run:
    """Run a command; sample the CPU time and RSS of its whole process tree until it ends."""
    load = os.getloadavg()[0]
    server_proc = psutil.Process(server.process.pid)
    server_before, machine_before, own_before = cpu_seconds(server_proc), busy_seconds(), cpu_seconds(psutil.Process())
    started = time.monotonic()
    process = psutil.Popen(command, cwd=cwd, env={**os.environ, **(env or {})},
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak, samples, seen = 0.0, [], {}
    stderr: list[bytes] = []
    reader = threading.Thread(target=lambda: stderr.extend(process.stderr), daemon=True)
    reader.start()
    while process.poll() is None:
        try:
            tree = [process, *process.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        rss = 0
        for proc in tree:
            try:
                with proc.oneshot():
                    rss += proc.memory_info().rss
                    seen[proc.pid] = cpu_seconds(proc)
            except psutil.NoSuchProcess:
                continue
        peak = max(peak, rss / 2**20)
        samples.append((round(time.monotonic() - started, 2), round(rss / 2**20, 1)))
        time.sleep(SAMPLE_EVERY)
    seconds = time.monotonic() - started
    reader.join(timeout=5)
    if process.returncode:
        sys.stderr.write(b"".join(stderr).decode("utf-8", "replace")[-3000:])
        raise SystemExit(f"{name} failed with exit code {process.returncode}")
    server = cpu_seconds(server_proc) - server_before
    own = cpu_seconds(psutil.Process()) - own_before  # this sampling loop
    other = busy_seconds() - machine_before - sum(seen.values()) - server - own
    times = sorted(path.stat().st_mtime for path in output[0].rglob(output[1]))
    return Run(name, len(times), round(seconds, 2), round(sum(seen.values()), 2),
               round(seen.get(process.pid, 0.0), 2), round(server, 2), round(peak, 1), round(load, 2),
               round(max(other, 0.0), 2), round(steady_rate(times), 1), samples)


def busy_seconds() -> float:
    """CPU time the whole machine has spent on work since boot."""
    times = psutil.cpu_times()
    return times.user + times.nice + times.system + getattr(times, "irq", 0) + getattr(times, "softirq", 0)


def steady_rate(times: list[float]) -> float:
    """Pages/s once started and before the last pages: the middle 80% of the files written."""
    if len(times) < 10:
        return 0.0
    low, high = times[len(times) // 10], times[len(times) * 9 // 10]
    return (len(times) * 9 // 10 - len(times) // 10) / (high - low) if high > low else 0.0


def warm_up(site: ServerProcess) -> None:
    """Ask the site for every page its news sitemap lists, once, before any crawl is measured.

    The site compresses each page once per coding and keeps it, as a CDN does: without this, the first
    project crawl shared the cores with that compression (0.54 against 0.16-0.18 ms of server CPU a page)
    and the crawls after it did not.
    """
    with urllib.request.urlopen(site.url("/sitemaps/news.xml"), timeout=30) as response:
        sitemap = response.read()
        if response.headers.get("Content-Encoding") == "gzip":  # the site sends its sitemaps gzipped
            sitemap = gzip.decompress(sitemap)
    for url in re.findall(rb"<loc>([^<]+)</loc>", sitemap):
        with urllib.request.urlopen(url.decode(), timeout=30) as response:
            response.read()


def crawl_ours(site: ServerProcess, store: Path, concurrency: int, extra: dict | None = None) -> list[str]:
    settings = {
        "STORE_URI": str(store), "STATE_DIR": str(store.parent / "state"), "ALLOW_PRIVATE_NETWORKS": "true",
        "DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "false", "CONCURRENT_REQUESTS": str(concurrency),
        "CONCURRENT_REQUESTS_PER_DOMAIN": str(concurrency), "ROBOTSTXT_OBEY": "false", "LOG_LEVEL": "WARNING",
        "PROGRESS_SUMMARY": "false", "PROGRESS_INTERVAL": "0", "REVISIT_AFTER": "0", **(extra or {}),
    }
    command = [sys.executable, "-m", "scrapy", "crawl", "sitemap", "-a", f"url={site.url('/sitemaps/news.xml')}"]
    for name, value in settings.items():
        command += ["-s", f"{name}={value}"]
    return command


def crawl_baseline(site: ServerProcess, out: Path, concurrency: int) -> list[str]:
    return [
        sys.executable, "-m", "scrapy", "runspider", str(ROOT / "bench" / "baseline_spider.py"),
        "-a", f"url={site.url('/sitemaps/news.xml')}", "-a", f"out={out}",
        "-s", f"CONCURRENT_REQUESTS={concurrency}", "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={concurrency}",
        "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=false", "-s", "ROBOTSTXT_OBEY=false",
    ]


def replay(warc: Path, store: Path) -> list[str]:
    return [sys.executable, "-m", "scrapy", "replay", str(warc), "-s", f"STORE_URI={store}",
            "-s", f"STATE_DIR={store.parent / 'state'}", "-s", "LOG_LEVEL=WARNING", "-s", "PROGRESS_SUMMARY=false",
            "-s", "PROGRESS_INTERVAL=0"]


def single_process_rate(seconds: float = 10.0) -> float:
    """Pages/s of extraction + cleaning in one process: the project's own functions, no crawl around them."""
    cases = load_cases(CORPUS)
    for case in cases[:10]:  # warm up
        predict((case, "project"))
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        case = cases[done % len(cases)]
        if predict((case, "project")).error:  # a page that fails fast would make the rate a lie
            raise RuntimeError(f"bench corpus page not extracted: {case.url}")
        done += 1
    return done / (time.perf_counter() - started)


def shares_of(run: Run, cores: int, rate: float) -> tuple[float, float]:
    """A crawl's pages/s over cores x the single-process rate measured around it: whole command, once started."""
    return run.pages_per_second / (cores * rate), run.steady_pages_per_second / (cores * rate)


def parallel_rate(processes: int, seconds: float = 10.0) -> float:
    """Pages/s of ``processes`` single-process extractions running at once: the most the cores give."""
    context = multiprocessing.get_context("forkserver")
    with context.Pool(processes) as pool:
        return sum(pool.map(single_process_rate, [seconds] * processes))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2700)
    parser.add_argument("--memory-pages", type=int, default=10000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=1, help="crawl with each spider this many times, alternating")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for the project's crawls (to compare options)")
    args = parser.parse_args(argv)
    extra = dict(item.split("=", 1) for item in args.set)
    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    results: dict = {
        "machine": machine(),
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "pages": args.pages, "concurrency": args.concurrency, "settings": extra,
    }
    runs: list[Run] = []
    cores = usable_cpus()
    rates: list[float] = []  # single-process extraction rate around each project crawl
    parallel: list[float] = []  # `cores` processes extracting at once, no crawl: what the machine allows
    shares: list[float] = []  # each project crawl's pages/s over cores x the rate measured around it
    steady_shares: list[float] = []
    print(HEADER, flush=True)
    try:
        with ServerProcess("tests.servers.http_archive", "--copies", str(-(-args.pages // CORPUS_PAGES))) as site:
            warm_up(site)
            for n in range(args.repeat):  # interleaved: a machine whose speed drifts affects all of them alike
                before = single_process_rate()
                parallel.append(parallel_rate(cores))
                store = work / f"ours{n}" / "store"
                runs.append(measure("project", crawl_ours(site, store, args.concurrency, extra), ROOT,
                                    (store / "articles", "*.txt"), site))
                print(line(runs[-1]), flush=True)
                after = single_process_rate()
                rates.append((before + after) / 2)  # brackets the crawl: the machine's speed while it ran
                whole, steady = shares_of(runs[-1], cores, rates[-1])
                shares.append(whole)
                steady_shares.append(steady)
                print(f"single-process extraction + cleaning: {before:.1f} before, {after:.1f} after the crawl; "
                      f"{cores} processes at once: {parallel[-1]:.1f} pages/s in all; project = {shares[-1]:.0%} "
                      f"of {cores} x single ({steady_shares[-1]:.0%} steady)", flush=True)
                if not args.skip_baseline:
                    out = work / f"baseline{n}"
                    runs.append(measure("hand-written", crawl_baseline(site, out, args.concurrency), work,
                                        (out, "*.json"), site))
                    print(line(runs[-1]), flush=True)
            replay_store = work / "replay" / "store"
            runs.append(measure("replay", replay(work / "ours0" / "store" / "warc", replay_store), ROOT,
                                (replay_store / "articles", "*.txt"), site))
            print(line(runs[-1]), flush=True)
        results["single_process_extraction_pages_per_second"] = [round(r, 1) for r in rates]
        results["parallel_extraction_pages_per_second"] = [round(r, 1) for r in parallel]
        results["shares_of_cores_x_single_rate"] = [round(r, 3) for r in shares]
        if not args.skip_memory:
            with ServerProcess(
                "tests.servers.http_archive", "--copies", str(-(-args.memory_pages // CORPUS_PAGES))
            ) as site:
                warm_up(site)
                store = work / "memory" / "store"
                before = single_process_rate()
                memory = measure(f"project, {args.memory_pages} pages",
                                 crawl_ours(site, store, args.concurrency, extra), ROOT,
                                 (store / "articles", "*.txt"), site)
                runs.append(memory)
                print(line(memory), flush=True)
                # a longer crawl: the start-up (0.7 s before the first article is stored) weighs less
                whole, steady = shares_of(memory, cores, (before + single_process_rate()) / 2)
                results["memory_run_share_of_cores_x_single_rate"] = round(whole, 3)
                results["memory_run_steady_share_of_cores_x_single_rate"] = round(steady, 3)
                quarter = [rss for t, rss in memory.rss_samples if t <= memory.seconds / 4]
                results["memory_rss_mb_first_quarter_peak"] = max(quarter) if quarter else None
        results["runs"] = [run.summary() for run in runs]
        report(results, runs, rates, parallel, shares, steady_shares)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2) + "\n")


def machine() -> dict:
    model = ""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "")
    except OSError:
        pass
    return {"cpus": psutil.cpu_count(), "cpu_model": model, "python": platform.python_version(),
            "platform": platform.platform(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1)}


HEADER = (f"{'run':<24} {'pages':>6} {'seconds':>8} {'pages/s':>8} {'steady':>7} {'CPU %':>6} {'CPU ms/page':>12} "
          f"{'main ms/page':>13} {'server ms/page':>15} {'peak RSS MB':>12} {'other CPU %':>12}")


def line(run: Run) -> str:
    return (f"{run.name:<24} {run.pages:>6} {run.seconds:>8.1f} {run.pages_per_second:>8.1f} "
            f"{run.steady_pages_per_second:>7.1f} {run.cpu_percent:>6.0f} "
            f"{run.cpu_ms_per_page(run.cpu_seconds):>12.1f} {run.cpu_ms_per_page(run.main_cpu_seconds):>13.1f} "
            f"{run.cpu_ms_per_page(run.server_cpu_seconds):>15.2f} {run.peak_rss_mb:>12.1f} "
            f"{100 * run.other_cpu_seconds / run.seconds:>12.0f}")


def report(results: dict, runs: list[Run], rates: list[float], parallel: list[float], shares: list[float],
           steady_shares: list[float]) -> None:
    info = results["machine"]
    print(f"\nmachine: {info['cpus']} CPUs ({info['cpu_model']}), {info['memory_gb']} GB, "
          f"Python {info['python']}, {results['date']}")
    print(HEADER)
    for run in runs:
        print(line(run))
    cores = usable_cpus()
    ours = [r.pages_per_second for r in runs if r.name == "project"]
    baseline = [r.pages_per_second for r in runs if r.name == "hand-written"]
    share, steady = statistics.median(shares), statistics.median(steady_shares)
    # the same ratio for bare extraction: how far `cores` processes at once fall short of cores x one process
    ceiling = statistics.median(p / (cores * r) for p, r in zip(parallel, rates))
    results["share_of_cores_x_single_rate"] = round(share, 3)
    results["steady_share_of_cores_x_single_rate"] = round(steady, 3)
    results["parallel_extraction_share_of_cores_x_single_rate"] = round(ceiling, 3)
    print(f"single-process extraction + cleaning: {', '.join(f'{r:.1f}' for r in rates)} pages/s around the crawls")
    print(f"project = {share:.0%} of {cores} x single-process (median of {', '.join(f'{x:.0%}' for x in shares)}), "
          f"{steady:.0%} once started; {cores} bare extraction processes at once reach {ceiling:.0%}")
    if baseline:
        ratio = statistics.median(ours) / statistics.median(baseline)
        results["speedup_vs_hand_written"] = round(ratio, 2)
        print(f"project / hand-written: {ratio:.2f}x pages/s (medians of {len(ours)} and {len(baseline)} runs)")
    if results.get("memory_rss_mb_first_quarter_peak"):
        memory = runs[-1]
        print(f"memory: peak RSS {memory.peak_rss_mb:.0f} MB over the whole crawl, "
              f"{results['memory_rss_mb_first_quarter_peak']:.0f} MB in its first quarter; that crawl = "
              f"{results['memory_run_share_of_cores_x_single_rate']:.0%} of {cores} x single-process "
              f"({results['memory_run_steady_share_of_cores_x_single_rate']:.0%} once started)")


if __name__ == "__main__":
    sys.exit(main())
