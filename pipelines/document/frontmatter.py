"""The YAML front matter of a document: written and read back with PyYAML (libyaml when built with it).

Writing goes straight to libyaml's emitter as events, with PyYAML's own
resolver deciding, value by value, whether a plain scalar would read back as
the same string; this is what ``yaml.dump`` does, without its representer and
serializer layers, which took 70% of the time (40 us instead of 70 per
document, and the crawl process renders every document). The bytes are the
ones PyYAML's representer and serializer write (tested on every kind of
value a document holds), with lists of scalars in flow style and the mapping
always in block style, one key a line: ``yaml.dump(default_flow_style=None)``
wrote a front matter without lists as one ``{...}`` line. A value of any
other type goes through PyYAML's representer itself.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import (
    DocumentEndEvent, DocumentStartEvent, MappingEndEvent, MappingStartEvent, ScalarEvent, SequenceEndEvent,
    SequenceStartEvent, StreamEndEvent, StreamStartEvent,
)
from yaml.nodes import ScalarNode

try:  # libyaml is several times faster; both write the same YAML
    Dumper: type[yaml.SafeDumper] = yaml.CSafeDumper  # type: ignore[assignment]
    Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    Dumper, Loader = yaml.SafeDumper, yaml.SafeLoader

WIDTH = 1_000_000  # never fold a long title or URL over two lines
STR, BOOL, INT, TIMESTAMP = (f"tag:yaml.org,2002:{name}" for name in ("str", "bool", "int", "timestamp"))


class Timestamp(str):
    """An ISO 8601 UTC time written as a plain YAML timestamp (``fetched: 2026-11-21T22:00:00Z``)."""


def _represent_timestamp(dumper: yaml.SafeDumper, value: Timestamp) -> yaml.ScalarNode:
    return dumper.represent_scalar(TIMESTAMP, str(value))


for _dumper in {yaml.SafeDumper, Dumper}:
    _dumper.add_representer(Timestamp, _represent_timestamp)

_resolve = Dumper(None).resolve  # PyYAML's implicit resolvers: would this plain scalar read back as a string?
_events: dict[Any, ScalarEvent] = {}  # keys and the values that repeat (sections, sources, languages)


def dump(meta: dict[str, Any]) -> str:
    """``meta`` as a block mapping, lists of scalars in flow style, in the order given."""
    try:
        events = [StreamStartEvent(), DocumentStartEvent(explicit=False),
                  MappingStartEvent(None, None, True, flow_style=False)]
        for key, value in meta.items():
            events.append(_scalar(key))
            if isinstance(value, list):
                events.append(SequenceStartEvent(None, None, True, flow_style=True))
                events.extend(_scalar(item) for item in value)
                events.append(SequenceEndEvent())
            else:
                events.append(_scalar(value))
        events += [MappingEndEvent(), DocumentEndEvent(explicit=False), StreamEndEvent()]
    except TypeError:  # a value of a type documents do not hold (a site file's nested table): the long way
        return dump_represented(meta)
    return yaml.emit(events, Dumper=Dumper, allow_unicode=True, width=WIDTH)


def dump_represented(meta: dict[str, Any]) -> str:
    """The same through PyYAML's representer and serializer: any value they take, several times slower."""
    node = yaml.SafeDumper(None, default_flow_style=None, sort_keys=False).represent_data(meta)
    node.flow_style = False  # yaml.dump would write a mapping of scalars only as one {...} line
    return yaml.serialize(node, Dumper=Dumper, allow_unicode=True, width=WIDTH)


def load(text: str) -> Any:
    return yaml.load(text, Loader=Loader)


def _scalar(value: Any) -> ScalarEvent:
    cache_key = (type(value), value)
    event = _events.get(cache_key)
    if event is None:
        event = _make_scalar(value)
        if len(_events) > 4096:
            _events.clear()
        if not isinstance(value, str) or len(value) < 64:  # titles and URLs do not repeat
            _events[cache_key] = event
    return event


def _make_scalar(value: Any) -> ScalarEvent:
    if type(value) is str:
        # plain when the resolver reads it back as a string; else quoted (the emitter picks the quotes)
        return ScalarEvent(None, None, (_resolve(ScalarNode, value, (True, False)) == STR, True), value)
    if type(value) is Timestamp:
        tag, text = TIMESTAMP, str(value)
    elif type(value) is bool:
        tag, text = BOOL, "true" if value else "false"
    elif type(value) is int:
        tag, text = INT, str(value)
    else:
        raise TypeError(type(value).__name__)
    return ScalarEvent(None, tag, (_resolve(ScalarNode, text, (True, False)) == tag, False), text)
