"""Corpora of pages with what their text and metadata should be, in the three layouts the project reads.

- the dev corpus's (``ground-truth.json`` + ``html/<id>.html.gz``): the article body of each page;
- fundus's parser tests as in ../shared/corpus/fundus-dev (``cases.json`` + ``html/<id>.html.gz``):
  title, summary, section headlines, paragraphs, body (all of those in page order), authors, date;
- the test fixture's (``truth.json.gz`` + ``corpus.warc.gz``): bodies, pages as archived responses;

and labelled pages that are no article (``labels.json`` + ``html/<id>.html.gz``, tests/fixtures/nonarticles):
what kind of page each is, and where it came from.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Case:
    """One page of a corpus: its URL and HTML, and what extraction should find (empty: not checked)."""

    key: str
    url: str
    html: bytes
    body: str
    paragraphs: list[str] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    title: str = ""
    date: str = ""  # ISO 8601 with its offset
    authors: list[str] | None = None  # None: not checked
    language: str = ""


@dataclass
class NonArticle:
    """A page that is no article (a section front, a tag page, a video page ...), which extraction must not store."""

    key: str
    url: str
    html: bytes
    kind: str  # listing, tag, gallery, video, search, login, consent, error


def is_nonarticle_set(directory: Path) -> bool:
    return (directory / "labels.json").is_file() and (directory / "html").is_dir()


def load_nonarticles(directory: Path) -> list[NonArticle]:
    labels = json.loads((directory / "labels.json").read_text(encoding="utf-8"))
    return [NonArticle(label["id"], label["url"], _html(directory, label["id"]), label["kind"]) for label in labels]


def load_cases(directory: Path) -> list[Case]:
    if (directory / "ground-truth.json").is_file():
        truth = json.loads((directory / "ground-truth.json").read_text(encoding="utf-8"))
        return [
            Case(key, item.get("url", ""), _html(directory, key), item.get("articleBody", ""))
            for key, item in sorted(truth.items())
        ]
    if (directory / "cases.json").is_file():
        return [
            _fundus_case(directory, item) for item in json.loads((directory / "cases.json").read_text(encoding="utf-8"))
        ]
    if (directory / "truth.json.gz").is_file() and (directory / "corpus.warc.gz").is_file():
        from pipelines.archive.reader import iter_exchanges

        with gzip.open(directory / "truth.json.gz", "rt", encoding="utf-8") as handle:
            bodies = json.load(handle)
        with open(directory / "corpus.warc.gz", "rb") as stream:
            return [Case(r.url, r.url, r.body, bodies[r.url]) for r in iter_exchanges(stream) if r.url in bodies]
    raise FileNotFoundError(
        f"{directory}: not a corpus (expected ground-truth.json and html/, cases.json and html/, "
        "or truth.json.gz and corpus.warc.gz)"
    )


def _fundus_case(directory: Path, item: dict) -> Case:
    return Case(
        key=item["id"],
        url=item["url"],
        html=_html(directory, item["id"]),
        body="\n\n".join(item.get("body") or []),
        paragraphs=list(item.get("body") or []),
        summary=list(item.get("summary") or []),
        title=item.get("title") or "",
        date=item.get("publishing_date") or "",
        authors=list(item.get("authors") or []),
        language=item.get("language") or "",
    )


def _html(directory: Path, key: str) -> bytes:
    with gzip.open(directory / "html" / f"{key}.html.gz", "rb") as handle:
        return handle.read()
