"""``scrapy flush``: upload the objects that an S3 outage left in the spool (``STORE_SPOOL_DIR``).

Crawls do this first on their own; the command is for when no crawl is due.
Exit code 0 when the spool is empty afterwards, 1 when objects are left
(S3 still unreachable: run it again later).
"""

from __future__ import annotations

import sys
from typing import Any, ClassVar

from crawler.cli import ProjectCommand
from crawler.config import check_store_uri
from pipelines.storage import storage_from_settings


class Command(ProjectCommand):
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_LEVEL": "WARNING"}

    def syntax(self) -> str:
        return "[-s STORE_URI=s3://bucket/prefix]"

    def short_desc(self) -> str:
        return "Upload objects waiting in the spool since S3 failed"

    def run_checked(self, args: list[str], opts: Any) -> None:
        check_store_uri(self.settings.get("STORE_URI") or "", self.settings.getwithbase("STORE_BACKENDS"))
        storage = storage_from_settings(self.settings)
        flushed, left = storage.flush_spool()
        sys.stdout.write(f"flushed {flushed} object(s) to {storage.uri}; {left} left in the spool\n")
        if left:
            sys.stderr.write(f"error: {left} object(s) could not be uploaded yet; run `scrapy flush` again later\n")
            self.exitcode = 1
