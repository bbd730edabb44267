"""The settings reference (docs/settings.md), generated from settings/base.py: one place for every setting.

Each setting in ``settings/base.py`` is documented by its comment: the one at
the end of its line, and the lines of comment right above it. Groups are the
``# --- name ---`` lines. ``python -m settings.reference`` prints the page;
``make docs`` writes it, and a test keeps the page in step with the code.
"""

from __future__ import annotations

import ast
import io
import posixpath
import re
import sys
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

BASE = Path(__file__).with_name("base.py")
SECTION = re.compile(r"^# -{2,} (?P<title>.+?) -*$")
INLINE_LIMIT = 60  # characters of a default shown in the table; longer ones are listed in full below it


@dataclass
class Setting:
    name: str
    default: str  # as written in base.py, or a reading of it for environment lookups
    doc: str
    block: bool = False  # a value too long for the table


@dataclass
class Group:
    title: str
    settings: list[Setting] = field(default_factory=list)


def read_settings(path: Path = BASE) -> list[Group]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    comments = _comments(source)
    groups = [Group("Scrapy project")]
    section_at = {n: m["title"] for n, text in comments.items() if (m := SECTION.match(text))}
    tree = ast.parse(source)
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        name = node.targets[0].id
        if not name.isupper():
            continue
        for line in sorted(section_at):
            if line < node.lineno and all(line > s for s in _started(groups, section_at)):
                groups.append(Group(section_at[line]))
        above: list[str] = []
        number = node.lineno - 1
        while number in comments and number not in section_at and not lines[number - 1].strip().startswith(
                tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ")):
            above.insert(0, comments[number])
            number -= 1
        trailing = comments.get(node.lineno, "") if lines[node.lineno - 1].split("#")[0].strip() else ""
        doc = " ".join(part.lstrip("# ").strip() for part in (*above, trailing) if part.strip("# "))
        default = _default(ast.get_source_segment(source, node.value) or "")
        groups[-1].settings.append(Setting(name, default, doc, "\n" in default or len(default) > INLINE_LIMIT))
    return [group for group in groups if group.settings]


def _started(groups: list[Group], section_at: dict[int, str]) -> list[int]:
    titles = [group.title for group in groups]
    return [line for line, title in section_at.items() if title in titles]


def _comments(source: str) -> dict[int, str]:
    """Line number -> the comment on that line."""
    found = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            found[token.start[0]] = token.string
    return found


_ENV = re.compile(r'^os\.environ\.get\("(?P<env>\w+)", (?P<default>.+)\)$', re.S)


def _default(text: str) -> str:
    """The default as written; a value read from the environment as "env NAME, else <value>", with ~ kept."""
    match = _ENV.match(text.strip())
    if match:
        home_kept = SimpleNamespace(path=SimpleNamespace(join=posixpath.join, expanduser=str))
        default = eval(match["default"], {"__builtins__": {}, "os": home_kept})
        return f"env {match['env']}, else {default!r}"
    return text.strip()


def render(groups: list[Group]) -> str:
    out = [
        "# Settings reference",
        "",
        "Generated from `settings/base.py` by `make docs` (`python -m settings.reference`); a test keeps it in",
        "step. Set any of them with `-s NAME=value`, in a site file's `settings` table (fetch tuning only, see",
        "[safety](safety.md)), or in a settings module (`SCRAPY_SETTINGS_MODULE=settings.prod`). Scrapy's own",
        "settings not listed here keep Scrapy's defaults.",
    ]
    for group in groups:
        title, page = _title(group.title)
        out += ["", f"## {title}", ""] + ([f"See [{page}]({page}).", ""] if page else [])
        out += ["| setting | default | what it does |", "| --- | --- | --- |"]
        blocks = []
        for setting in group.settings:
            shown = "(below)" if setting.block else f"`{setting.default}`"
            out.append(f"| `{setting.name}` | {shown} | {setting.doc.replace('|', '/')} |")
            if setting.block:
                blocks += ["", f"`{setting.name}`:", "", "```python", setting.default, "```"]
        out += blocks
    return "\n".join(out) + "\n"


def _title(text: str) -> tuple[str, str]:
    """A group's heading, and the docs page its ``(docs/x.md)`` names."""
    page = re.search(r"docs/([\w-]+\.md)", text)
    text = re.sub(r"\s*\([^)]*docs/[^)]*\)", "", text)
    if "(" in text and page:
        text = re.sub(r";\s*docs/[\w-]+\.md", "", text)
    return text[0].upper() + text[1:], page.group(1) if page else ""


def undocumented(groups: list[Group]) -> list[str]:
    return [s.name for group in groups for s in group.settings if not s.doc]


def main() -> None:
    groups = read_settings()
    missing = undocumented(groups)
    if missing:
        sys.exit(f"error: settings/base.py: no comment for {', '.join(missing)}")
    sys.stdout.write(render(groups))


if __name__ == "__main__":
    main()
