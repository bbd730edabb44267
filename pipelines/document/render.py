"""An :class:`Article` becomes a :class:`Document` in the contract format.

``frontmatter`` (default): YAML front matter between ``---`` lines, written by
PyYAML's safe dumper so that any title or description reads back to the same
value, then the body as paragraphs separated by one blank line.
``plain``: the paragraphs one per line, then a last line with the source name.

Key order is the contract's: the seed's eight keys, then provenance, then
extras; a key with no value is left out.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import yaml

from pipelines.document import frontmatter
from pipelines.document.frontmatter import Timestamp
from pipelines.item import Article, Document

FORMATS = ("frontmatter", "plain")
SEED_KEYS = ("extends", "section", "image", "title", "description", "date", "categories", "featured")
PROVENANCE_KEYS = ("url", "source", "author", "language", "fetched")
EXTRA_KEYS = ("sections", "tags", "revision", "access", "truncated")
DATE_FORMAT = "%Y-%m-%d-%H-%M-%S"


def iso_utc(value: datetime) -> str:
    value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return value.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def document_meta(article: Article) -> dict[str, Any]:
    """The front-matter values of an article, in contract order, empty values left out."""
    defaults = article.site.front_matter
    values: dict[str, Any] = {
        "extends": defaults.get("extends"),
        "section": defaults.get("section"),
        "image": article.image,
        "title": _one_line(article.title),
        "description": _one_line(article.description),
        "date": article.date.astimezone(UTC).strftime(DATE_FORMAT) if article.date else None,
        "categories": list(defaults.get("categories") or []),
        "featured": defaults.get("featured"),
        "url": article.url,
        "source": article.source,
        "author": _one_line(article.author),
        "language": article.language,
        "fetched": Timestamp(iso_utc(article.fetched)),
        "sections": list(article.categories),
        "tags": list(article.tags),
        "access": article.access,
        "truncated": article.truncated or None,
    }
    return {key: value for key, value in values.items() if not _empty(value)}


def to_document(article: Article, output_format: str = "frontmatter", revision: int = 1,
                rendered: bool = True) -> Document:
    """The document of an article; ``rendered=False`` leaves ``text`` to :func:`render`, once the revision is known."""
    if output_format not in FORMATS:
        raise ValueError(f"OUTPUT_FORMAT={output_format!r}: expected one of {', '.join(FORMATS)}")
    meta = document_meta(article)
    body = "\n\n".join(article.paragraphs)
    document = Document(
        url=article.url,
        site=article.site.key,
        meta=meta,
        body=body,
        text="",
        body_sha256=hashlib.sha256(body.encode("utf-8")).hexdigest(),
        revision=revision,
        page_url=article.page_url,
        fetched=iso_utc(article.fetched),
    )
    document.key = document_key(document, article.fetched)
    return render(document, output_format) if rendered else document


def render(document: Document, output_format: str) -> Document:
    """Set ``document.text`` from its meta and body (again after a revision number changes)."""
    if output_format == "plain":
        source = document.meta.get("source") or _host(document.url)
        lines = [p.replace("\n", " ") for p in document.body.split("\n\n") if p]
        document.text = "\n".join([*lines, source]) + "\n"
        return document
    meta = dict(document.meta)
    if document.revision > 1:
        meta["revision"] = document.revision
    document.text = f"---\n{frontmatter.dump(meta)}---\n{document.body}\n"
    return document


def parse_document(text: str) -> tuple[dict[str, Any], str]:
    """Read a ``frontmatter`` document back into (meta, body)."""
    if not text.startswith("---\n"):
        raise ValueError("not a front-matter document: it does not start with '---'")
    end = text.find("\n---\n", 3)
    if end < 0:
        raise ValueError("not a front-matter document: no closing '---' line")
    try:
        meta = frontmatter.load(text[4 : end + 1]) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"front matter is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(meta, dict):
        raise ValueError("front matter is not a mapping")
    return meta, text[end + 5 :].removesuffix("\n")


def document_key(document: Document, fetched: datetime) -> str:
    """``articles/<site>/<YYYY>/<MM>/<DD>/<urlhash>.txt``: day of publication (else of fetch)."""
    day = document.meta.get("date", "")[:10] or fetched.astimezone(UTC).strftime("%Y-%m-%d")
    year, month, date = day.split("-")
    return f"articles/{document.site}/{year}/{month}/{date}/{url_hash(document.url)}.txt"


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def _one_line(value: str) -> str:
    return " ".join((value or "").split())


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _host(url: str) -> str:
    return urlsplit(url).hostname or ""


SITE_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")  # site keys: the only text of ours in store paths


def check_site_key(key: str) -> str:
    if not SITE_KEY_RE.match(key):
        raise ValueError(f"unsafe site key {key!r}")
    return key
