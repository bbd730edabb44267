"""``python -m bench.extraction PART``: extraction with and without one of its speed-ups, side by side.

The 90 bench pages (or the corpus folders given) through the project's extraction and cleaning in
this one process, alternately with the part and without it; CPU time a page, the median of each.
Checks that both give the same article on every page. Not a test: the figures depend on the machine.

- ``comparison``: :mod:`pipelines.extraction.comparison` in front of trafilatura's own
  ``compare_extraction``, against that alone (and on how many extractions it is left out);
- ``lookup``: the parser's element classes found in C, against lxml.html's own lookup
  (:data:`pipelines.extraction.page._PARSER`).

    python -m bench.extraction comparison|lookup [--pairs 6] [corpus folder ...]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import lxml.html
import trafilatura.core

from pipelines.evaluation.corpus import load_cases
from pipelines.evaluation.quality import predict
from pipelines.extraction import comparison, page
from tests.servers.base import ROOT

CORPUS = ROOT / "tests" / "fixtures" / "corpus"


def comparison_switch() -> Callable[[bool], None]:
    comparison.install()
    shortcut = trafilatura.core.compare_extraction
    original = shortcut.__wrapped__
    left_out: list[bool] = []

    def counting(cleaned_tree, raw_tree, body, text, options):
        left_out.append(comparison.cannot_change(raw_tree, body, text, options))
        return original(cleaned_tree, raw_tree, body, text, options)

    def switch(on: bool) -> None:
        trafilatura.core.compare_extraction = shortcut if on else original

    trafilatura.core.compare_extraction = counting
    switch.count = left_out  # type: ignore[attr-defined]
    return switch


def lookup_switch() -> Callable[[bool], None]:
    ours = page._PARSER
    theirs = lxml.html.HTMLParser(**page._PARSER_OPTIONS)  # lxml.html's own element lookup

    def switch(on: bool) -> None:
        page._PARSER = ours if on else theirs

    switch(False)
    return switch


PARTS = {"comparison": comparison_switch, "lookup": lookup_switch}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=PARTS)
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("corpus", nargs="*", type=Path, default=[CORPUS], help="corpus folders (the bench pages)")
    args = parser.parse_intermixed_args(argv)  # the folders after --pairs too
    cases = [case for folder in args.corpus for case in load_cases(folder)]
    switch = PARTS[args.part]()
    reference = [predict((case, "project")) for case in cases]  # without the part
    if args.part == "comparison":
        count = switch.count  # type: ignore[attr-defined]
        print(f"comparison left out in {sum(count)} of {len(count)} extractions ({len(cases)} pages)")
    times: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(args.pairs):
        for on in (False, True):
            switch(on)
            started = time.process_time()
            results = [predict((case, "project")) for case in cases]
            times[on].append((time.process_time() - started) * 1000 / len(cases))
            if results != reference:
                raise SystemExit(f"{args.part} {'on' if on else 'off'}: not the same articles")
    switch(True)
    for on, values in times.items():
        each = ", ".join(f"{v:.1f}" for v in values)
        name = f"{'with' if on else 'without'} {args.part}"
        print(f"{name}: {statistics.median(values):5.1f} ms a page (median of {each})")
    print(f"{args.part}: {1 - statistics.median(times[True]) / statistics.median(times[False]):.1%} less CPU a page")


if __name__ == "__main__":
    main()
