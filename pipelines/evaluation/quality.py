"""Extraction quality against hand-checked pages, measured the same way every time.

Two measures of a predicted body against the true one: token level (bags of
words) and benchmark style (bags of 4-word shingles, as the public article
extraction benchmark that the dev corpus comes from scores it). Per page,
true/false positives and false negatives are normalized to sum to one; the
corpus precision and recall are means over pages and F1 is taken from them.
A page whose article did not come out counts as an empty body. On corpora
that say more of each page (fundus's layout), paragraphs, title, date,
authors and the lead are scored too; trafilatura alone runs beside the
project on the same pages (``scrapy evaluate``). The classifier's errors are
counted both ways: articles of a corpus that are not stored (``failed``, false
negatives) and labelled non-article pages that are stored (false positives).
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from pipelines.evaluation.corpus import Case, NonArticle, load_cases, load_nonarticles
from pipelines.extraction.options import ExtractOptions
from pipelines.extraction.page import ExtractError, extract_and_clean
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
    failed: dict[str, str]  # url -> why no article came out: the pages lost
    token: Score
    shingle: Score
    per_page: dict[str, Counts]
    paragraphs: Score | None = None  # paragraph precision and recall (corpora that list paragraphs)
    fields: dict[str, float] = field(default_factory=dict)  # title, date, authors, lead: share of pages right


def load_corpus(directory: Path) -> list[tuple[str, str, bytes]]:
    """(url, true body, html) of each page of a corpus directory (see :mod:`pipelines.evaluation.corpus`)."""
    return [(case.url, case.body, case.html) for case in load_cases(directory)]


SYSTEMS = ("project", "raw", "trafilatura", "trafilatura-default")


@dataclass
class Prediction:
    paragraphs: list[str]
    error: str = ""
    title: str = ""
    date: str = ""
    authors: list[str] = field(default_factory=list)


def predict(args: tuple[Case, str]) -> Prediction:
    """One page through a system: ``project`` (extraction and cleaning as a crawl runs them), ``raw`` (no
    cleaning), ``trafilatura`` (alone, favor_precision, as the project calls it) or ``trafilatura-default``."""
    case, system = args
    if system.startswith("trafilatura"):
        return _trafilatura(case, precision=system == "trafilatura")
    page = Page(url=case.url, body=case.html, site=SiteProfile(key="corpus"), fetched=datetime.now(UTC))
    try:
        article = extract_and_clean(page, ExtractOptions(), cleaning=system == "project")
    except ExtractError as exc:
        return Prediction([], f"{exc.reason}: {exc}")
    authors = [name.strip() for name in article.author.split(",") if name.strip()]
    return Prediction(article.paragraphs, "", article.title, article.date.isoformat() if article.date else "", authors)


def _trafilatura(case: Case, precision: bool) -> Prediction:
    import trafilatura
    from trafilatura.settings import Document

    document = trafilatura.bare_extraction(
        case.html,
        url=case.url,
        favor_precision=precision,
        include_comments=False,
        include_tables=True,
        with_metadata=True,
    )
    if not isinstance(document, Document) or not document.text:  # a dict only when as_dict is asked
        return Prediction([], "no text")
    authors = [name.strip() for name in (document.author or "").split(";") if name.strip()]
    return Prediction(
        [p for p in document.text.split("\n") if p.strip()], "", document.title or "", document.date or "", authors
    )


def evaluate_corpus(
    directory: Path, with_cleaning: bool = True, workers: int | None = None, system: str = ""
) -> CorpusResult:
    """Score one system on a corpus; pages lost (no article extracted) count as empty bodies."""
    system = system or ("project" if with_cleaning else "raw")
    cases = load_cases(directory)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        predictions = list(pool.map(predict, [(case, system) for case in cases], chunksize=4))
    token, shingle, per_page, failed = [], [], {}, {}
    for case, prediction in zip(cases, predictions):
        body = "\n\n".join(prediction.paragraphs)
        if prediction.error:
            failed[case.url] = prediction.error
        token.append(shingle_counts(case.body, body, 1))
        shingle.append(shingle_counts(case.body, body, 4))
        per_page[case.url] = shingle[-1]
    result = CorpusResult(len(cases), failed, score(token), score(shingle), per_page)
    if any(case.paragraphs for case in cases):
        result.paragraphs = paragraph_score(cases, predictions)
        result.fields = field_scores(cases, predictions)
    return result


@dataclass
class NonArticleResult:
    kinds: dict[str, str]  # page id -> what the page is (its label)
    verdicts: dict[str, str]  # page id -> why it was not stored (a reason), or "" when it was stored as an article
    urls: dict[str, str] = field(default_factory=dict)

    @property
    def stored(self) -> list[str]:
        """The false positives: pages that are no article, stored as articles."""
        return [key for key, reason in self.verdicts.items() if not reason]


def judge(args: tuple[NonArticle, bool]) -> str:
    """Why a page that is no article is not stored (``not_article/<kind>``, ``no_article`` ...); "" when it is stored.

    With ``neutral`` the page is judged at a URL of its site that says nothing (``/p``): what its
    content alone decides, as for the many sites whose listing URLs look like any other.
    """
    case, neutral = args
    url = f"{urlsplit(case.url).scheme}://{urlsplit(case.url).netloc}/p" if neutral else case.url
    page = Page(url=url, body=case.html, site=SiteProfile(key="nonarticles"), fetched=datetime.now(UTC))
    try:
        extract_and_clean(page, ExtractOptions())
    except ExtractError as exc:
        return exc.reason
    except Exception as exc:
        return f"crash: {type(exc).__name__}: {exc}"[:120]
    return ""


def evaluate_nonarticles(directory: Path, workers: int | None = None, neutral: bool = False) -> NonArticleResult:
    """Run every labelled non-article page of ``directory`` through extraction and cleaning, as a crawl does."""
    cases = load_nonarticles(directory)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        verdicts = list(pool.map(judge, [(case, neutral) for case in cases], chunksize=2))
    return NonArticleResult({c.key: c.kind for c in cases}, dict(zip((c.key for c in cases), verdicts)),
                            {c.key: c.url for c in cases})


def paragraph_score(cases: list[Case], predictions: list[Prediction]) -> Score:
    """Share of predicted paragraphs that are true ones (P) and of true paragraphs found (R), mean over pages."""
    precision, recall = [], []
    for case, prediction in zip(cases, predictions):
        expected = {_key(p) for p in case.paragraphs if _key(p)}
        found = {_key(p) for p in prediction.paragraphs if _key(p)}
        precision.append(len(found & expected) / len(found) if found else 0.0)
        recall.append(len(found & expected) / len(expected) if expected else 1.0)
    p, r = statistics.mean(precision), statistics.mean(recall)
    return Score(p, r, 2 * p * r / (p + r) if p + r else 0.0)


def field_scores(cases: list[Case], predictions: list[Prediction]) -> dict[str, float]:
    """Share of pages whose title, date (same minute; a bare day counts when it is the right day) and authors
    (the same names in the same order) are right, and whose summary, when it has one, is kept in the body."""
    title = [_norm(c.title) == _norm(p.title) for c, p in zip(cases, predictions) if c.title]
    date = [same_time(c.date, p.date) for c, p in zip(cases, predictions) if c.date]
    authors = [
        [_norm(a) for a in c.authors] == [_norm(a) for a in p.authors]
        for c, p in zip(cases, predictions) if c.authors is not None
    ]
    lead = [
        _recall(" ".join(c.summary), "\n\n".join(p.paragraphs)) >= 0.8 for c, p in zip(cases, predictions) if c.summary
    ]
    return {name: sum(values) / len(values) for name, values in
            (("title", title), ("date", date), ("authors", authors), ("lead", lead)) if values}


def same_time(expected: str, predicted: str) -> bool:
    if not expected or not predicted:
        return False
    try:
        truth = _aware(datetime.fromisoformat(expected))
        if len(predicted) == 10:  # a bare day (trafilatura's): right when it is the day the page gives
            return truth.date().isoformat() == predicted
        return abs((truth - _aware(datetime.fromisoformat(predicted))).total_seconds()) <= 60
    except ValueError:
        return False


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _recall(true: str, predicted: str) -> float:
    tp, _, fn = shingle_counts(true, predicted, 4)
    return tp / (tp + fn) if tp + fn else 0.0


def _key(text: str) -> str:
    return " ".join(_TOKEN.findall(unicodedata.normalize("NFKC", text).lower()))


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").casefold()
    return " ".join(re.sub(r"[\"'“”„«»‘’‚`´]", "", text).split())
