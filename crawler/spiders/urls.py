"""``scrapy crawl urls -a file=urls.txt``: fetch a list of article URLs, one per line."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import scrapy

from crawler.errors import ConfigError
from crawler.redact import redact
from crawler.sites import url_problem
from crawler.spiders.base import ArticleSpider, check_source_urls


class UrlsSpider(ArticleSpider):
    """Article URLs from a file, one per line (-a file=PATH)."""

    name = "urls"
    arguments = ("file", "urls")

    def __init__(self, *args: Any, file: str = "", urls: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.urls = article_urls(file, urls)

    @classmethod
    def check_arguments(cls, *, file: str = "", urls: str = "", **kwargs: Any) -> None:
        super().check_arguments(**kwargs)
        article_urls(file, urls)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.urls:
            request = self.article_request(url)
            if request:
                yield request


def article_urls(file: str, urls: str) -> list[str]:
    """The URLs of ``-a file=`` or of ``-a urls=``: one of the two, never both (one would go unread)."""
    if file and urls:
        raise ConfigError("spider 'urls' takes -a file=PATH or -a urls=URL,URL, not both")
    return check_source_urls(UrlsSpider.name, urls, "urls") if urls else read_url_file(file)


def read_url_file(file: str) -> list[str]:
    """URLs of a file, one per line; blank lines and lines starting with # are skipped.

    Every other line must be an http(s) URL that can be fetched; one that is not is named (with its number).
    """
    if not file:
        raise ConfigError("spider 'urls' needs -a file=PATH (a text file, one URL per line) or -a urls=URL,URL")
    path = Path(file)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"-a file={file}: cannot read: {exc.strerror if isinstance(exc, OSError) else exc}") from exc
    urls = []
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        problem = "not an http(s) URL" if " " in line else url_problem(line)
        if problem:  # the user's own list, checked as -a urls= is: a bad line is a mistake, not a skip
            # masked before it is cut: a long password cut before its "@" is no URL password to the mask
            raise ConfigError(f"-a file={file}: line {number} is {problem}: {redact(line)[:80]!r}")
        urls.append(line)
    if not urls:
        raise ConfigError(f"-a file={file}: no URLs in the file")
    return urls
