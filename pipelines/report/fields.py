"""What a document is measured by: which tracked fields it fills, and how long its body is.

The same figures go into each manifest line (``fields``, ``body_chars``),
into the run record (per site, summed) and into the report, so that one
definition serves all three.
"""

from __future__ import annotations

from typing import Any

# front-matter fields whose fill rate tells whether extraction still works on a site's pages
TRACKED_FIELDS = ("date", "author", "image", "description", "language")


def present_fields(meta: dict[str, Any]) -> list[str]:
    """The front-matter keys a document has (a key with no value is left out of documents, so present = set)."""
    return sorted(meta)
