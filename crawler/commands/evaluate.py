"""``scrapy evaluate [CORPUS]``: body precision, recall and F1 of extraction, with and without cleaning.

Token level and benchmark style (4-word shingles, as the public article
extraction benchmark scores). CORPUS is a directory laid out like
../shared/corpus/dev (``ground-truth.json`` + ``html/``) or like
tests/fixtures/corpus (``truth.json.gz`` + ``corpus.warc.gz``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from crawler.cli import ProjectCommand
from pipelines.extraction.quality import evaluate_corpus

DEFAULT_CORPORA = (Path("../shared/corpus/dev"), Path("tests/fixtures/corpus"))


class Command(ProjectCommand):
    requires_crawler_process = False

    def syntax(self) -> str:
        return "[options] [corpus directory]"

    def short_desc(self) -> str:
        return "Measure extraction quality (precision, recall, F1) on a corpus"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")
        parser.add_argument("--worst", type=int, default=0, metavar="N", help="list the N pages that lose most")

    def run_checked(self, args: list[str], opts: Any) -> None:
        corpus = Path(args[0]) if args else next((p for p in DEFAULT_CORPORA if p.is_dir()), DEFAULT_CORPORA[-1])
        started = time.monotonic()
        results = {label: evaluate_corpus(corpus, with_cleaning=cleaning) for label, cleaning in (("raw", False), ("cleaned", True))}
        elapsed = time.monotonic() - started
        if opts.json:
            print(json.dumps({label: {"pages": r.pages, "failed": len(r.failed), "token": vars(r.token), "shingle4": vars(r.shingle)}
                              for label, r in results.items()}, indent=2))
            return
        print(f"corpus: {corpus} ({results['raw'].pages} pages, {elapsed:.1f} s)")
        print(f"{'':<10} {'token P':>8} {'R':>7} {'F1':>7}   {'4-gram P':>8} {'R':>7} {'F1':>7}")
        for label, r in results.items():
            print(f"{label:<10} {r.token.precision:>8.4f} {r.token.recall:>7.4f} {r.token.f1:>7.4f}   "
                  f"{r.shingle.precision:>8.4f} {r.shingle.recall:>7.4f} {r.shingle.f1:>7.4f}")
        for url, error in results["cleaned"].failed.items():
            print(f"failed: {url}: {error}")
        if opts.worst:
            worst = sorted(results["cleaned"].per_page.items(), key=lambda kv: -(kv[1][1] + kv[1][2]))[: opts.worst]
            for url, (tp, fp, fn) in worst:
                print(f"  fp={fp:.3f} fn={fn:.3f} {url}")
