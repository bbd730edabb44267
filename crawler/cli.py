"""What the project's commands share: a user's mistake is one line on stderr and exit code 2.

Exit codes (docs/commands.md): 0 the work is done (also when nothing was
new), 1 the work failed (nothing could be fetched or stored, the frontier
was lost, objects are left in the spool), 2 a user's mistake, reported
before anything starts.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, NoReturn

from scrapy.commands import ScrapyCommand, ScrapyHelpFormatter
from scrapy.utils.conf import arglist_to_dict

from crawler.config import check_log_level, check_setting_names
from crawler.errors import ConfigError
from crawler.redact import redact, secret_values
from pipelines.storage import StorageError

if TYPE_CHECKING:
    from scrapy.settings import Settings

EXIT_FAILED = 1  # the work failed
EXIT_MISTAKE = 2  # a user's mistake (as Scrapy's own usage errors)


def one_line_error(message: str) -> NoReturn:
    """What argparse and Scrapy's usage errors print instead of the usage block: one line, exit code 2.

    ``argument --port: invalid int value: 'abc'`` under four lines of usage hid the problem; ``scrapy
    <command> --help`` still shows the usage.
    """
    sys.stderr.write(f"error: {redact(message.removeprefix('argument '))}\n")
    sys.exit(EXIT_MISTAKE)


def whole_number(option: str, text: str, low: int, high: int | None = None, expected: str = "") -> int:
    """An option's value as a whole number in [low, high]; anything else is one line naming the option."""
    expected = expected or (f"expected a whole number from {low} to {high}" if high is not None
                            else f"expected a whole number, {low} or more")
    try:
        value = int(text.strip())
    except ValueError:
        raise ConfigError(f"{option} {text}: {expected}") from None
    if value < low or (high is not None and value > high):
        raise ConfigError(f"{option} {text}: {expected}")
    return value


def check_no_unknown_option(command: str, args: list[str]) -> None:
    """Scrapy parses with ``parse_known_args``: an option no command knows (``--fromat``) lands among the
    arguments, where the command's own check took it for a second argument ("give one spider name")."""
    unknown = next((arg for arg in args if arg.startswith("-") and arg != "-"), None)
    if unknown is not None:
        raise ConfigError(f"{unknown.split('=', 1)[0]}: unknown option; `scrapy {command} --help` lists them")


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

    @property
    def settings(self) -> Settings:
        """Scrapy's ``settings`` attribute, which is None only until its command line sets it before any use.

        Narrowed here, once, so that no command checks for None on every use.
        """
        if self._settings is None:
            raise RuntimeError(f"scrapy {self.__class__.__module__.rpartition('.')[2]}: used before Scrapy's command "
                               "line gave it its settings")
        return self._settings

    @settings.setter
    def settings(self, value: Settings | None) -> None:
        self._settings = value

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.formatter_class = ProjectHelpFormatter
        parser.error = one_line_error  # type: ignore[method-assign]  # Scrapy makes the parser; its usage block goes

    def run(self, args: list[str], opts: Any) -> None:
        try:
            check_setting_names(self.settings, arglist_to_dict(getattr(opts, "set", None) or []))
            check_log_level(self.settings)
            check_no_unknown_option(self.__class__.__module__.rpartition(".")[2], args)
            self.run_checked(args, opts)
        except (ConfigError, StorageError, FileNotFoundError) as exc:
            # printed, not logged: the log's filter does not see it (a URL's password, a secret setting's value)
            sys.stderr.write(f"error: {redact(str(exc), secret_values(self.settings))}\n")
            self.exitcode = EXIT_MISTAKE

    def run_checked(self, args: list[str], opts: Any) -> None:
        raise NotImplementedError
