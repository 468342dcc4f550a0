"""Charts drawn on the server as inline SVG: no CDN, no JavaScript, readable in any browser and printable."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

PALETTE = ("#2f6fb3", "#e07b39", "#3a9a5b", "#c2423f", "#7b5ea7", "#8c6d3f", "#d16ba5", "#5a6b7b")


def bar_chart(title: str, items: Sequence[tuple[str, float]], *, width: int = 560, bar: int = 22,
              unit: str = "") -> str:
    """Horizontal bars, one per (label, value), largest first as given."""
    left, right, top = 130, 60, 34
    height = top + max(1, len(items)) * (bar + 8) + 10
    top_value = max((v for _, v in items), default=0) or 1
    span = width - left - right
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart bar" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
             f'<text x="8" y="20" font-size="15" font-weight="bold">{escape(title)}</text>']
    if not items:
        parts.append(f'<text x="{left}" y="{top + 16}" font-size="13" fill="#777">无数据</text>')
    for i, (label, value) in enumerate(items):
        y = top + i * (bar + 8)
        w = round(span * value / top_value, 1)
        parts.append(f'<text x="{left - 6}" y="{y + bar * 0.7:.0f}" font-size="12" text-anchor="end">'
                     f'{escape(label)}</text>')
        parts.append(f'<rect class="datum" x="{left}" y="{y}" width="{w}" height="{bar}" '
                     f'fill="{PALETTE[i % len(PALETTE)]}" data-label="{escape(label)}" data-value="{value:g}"/>')
        parts.append(f'<text x="{left + w + 5}" y="{y + bar * 0.7:.0f}" font-size="12">{value:g}{unit}</text>')
    parts.append("</svg>")
    return "".join(parts)


def line_chart(title: str, points: Sequence[tuple[str, float]], *, width: int = 560, height: int = 220) -> str:
    """A line over labelled x positions (e.g. days), with its points marked."""
    left, right, top, bottom = 40, 16, 34, 36
    span_x, span_y = width - left - right, height - top - bottom
    top_value = max((v for _, v in points), default=0) or 1
    step = span_x / max(1, len(points) - 1)
    coords = [(left + i * step, top + span_y - span_y * v / top_value) for i, (_, v) in enumerate(points)]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart line" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
             f'<text x="8" y="20" font-size="15" font-weight="bold">{escape(title)}</text>',
             f'<line x1="{left}" y1="{top + span_y}" x2="{width - right}" y2="{top + span_y}" stroke="#999"/>',
             f'<text x="{left - 4}" y="{top + 4}" font-size="11" text-anchor="end">{top_value:g}</text>',
             f'<text x="{left - 4}" y="{top + span_y}" font-size="11" text-anchor="end">0</text>']
    if coords:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{PALETTE[0]}" stroke-width="2"/>')
    every = max(1, len(points) // 8)
    for i, ((label, value), (x, y)) in enumerate(zip(points, coords, strict=True)):
        parts.append(f'<circle class="datum" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{PALETTE[0]}" '
                     f'data-label="{escape(label)}" data-value="{value:g}"/>')
        if i % every == 0:
            parts.append(f'<text x="{x:.1f}" y="{height - 14}" font-size="10" text-anchor="middle">'
                         f'{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
