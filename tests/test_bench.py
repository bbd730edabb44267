"""make bench's own measures run: a bench that breaks is only found when someone needs its figures."""

from __future__ import annotations

from bench.run import CORPUS, single_process_rate
from pipelines.evaluation.corpus import load_cases
from pipelines.evaluation.quality import predict


def test_the_single_process_measure_extracts_corpus_pages_as_the_crawl_does():
    case = load_cases(CORPUS)[0]
    prediction = predict((case, "project"))
    assert not prediction.error and len(" ".join(prediction.paragraphs).split()) > 100
    assert single_process_rate(seconds=0.5) > 0
