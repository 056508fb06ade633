"""Charts a renderer draws: a scatter of points with a highlighted frontier, as text or as SVG.

A view builds the :class:`Chart` (the figures); these functions only lay it out. The SVG is
self-contained (no script, no external font or style), every label XML-escaped.
"""

from __future__ import annotations

import math
from html import escape  # XML-safe for text and attributes; xml.sax.saxutils pulls in urllib (~35 ms at start-up)

from dsadvisor.records import record


@record(frozen=True)
class ChartPoint:
    x: float
    y: float
    label: str
    on_frontier: bool = False
    chosen: bool = False


@record(frozen=True)
class Chart:
    title: str
    x_label: str
    y_label: str
    points: tuple[ChartPoint, ...]


def _scale(values: list[float]) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    if hi <= lo:
        hi = lo + 1.0
    return lo, hi


def text_chart(chart: Chart, width: int = 60, height: int = 16) -> str:
    """The scatter in characters: '.' a point, 'o' on the frontier, '*' the chosen one."""
    if not chart.points:
        return ""
    (x0, x1), (y0, y1) = _scale([p.x for p in chart.points]), _scale([p.y for p in chart.points])
    grid = [[" "] * width for _ in range(height)]
    for p in sorted(chart.points, key=lambda p: (p.chosen, p.on_frontier)):
        col = round((p.x - x0) / (x1 - x0) * (width - 1))
        row = height - 1 - round((p.y - y0) / (y1 - y0) * (height - 1))
        grid[row][col] = "*" if p.chosen else "o" if p.on_frontier else "."
    top, bottom = f"{y1:,.0f}", f"{y0:,.0f}"
    pad = max(len(top), len(bottom))
    lines = [f"{chart.y_label} ('o' frontier, '*' chosen)"]
    for i, cells in enumerate(grid):
        axis = top if i == 0 else bottom if i == height - 1 else ""
        lines.append(f"{axis:>{pad}} |{''.join(cells)}")
    lines.append(f"{'':>{pad}} +{'-' * width}")
    left, right = f"{x0:,.1f}", f"{x1:,.1f}"
    lines.append(f"{'':>{pad}}  {left}{right:>{width - len(left)}}")
    lines.append(f"{'':>{pad}}  {chart.x_label:^{width}}")
    return "\n".join(lines) + "\n"


def svg_chart(chart: Chart, width: int = 760, height: int = 480) -> str:
    """The scatter as a standalone SVG: grey points, the frontier joined and labelled, the chosen one red."""
    left, right, top, bottom = 80, 30, 40, 60
    pw, ph = width - left - right, height - top - bottom
    (x0, x1), (y0, y1) = _scale([p.x for p in chart.points] or [0.0]), _scale([p.y for p in chart.points] or [0.0])

    def xy(p: ChartPoint) -> tuple[float, float]:
        return left + (p.x - x0) / (x1 - x0) * pw, top + ph - (p.y - y0) / (y1 - y0) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<title>{escape(chart.title)}</title>',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">{escape(chart.title)}</text>',
           f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="black"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="black"/>']
    for i in range(5):
        fx, fy = x0 + (x1 - x0) * i / 4, y0 + (y1 - y0) * i / 4
        gx, gy = left + pw * i / 4, top + ph - ph * i / 4
        out.append(f'<text x="{gx:.1f}" y="{top + ph + 16}" text-anchor="middle">{_tick(fx)}</text>')
        out.append(f'<text x="{left - 6}" y="{gy + 4:.1f}" text-anchor="end">{_tick(fy)}</text>')
    out.append(f'<text x="{left + pw / 2}" y="{height - 16}" text-anchor="middle">{escape(chart.x_label)}</text>')
    out.append(f'<text transform="translate(18 {top + ph / 2}) rotate(-90)" text-anchor="middle">'
               f'{escape(chart.y_label)}</text>')
    front = sorted((p for p in chart.points if p.on_frontier), key=lambda p: p.x)
    if len(front) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in map(xy, front))
        out.append(f'<polyline points="{path}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>')
    for p in sorted(chart.points, key=lambda p: (p.chosen, p.on_frontier)):
        x, y = xy(p)
        colour = "#d62728" if p.chosen else "#1f77b4" if p.on_frontier else "#bbbbbb"
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{5 if p.chosen else 3.5}" fill="{colour}">'
                   f'<title>{escape(p.label)}</title></circle>')
        if p.on_frontier or p.chosen:
            out.append(f'<text x="{x + 6:.1f}" y="{y - 6:.1f}" fill="{colour}">{escape(p.label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _tick(value: float) -> str:
    if value == 0 or abs(value) >= 100:
        return f"{value:,.0f}"
    digits = max(0, 2 - int(math.floor(math.log10(abs(value)))))
    return f"{value:,.{digits}f}"
