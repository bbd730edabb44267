"""Body extraction quality against hand-checked bodies, measured the same way every time.

Two measures of a predicted body against the true one: token level (bags of
words) and benchmark style (bags of 4-word shingles, as the public article
extraction benchmark that the dev corpus comes from scores it). Per page,
true/false positives and false negatives are normalized to sum to one; the
corpus precision and recall are means over pages and F1 is taken from them.
"""

from __future__ import annotations

import gzip
import json
import re
import statistics
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from pipelines.extraction.page import ExtractError, ExtractOptions, extract_and_clean
from pipelines.item import Page, SiteProfile

_TOKEN = re.compile(r"\w+")
Counts = tuple[float, float, float]


@dataclass
class Score:
    precision: float
    recall: float
    f1: float

    def __str__(self) -> str:
        return f"P={self.precision:.4f} R={self.recall:.4f} F1={self.f1:.4f}"


def shingle_counts(true: str, predicted: str, n: int) -> Counts:
    """Normalized (tp, fp, fn) of ``n``-token shingles; ``n=1`` is the token-level measure."""
    expected, found = _shingles(true, n), _shingles(predicted, n)
    tp = sum((expected & found).values())
    fp = sum((found - expected).values())
    fn = sum((expected - found).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def _shingles(text: str, n: int) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i : i + n])


def score(counts: Iterable[Counts]) -> Score:
    counts = list(counts)
    precision = statistics.mean(_ratio(tp, fp, fn, fp) for tp, fp, fn in counts if tp + fp > 0)
    recall = statistics.mean(_ratio(tp, fp, fn, fn) for tp, fp, fn in counts if tp + fn > 0)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(precision, recall, f1)


def _ratio(tp: float, fp: float, fn: float, wrong: float) -> float:
    if fp == fn == 0:
        return 1.0
    return tp / (tp + wrong) if tp + wrong else 0.0


@dataclass
class CorpusResult:
    pages: int
    failed: dict[str, str]
    token: Score
    shingle: Score
    per_page: dict[str, Counts]


def load_corpus(directory: Path) -> list[tuple[str, str, bytes]]:
    """(url, true body, html) of each page of a corpus directory.

    Two layouts: the dev corpus's (``ground-truth.json`` + ``html/<id>.html.gz``)
    and the test fixture's (``truth.json.gz`` + ``corpus.warc.gz``).
    """
    truth_file = directory / "ground-truth.json"
    if truth_file.is_file():
        truth = json.loads(truth_file.read_text(encoding="utf-8"))
        pages = []
        for key, item in sorted(truth.items()):
            with gzip.open(directory / "html" / f"{key}.html.gz", "rb") as handle:
                pages.append((item.get("url", ""), item.get("articleBody", ""), handle.read()))
        return pages
    if (directory / "truth.json.gz").is_file() and (directory / "corpus.warc.gz").is_file():
        from pipelines.archive.reader import iter_exchanges

        with gzip.open(directory / "truth.json.gz", "rt", encoding="utf-8") as handle:
            bodies = json.load(handle)
        with open(directory / "corpus.warc.gz", "rb") as stream:
            return [(r.url, bodies[r.url], r.body) for r in iter_exchanges(stream) if r.url in bodies]
    raise FileNotFoundError(
        f"{directory}: not a corpus (expected ground-truth.json and html/, or truth.json.gz and corpus.warc.gz)"
    )


def predict_body(args: tuple[str, bytes, bool]) -> tuple[str, str]:
    """Extract (and clean) one corpus page; returns the body text or an error marker."""
    url, body, with_cleaning = args
    page = Page(url=url, body=body, site=SiteProfile(key="corpus"), fetched=datetime.now(timezone.utc))
    try:
        article = extract_and_clean(page, ExtractOptions(min_words=0), with_cleaning)
    except ExtractError as exc:
        return "", f"{exc.reason}: {exc}"
    return "\n\n".join(article.paragraphs), ""


def evaluate_corpus(directory: Path, with_cleaning: bool = True, workers: int | None = None) -> CorpusResult:
    pages = load_corpus(directory)
    jobs = [(url, body, with_cleaning) for url, _, body in pages]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        predictions = list(pool.map(predict_body, jobs, chunksize=4))
    token, shingle, per_page, failed = [], [], {}, {}
    for (url, expected, _), (body, error) in zip(pages, predictions):
        if error:
            failed[url] = error
        token.append(shingle_counts(expected, body, 1))
        shingle.append(shingle_counts(expected, body, 4))
        per_page[url] = shingle[-1]
    return CorpusResult(len(pages), failed, score(token), score(shingle), per_page)
