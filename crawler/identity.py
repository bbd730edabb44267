"""RunIdentity add-on: the crawl's id and this process's run id, fixed once as settings every component reads.

``CRAWL_ID`` is the user's (workers of one crawl share it) or made here:
``<spider>-<UTC time>-<random>``. ``RUN_ID`` names this process's files
(``runs/``, ``manifest/``, ``warc/``): the crawl id, plus ``.<worker id>``
when several workers share a crawl (``WORKER_ID``, which the frontier add-on
sets before this one runs).
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import Any

from crawler.errors import ConfigError

ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}$")  # CRAWL_ID and WORKER_ID: they name files


def new_crawl_id(spider_name: str, now: datetime | None = None) -> str:
    name = re.sub(r"[^a-z0-9_]+", "_", (spider_name or "crawl").lower())
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{name}-{stamp}-{secrets.token_hex(2)}"


def check_ids(settings: Any) -> None:
    """CRAWL_ID and WORKER_ID name files and Redis keys: letters, digits, '.', '_' and '-' only."""
    for name in ("CRAWL_ID", "WORKER_ID"):
        value = settings.get(name) or ""
        if value and not ID_RE.match(value):
            raise ConfigError(f"setting {name}={value!r}: use letters, digits, '.', '_' and '-'")


class RunIdentity:
    def __init__(self, spider_name: str):
        self.spider_name = spider_name

    @classmethod
    def from_crawler(cls, crawler: Any) -> RunIdentity:
        return cls(getattr(crawler.spidercls, "name", "") or "crawl")

    def update_settings(self, settings: Any) -> None:
        check_ids(settings)
        crawl = settings.get("CRAWL_ID") or ""
        if not crawl:
            crawl = new_crawl_id(self.spider_name)
            settings.set("CRAWL_ID", crawl, priority="addon")
        worker = settings.get("WORKER_ID") or ""
        settings.set("RUN_ID", f"{crawl}.{worker}" if worker else crawl, priority="cmdline")  # not a user's to set
