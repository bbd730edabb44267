"""The YAML front matter of a document: written and read back with PyYAML (libyaml when built with it).

One key a line, in the order given; lists of scalars in flow style
(``tags: [a, b]``). PyYAML's representer decides, value by value, whether a
plain scalar would read back as the same string and quotes it otherwise, so
any title (colons, quotes, ``---``, line breaks, other scripts) reads back
unchanged. ``yaml.dump(default_flow_style=None)`` alone would write a front
matter without lists as one ``{...}`` line: the top mapping is set to block
style before serializing.
"""

from __future__ import annotations

from typing import Any

import yaml

try:  # libyaml is several times faster; both write the same YAML
    Dumper: type[yaml.SafeDumper] = yaml.CSafeDumper  # type: ignore[assignment]
    Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    Dumper, Loader = yaml.SafeDumper, yaml.SafeLoader

WIDTH = 1_000_000  # never fold a long title or URL over two lines
TIMESTAMP = "tag:yaml.org,2002:timestamp"


class Timestamp(str):
    """An ISO 8601 UTC time written as a plain YAML timestamp (``fetched: 2026-11-21T22:00:00Z``)."""


def _represent_timestamp(dumper: yaml.SafeDumper, value: Timestamp) -> yaml.ScalarNode:
    return dumper.represent_scalar(TIMESTAMP, str(value))


yaml.SafeDumper.add_representer(Timestamp, _represent_timestamp)


def dump(meta: dict[str, Any]) -> str:
    """``meta`` as a block mapping, one key a line, lists of scalars in flow style, in the order given."""
    node = yaml.SafeDumper(None, default_flow_style=None, sort_keys=False).represent_data(meta)
    node.flow_style = False  # the top mapping: one key a line, even when every value is a scalar
    return yaml.serialize(node, Dumper=Dumper, allow_unicode=True, width=WIDTH)


def load(text: str) -> Any:
    return yaml.load(text, Loader=Loader)
