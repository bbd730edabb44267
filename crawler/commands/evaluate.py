"""``scrapy evaluate [CORPUS ...]``: extraction quality of the project, with trafilatura alone beside it.

Body precision, recall and F1, token level and benchmark style (4-word
shingles, as the public article extraction benchmark scores), and the pages
lost (no article came out). On a corpus in fundus's layout, also paragraph
precision and recall and the share of pages whose title, date and authors are
right and whose lead is kept. A CORPUS is a directory laid out like
../shared/corpus/dev (``ground-truth.json`` + ``html/``), like
../shared/corpus/fundus-dev (``cases.json`` + ``html/``) or like
tests/fixtures/corpus (``truth.json.gz`` + ``corpus.warc.gz``), or a set of
labelled pages that are no article like tests/fixtures/nonarticles
(``labels.json`` + ``html/``): there the pages stored as articles are counted,
the classifier's false positives, beside the articles lost on the corpora, its
false negatives. Without a CORPUS, both shared corpora are scored (else the
test fixture), and the non-article set.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from crawler.cli import ProjectCommand, whole_number
from crawler.errors import ConfigError
from pipelines.evaluation.corpus import is_nonarticle_set
from pipelines.evaluation.quality import (
    SYSTEMS,
    CorpusResult,
    NonArticleResult,
    evaluate_corpus,
    evaluate_nonarticles,
)

SHARED_CORPORA = (Path("../shared/corpus/dev"), Path("../shared/corpus/fundus-dev"))
FIXTURE_CORPUS = Path("tests/fixtures/corpus")
NONARTICLES = Path("tests/fixtures/nonarticles")
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
        parser.add_argument("--worst", default="0", metavar="N", help="list the N pages that lose most")
        parser.add_argument("--systems", default=",".join(DEFAULT_SYSTEMS),
                            help=f"comma-separated, of {', '.join(SYSTEMS)} (default: %(default)s)")

    def run_checked(self, args: list[str], opts: Any) -> None:
        corpora = [Path(a) for a in args] or [
            *([p for p in SHARED_CORPORA if p.is_dir()] or [FIXTURE_CORPUS]),
            *([NONARTICLES] if NONARTICLES.is_dir() else []),
        ]
        worst = whole_number("--worst", opts.worst, 0)
        systems = [name.strip() for name in opts.systems.split(",") if name.strip()]
        for name in systems:
            if name not in SYSTEMS:
                raise ConfigError(f"--systems: {name!r} is not one of {', '.join(SYSTEMS)}")
        report: dict[str, Any] = {}
        lost, articles, stored, nonarticles = 0, 0, 0, 0
        for corpus in corpora:
            started = time.monotonic()
            if is_nonarticle_set(corpus):
                at_url, at_neutral = evaluate_nonarticles(corpus), evaluate_nonarticles(corpus, neutral=True)
                report[str(corpus)] = nonarticles_dict(at_url, at_neutral)
                stored, nonarticles = stored + len(at_url.stored), nonarticles + len(at_url.verdicts)
                if not opts.json:
                    print_nonarticles(corpus, at_url, at_neutral, time.monotonic() - started)
                continue
            results = {name: evaluate_corpus(corpus, system=name) for name in systems}
            report[str(corpus)] = {name: as_dict(r) for name, r in results.items()}
            if "project" in results:
                lost, articles = lost + len(results["project"].failed), articles + results["project"].pages
            if not opts.json:
                print_table(corpus, results, time.monotonic() - started, worst)
        if opts.json:
            print(json.dumps(report, indent=2))
        elif nonarticles and articles:
            print(f"classifier: {lost} of {articles} article pages lost (false negatives), "
                  f"{stored} of {nonarticles} non-article pages stored (false positives)")


def as_dict(result: CorpusResult) -> dict[str, Any]:
    return {
        "pages": result.pages,
        "lost": len(result.failed),
        "token": vars(result.token),
        "shingle4": vars(result.shingle),
        **({"paragraphs": vars(result.paragraphs)} if result.paragraphs else {}),
        **result.fields,
    }


def nonarticles_dict(at_url: NonArticleResult, at_neutral: NonArticleResult) -> dict[str, Any]:
    return {
        "pages": len(at_url.verdicts), "stored": at_url.stored, "stored_at_neutral_urls": at_neutral.stored,
        "verdicts": at_url.verdicts,
    }


def print_nonarticles(corpus: Path, at_url: NonArticleResult, at_neutral: NonArticleResult, elapsed: float) -> None:
    """Pages stored as articles (false positives) by kind, at their own URL and at a URL that says nothing."""
    pages = len(at_url.verdicts)
    print(f"non-article pages: {corpus} ({pages} pages, {elapsed:.1f} s)")
    print(f"{'kind':<10} {'pages':>5}  {'stored':>6}  {'at a URL saying nothing':>23}")
    for kind in sorted(set(at_url.kinds.values())):
        keys = [key for key, k in at_url.kinds.items() if k == kind]
        print(f"{kind:<10} {len(keys):>5}  {sum(k in at_url.stored for k in keys):>6}  "
              f"{sum(k in at_neutral.stored for k in keys):>23}")
    print(f"{'all':<10} {pages:>5}  {len(at_url.stored):>6}  {len(at_neutral.stored):>23}")
    for key in at_url.stored:
        print(f"stored: {key} ({at_url.kinds[key]}): {at_url.urls[key]}")
    for key, reason in at_url.verdicts.items():
        if reason.startswith("crash"):
            print(f"crashed: {key}: {reason}")
    print()


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
