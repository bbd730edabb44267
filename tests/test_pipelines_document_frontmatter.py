"""The front matter writer: one key a line, and the same values back whatever they hold."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.document import frontmatter
from pipelines.document.frontmatter import Timestamp

# what trips YAML up: indicators, words that read as other types, quotes, line breaks, other scripts
TRICKY = [
    "",
    " ",
    "true",
    "False",
    "null",
    "~",
    "1",
    "1.5",
    "0x1F",
    "2020-01-01",
    "12:30",
    "-",
    "- x",
    "? x",
    "a: b",
    "a #b",
    "#a",
    "&a",
    "*a",
    "!a",
    "%a",
    "@a",
    "`a",
    "'",
    '"',
    "'a'",
    "---",
    "...",
    "[a]",
    "{a}",
    "a\nb",
    "a\tb",
    "\u00e9t\u00e9",
    "\u0645\u0631\u062d\u0628\u0627",
    "\u65b0\u95fb",
    "\U0001f600",
    "\x85",
    "\u2028",
    " lead",
    "trail ",
    "yes",
    "No",
    "on",
    "=",
    "<<",
    "1e3",
    ".inf",
    "-.NaN",
    "0o17",
    "+1",
]
scalars = st.one_of(st.sampled_from(TRICKY), st.text(max_size=40), st.booleans(), st.integers(-10**6, 10**6),
                    st.tuples(st.just("timestamp"), st.sampled_from(["2026-11-21T22:00:00Z", "1999-01-01T00:00:00Z"])))
values = st.one_of(scalars, st.lists(st.one_of(st.sampled_from(TRICKY), st.text(max_size=20)), max_size=4))
metas = st.dictionaries(st.one_of(st.sampled_from(["title", "url", "date", "tags", "featured"]), st.text(max_size=10)),
                        values, max_size=8)


@settings(max_examples=400, deadline=None)
@given(meta=metas)
def test_the_same_values_back(meta):
    # timestamps are drawn as tuples: hypothesis cannot replay str subclasses
    meta = {key: Timestamp(value[1]) if isinstance(value, tuple) else value for key, value in meta.items()}
    written = frontmatter.dump(meta)
    assert written.count("\n") >= len(meta)  # one key a line at least (a value may break over lines)
    times = {key: datetime.fromisoformat(value.replace("Z", "+00:00")) for key, value in meta.items()
             if isinstance(value, Timestamp)}
    assert (frontmatter.load(written) or {}) == {**meta, **times}


def test_a_value_of_another_type_is_written_too():
    meta = {"title": "x", "extra": {"nested": [1.5, None]}}
    assert frontmatter.dump(meta) == "title: x\nextra:\n  nested: [1.5, null]\n"
    assert frontmatter.load(frontmatter.dump(meta)) == meta


def test_a_mapping_of_scalars_only_is_still_one_key_a_line():
    assert frontmatter.dump({"title": "T", "featured": True}) == "title: T\nfeatured: true\n"


def test_a_timestamp_is_written_plain_and_reads_back_as_a_time():
    written = frontmatter.dump({"fetched": Timestamp("2026-11-21T22:00:00Z")})
    assert written == "fetched: 2026-11-21T22:00:00Z\n"
    assert frontmatter.load(written)["fetched"].year == 2026
