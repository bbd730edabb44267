"""``python -m bench.comparison``: extraction with and without the readability-comparison shortcut.

The 90 bench pages through the project's extraction and cleaning in this one process, alternately
with trafilatura's own ``compare_extraction`` and with :mod:`pipelines.extraction.comparison` in front of
it; CPU time a page, the median of each, and on how many pages the comparison is left out. Checks
that both give the same article on every page. Not a test: the figures depend on the machine.

    python -m bench.comparison [--pairs 6] [corpus folder ...]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import trafilatura.core

from pipelines.extraction import comparison
from pipelines.extraction.corpus import load_cases
from pipelines.extraction.quality import predict
from tests.servers.base import ROOT

CORPUS = ROOT / "tests" / "fixtures" / "corpus"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("corpus", nargs="*", type=Path, default=[CORPUS], help="corpus folders (the bench pages)")
    args = parser.parse_args(argv)
    cases = [case for folder in args.corpus for case in load_cases(folder)]
    comparison.install()
    shortcut = trafilatura.core.compare_extraction
    original = shortcut.__wrapped__
    left_out = []

    def counting(cleaned_tree, raw_tree, body, text, options):
        left_out.append(comparison.cannot_change(raw_tree, body, text, options))
        return original(cleaned_tree, raw_tree, body, text, options)

    trafilatura.core.compare_extraction = counting
    reference = [predict((case, "project")) for case in cases]
    print(f"comparison left out in {sum(left_out)} of {len(left_out)} extractions ({len(cases)} pages)")
    times: dict[str, list[float]] = {"trafilatura's": [], "shortcut": []}
    for _ in range(args.pairs):
        for name, function in (("trafilatura's", original), ("shortcut", shortcut)):
            trafilatura.core.compare_extraction = function
            started = time.process_time()
            results = [predict((case, "project")) for case in cases]
            times[name].append((time.process_time() - started) * 1000 / len(cases))
            if results != reference:
                raise SystemExit(f"{name}: not the same articles as trafilatura's comparison")
    trafilatura.core.compare_extraction = shortcut
    mine, theirs = statistics.median(times["shortcut"]), statistics.median(times["trafilatura's"])
    for name, values in times.items():
        each = ", ".join(f"{v:.1f}" for v in values)
        print(f"{name:14} {statistics.median(values):5.1f} ms a page (median of {each})")
    print(f"shortcut: {1 - mine / theirs:.1%} less CPU a page")


if __name__ == "__main__":
    main()
