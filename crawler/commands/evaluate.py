"""``scrapy evaluate [CORPUS ...]``: extraction quality of the project, with trafilatura alone beside it.

Body precision, recall and F1, token level and benchmark style (4-word
shingles, as the public article extraction benchmark scores), and the pages
lost (no article came out). On a corpus in fundus's layout, also paragraph
precision and recall and the share of pages whose title, date and authors are
right and whose lead is kept. A CORPUS is a directory laid out like
../shared/corpus/dev (``ground-truth.json`` + ``html/``), like
../shared/corpus/fundus-dev (``cases.json`` + ``html/``) or like
tests/fixtures/corpus (``truth.json.gz`` + ``corpus.warc.gz``); without one,
both shared corpora are scored (else the test fixture).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from crawler.cli import ProjectCommand
from crawler.errors import ConfigError
from pipelines.extraction.quality import SYSTEMS, CorpusResult, evaluate_corpus

SHARED_CORPORA = (Path("../shared/corpus/dev"), Path("../shared/corpus/fundus-dev"))
FIXTURE_CORPUS = Path("tests/fixtures/corpus")
DEFAULT_SYSTEMS = ("project", "trafilatura")


class Command(ProjectCommand):
    requires_crawler_process = False

    def syntax(self) -> str:
        return "[options] [corpus directory ...]"

    def short_desc(self) -> str:
        return "Measure extraction quality (body F1, pages lost, title, date, authors) on corpora"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")
        parser.add_argument("--worst", type=int, default=0, metavar="N", help="list the N pages that lose most")
        parser.add_argument("--systems", default=",".join(DEFAULT_SYSTEMS),
                            help=f"comma-separated, of {', '.join(SYSTEMS)} (default: %(default)s)")

    def run_checked(self, args: list[str], opts: Any) -> None:
        corpora = [Path(a) for a in args] or [p for p in SHARED_CORPORA if p.is_dir()] or [FIXTURE_CORPUS]
        systems = [name.strip() for name in opts.systems.split(",") if name.strip()]
        for name in systems:
            if name not in SYSTEMS:
                raise ConfigError(f"--systems: {name!r} is not one of {', '.join(SYSTEMS)}")
        report = {}
        for corpus in corpora:
            started = time.monotonic()
            results = {name: evaluate_corpus(corpus, system=name) for name in systems}
            report[str(corpus)] = results
            if not opts.json:
                print_table(corpus, results, time.monotonic() - started, opts.worst)
        if opts.json:
            print(json.dumps({corpus: {name: as_dict(r) for name, r in results.items()} for corpus, results in report.items()},
                             indent=2))


def as_dict(result: CorpusResult) -> dict[str, Any]:
    return {
        "pages": result.pages, "lost": len(result.failed), "token": vars(result.token), "shingle4": vars(result.shingle),
        **({"paragraphs": vars(result.paragraphs)} if result.paragraphs else {}), **result.fields,
    }


def print_table(corpus: Path, results: dict[str, CorpusResult], elapsed: float, worst: int) -> None:
    first = next(iter(results.values()))
    print(f"corpus: {corpus} ({first.pages} pages, {elapsed:.1f} s)")
    extra = bool(first.paragraphs)
    header = f"{'':<20} {'lost':>4}  {'token F1':>8}  {'4-gram P':>8} {'R':>6} {'F1':>6}"
    if extra:
        header += f"  {'para P':>6} {'R':>6}  {'title':>5} {'date':>5} {'authors':>7} {'lead':>5}"
    print(header)
    for name, r in results.items():
        line = (f"{name:<20} {len(r.failed):>4}  {r.token.f1:>8.4f}  {r.shingle.precision:>8.4f} "
                f"{r.shingle.recall:>6.4f} {r.shingle.f1:>6.4f}")
        if extra and r.paragraphs:
            f = r.fields
            line += (f"  {r.paragraphs.precision:>6.3f} {r.paragraphs.recall:>6.3f}  {f.get('title', 0):>5.3f} "
                     f"{f.get('date', 0):>5.3f} {f.get('authors', 0):>7.3f} {f.get('lead', 0):>5.3f}")
        print(line)
    for name, r in results.items():
        for url, error in r.failed.items():
            print(f"lost ({name}): {url}: {error}")
    if worst:
        ranked = sorted(results[next(iter(results))].per_page.items(), key=lambda kv: -(kv[1][1] + kv[1][2]))[:worst]
        for url, (_, fp, fn) in ranked:
            print(f"  fp={fp:.3f} fn={fn:.3f} {url}")
    print()
