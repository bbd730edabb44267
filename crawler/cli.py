"""What the project's commands share: a user's mistake is one line on stderr and exit code 2.

Exit codes (docs/commands.md): 0 the work is done (also when nothing was
new), 1 the work failed (nothing could be fetched or stored, the frontier
was lost, objects are left in the spool), 2 a user's mistake, reported
before anything starts.
"""

from __future__ import annotations

import sys
from typing import Any

from scrapy.commands import ScrapyCommand, ScrapyHelpFormatter
from scrapy.utils.conf import arglist_to_dict

from crawler.config import check_setting_names
from crawler.errors import ConfigError
from pipelines.storage import StorageError

EXIT_FAILED = 1  # the work failed
EXIT_MISTAKE = 2  # a user's mistake (as Scrapy's own usage errors)


class ProjectHelpFormatter(ScrapyHelpFormatter):
    """Scrapy's help layout, but only real section headings are underlined.

    Scrapy's formatter takes any part of the help that ends with a colon for a
    heading, so a help text wrapped after "example:" became an underlined title;
    and descriptions keep the lines they are written in.
    """

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        """A command's description keeps its own lines (tables of arguments, exit codes)."""
        return "".join(indent + line for line in text.splitlines(keepends=True))

    def format_part_strings(self, part_strings: list[str]) -> list[str]:
        # a heading is a line of its own; an option's help text continues the line its option name starts
        headings = [
            i
            for i, part in enumerate(part_strings)
            if part.endswith(":\n") and "\n" not in part[:-1] and (i == 0 or part_strings[i - 1].endswith("\n"))
        ]
        marked = [part.removesuffix(":\n") + ":\x00\n" if i not in headings and part.endswith(":\n") else part
                  for i, part in enumerate(part_strings)]
        return [part.replace(":\x00\n", ":\n") for part in super().format_part_strings(marked)]


class ProjectCommand(ScrapyCommand):
    requires_project = True

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.formatter_class = ProjectHelpFormatter

    def run(self, args: list[str], opts: Any) -> None:
        try:
            check_setting_names(self.settings, arglist_to_dict(getattr(opts, "set", None) or []))
            self.run_checked(args, opts)
        except (ConfigError, StorageError, FileNotFoundError) as exc:
            sys.stderr.write(f"error: {exc}\n")
            self.exitcode = EXIT_MISTAKE

    def run_checked(self, args: list[str], opts: Any) -> None:
        raise NotImplementedError
