"""Figures for people: sizes in kB/MB/GB, shares in per cent."""

from __future__ import annotations


def human_bytes(size: float) -> str:
    """``1234567`` -> ``1.2 MB`` (decimal units, as disks and S3 bills count)."""
    size = float(size or 0)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(size) < 1000 or unit == "TB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1000
    return f"{size:,.1f} TB"  # pragma: no cover - the loop returns


def percent(share: float | None) -> str:
    return "–" if share is None else f"{share:.0%}"
