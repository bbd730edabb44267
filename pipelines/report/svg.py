"""Charts as inline SVG, written by hand: a page that needs no script and no network to draw them.

Two shapes cover what the report shows: bars (a count per day or per run)
and lines (rates or sizes over runs, one line per series). Every mark has a
``<title>``, which browsers show as a tooltip, so exact figures are a hover
away without any script.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

WIDTH, HEIGHT = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 66, 14, 12, 34
# colour-blind-safe series colours (Okabe-Ito)
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


def bars(labels: Sequence[str], values: Sequence[float], *, title: str, unit: str = "",
         fmt=lambda v: f"{v:,.0f}") -> str:
    """A bar per label (a day, a run); the labels under the axis are thinned to stay readable."""
    if not values:
        return _empty(title)
    top = _nice_max(max(values))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / len(values)
    gap = min(step * 0.2, 4)
    parts = [_axes(top, fmt, unit)]
    for i, (label, value) in enumerate(zip(labels, values)):
        h = plot_h * value / top if top else 0
        x = LEFT + i * step
        parts.append(f'<rect x="{x + gap / 2:.1f}" y="{TOP + plot_h - h:.1f}" width="{max(step - gap, 1):.1f}" '
                     f'height="{h:.1f}" fill="{COLOURS[0]}"><title>{escape(label)}: {escape(fmt(value))}'
                     f'{escape(unit)}</title></rect>')
    parts.append(_x_labels(labels, step, centred=True))
    return _svg(title, parts)


def lines(labels: Sequence[str], series: Mapping[str, Sequence[float | None]], *, title: str, unit: str = "",
          top: float | None = None, fmt=lambda v: f"{v:,.0f}") -> str:
    """One line per series over the same labels; a None value leaves a gap (the run did not measure it)."""
    values = [v for points in series.values() for v in points if v is not None]
    if not values or not labels:
        return _empty(title)
    top = top if top is not None else _nice_max(max(values))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(labels) - 1, 1)
    parts = [_axes(top, fmt, unit)]

    def xy(i: int, v: float) -> tuple[float, float]:
        x = LEFT + (i * step if len(labels) > 1 else plot_w / 2)
        return x, TOP + plot_h - (plot_h * v / top if top else 0)

    for n, (name, points) in enumerate(series.items()):
        colour = COLOURS[n % len(COLOURS)]
        path, pen_down = [], False
        for i, v in enumerate(points):
            if v is None:
                pen_down = False
                continue
            x, y = xy(i, v)
            path.append(f"{'L' if pen_down else 'M'}{x:.1f},{y:.1f}")
            pen_down = True
        if path:
            parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for i, v in enumerate(points):
            if v is not None:
                x, y = xy(i, v)
                parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{escape(name)}, '
                             f'{escape(labels[i])}: {escape(fmt(v))}{escape(unit)}</title></circle>')
    parts.append(_x_labels(labels, step, centred=False))
    legend = "".join(
        f'<span class="key"><i style="background:{COLOURS[n % len(COLOURS)]}"></i>{escape(name)}</span>'
        for n, name in enumerate(series)
    ) if len(series) > 1 else ""
    return _svg(title, parts) + (f'<div class="legend">{legend}</div>' if legend else "")


def _svg(title: str, parts: list[str]) -> str:
    return (f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
            f'xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>')


def _empty(title: str) -> str:
    return f'<p class="nodata">{escape(title)}: no data yet</p>'


def _axes(top: float, fmt, unit: str) -> str:
    plot_h = HEIGHT - TOP - BOTTOM
    out = [f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" class="axis"/>']
    for k in range(5):
        v = top * k / 4
        y = TOP + plot_h - plot_h * k / 4
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" class="grid"/>'
                   f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(v))}{escape(unit)}</text>')
    return "".join(out)


def _x_labels(labels: Sequence[str], step: float, centred: bool) -> str:
    every = max(1, -(-len(labels) // 5))  # five labels at most: each is about 70 px wide
    out = []
    for i, label in enumerate(labels):
        if i % every:
            continue
        x = LEFT + i * step + (step / 2 if centred else 0)
        if not centred and len(labels) == 1:
            x = LEFT + (WIDTH - LEFT - RIGHT) / 2
        out.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{escape(label)}</text>')
    return "".join(out)


def _nice_max(value: float) -> float:
    """The axis top: 1, 2, 2.5 or 5 times a power of ten, at or above the largest value."""
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1) if value >= 1 else 1
    for factor in (1, 2, 2.5, 5, 10):
        if value <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude
