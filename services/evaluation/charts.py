"""Quarterly trend charts of the 表A.1 lines as SVG whose words are `<text>` elements: the browser
draws them with whatever Chinese font the reader's machine has, and nothing needs a font here.

Each chart shows the period's quarters beside the same quarters a year earlier (year over year).
"""

from collections.abc import Sequence
from html import escape

from services.evaluation.indicators import APPENDIX_A, AppendixA, Indicator

CURRENT_COLOR = "#2f6db5"
PREVIOUS_COLOR = "#a6b4c8"
CURRENT_LABEL, PREVIOUS_LABEL = "本期", "上年同期"
WIDTH, HEIGHT = 420, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 44, 40


def trend_svg(
    indicator: Indicator, current: Sequence[AppendixA], previous: Sequence[AppendixA]
) -> str:
    """A grouped bar chart of one line: each quarter of the period beside a year earlier."""
    now = [float(a.value(indicator.key)) for a in current]
    before = [float(a.value(indicator.key)) for a in previous][: len(now)]
    labels = [a.period.short_label for a in current]
    top = max([*now, *before, 1.0]) * 1.15
    plot_h, plot_w = HEIGHT - TOP - BOTTOM, WIDTH - LEFT - RIGHT
    slot = plot_w / max(len(now), 1)
    bar = slot * 0.36
    parts = [
        _text(WIDTH / 2, 18, f"{indicator.group}｜{indicator.name}", 13, "middle", "chart-title"),
        _text(8, TOP - 8, indicator.unit, 11, "start", "chart-unit"),
        _legend(WIDTH - RIGHT - 150, 32),
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
        'stroke="#888"/>',
    ]
    for n, label in enumerate(labels):
        x0 = LEFT + n * slot + slot * 0.14
        for offset, values, color in ((0.0, before, PREVIOUS_COLOR), (bar, now, CURRENT_COLOR)):
            if n < len(values):
                parts.append(_bar(x0 + offset, bar, values[n], top, plot_h, color))
        parts.append(_text(LEFT + (n + 0.5) * slot, HEIGHT - BOTTOM + 16, label, 11, "middle"))
    title = escape(
        f"{indicator.group}｜{indicator.name} 季度趋势（{CURRENT_LABEL}与{PREVIOUS_LABEL}）"
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" class="trend" '
        f'data-key="{indicator.key}" font-family="sans-serif"><title>{title}</title>'
        + "".join(parts)
        + "</svg>"
    )


def _bar(x: float, width: float, value: float, top: float, plot_h: float, color: str) -> str:
    h = plot_h * value / top
    y = TOP + plot_h - h
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{h:.1f}" fill="{color}"/>'
        + _text(x + width / 2, y - 3, _number(value), 10, "middle")
    )


def _legend(x: float, y: float) -> str:
    items = []
    for n, (label, color) in enumerate(
        ((CURRENT_LABEL, CURRENT_COLOR), (PREVIOUS_LABEL, PREVIOUS_COLOR))
    ):
        left = x + n * 72
        items.append(f'<rect x="{left}" y="{y - 9}" width="10" height="10" fill="{color}"/>')
        items.append(_text(left + 14, y, label, 11, "start"))
    return "".join(items)


def _text(x: float, y: float, text: str, size: int, anchor: str, css: str = "") -> str:
    klass = f' class="{css}"' if css else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}"{klass}>'
        f"{escape(text)}</text>"
    )


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:g}"


def trend_charts(current: Sequence[AppendixA], previous: Sequence[AppendixA]) -> dict[str, str]:
    """One SVG per 表A.1 line (the 17 and 北交所), keyed by indicator key."""
    return {i.key: trend_svg(i, current, previous) for i in APPENDIX_A}
