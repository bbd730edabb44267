"""What the project's commands share: a user's mistake is one line on stderr and exit code 2."""

from __future__ import annotations

import sys
from typing import Any

from scrapy.commands import ScrapyCommand

from crawler.errors import ConfigError
from pipelines.storage import StorageError


class ProjectCommand(ScrapyCommand):
    requires_project = True

    def run(self, args: list[str], opts: Any) -> None:
        try:
            self.run_checked(args, opts)
        except (ConfigError, StorageError, FileNotFoundError) as exc:
            sys.stderr.write(f"error: {exc}\n")
            self.exitcode = 2

    def run_checked(self, args: list[str], opts: Any) -> None:
        raise NotImplementedError
