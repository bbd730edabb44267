"""``scrapy report -o report.html|report.json``: the store at a glance, from its run records and manifests.

The HTML page is self-contained (styles, SVG charts and the figures as JSON
inline, no script, no request to the network); the JSON file holds the same
figures. Give ``-o`` twice to write both from one reading of the store.
Figures and format: docs/report.md.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar

from scrapy.exceptions import UsageError

from crawler.cli import ProjectCommand
from crawler.config import check_existing_store
from crawler.errors import ConfigError
from pipelines.report.figures import store_figures
from pipelines.report.page import render_page
from pipelines.report.units import human_bytes
from pipelines.storage import storage_from_settings

FORMATS = {".html": "html", ".htm": "html", ".json": "json"}


class Command(ProjectCommand):
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_LEVEL": "WARNING"}

    def syntax(self) -> str:
        return "[-s STORE_URI=...] -o report.html|report.json [-o ...]"

    def short_desc(self) -> str:
        return "Write a report of the store (HTML page with charts, or JSON): runs, sites, fields, errors, alarms"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("-o", "--output", action="append", default=[], metavar="FILE",
                            help="report.html (a page that needs no network) or report.json; may be repeated")

    def run_checked(self, args: list[str], opts: Any) -> None:
        if args:
            raise UsageError("report takes no arguments; name the store with -s STORE_URI=… and the file with -o")
        if not opts.output:
            raise UsageError("give the report's file: -o report.html or -o report.json")
        outputs = [(Path(name), output_format(name)) for name in opts.output]
        check_existing_store(self.settings)
        started = time.monotonic()
        storage = storage_from_settings(self.settings)
        figures = store_figures(storage, self.settings.get("STATE_DIR"))
        totals = figures["totals"]
        for path, kind in outputs:
            text = render_page(figures) if kind == "html" else json.dumps(figures, indent=1, ensure_ascii=False) + "\n"
            write_atomic(path, text.encode("utf-8"))
            sys.stderr.write(f"report: {totals['articles']:,} articles of {totals['sites']:,} sites in "
                             f"{totals['runs']:,} runs -> {path} ({human_bytes(path.stat().st_size)}) in "
                             f"{time.monotonic() - started:.1f} s\n")


def output_format(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in FORMATS:
        raise ConfigError(f"-o {name}: the report is written as .html or .json")
    return FORMATS[suffix]


def write_atomic(path: Path, data: bytes) -> None:
    """A reader (a web server publishing the report, say) never sees half a file."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent if str(path.parent) else ".")
    except OSError as exc:
        raise ConfigError(f"-o {path}: cannot write there: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
