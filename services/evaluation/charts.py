"""Quarterly trend charts of the 表A.1 indicators (matplotlib, no pyplot: safe in any process).

Chinese labels need a CJK font: the Debian package `fonts-noto-cjk` (Noto Sans CJK SC) or
`fonts-wqy-microhei`. Without one the charts still render, with missing glyphs, and a warning is logged.
"""

import io
import logging
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING

from services.evaluation.indicators import APPENDIX_A, AppendixA, Indicator

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure as MplFigure

log = logging.getLogger(__name__)

CJK_FONTS: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK JP",
    "SimHei",
    "Microsoft YaHei",
)
BAR_COLOR = "#2f6db5"
STOCK_COLOR = "#c0504d"
# Figures that are a state at the period's end (or over it) rather than a flow within it.
STOCK_KEYS = frozenset({"credit_banks", "venture_institutions", "coached_unlisted"})


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The first installed font that can draw Chinese, or None."""
    from matplotlib import font_manager  # matplotlib loads lazily: the CLI need not pay for it

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def trend_png(indicator: Indicator, series: Sequence[AppendixA], *, dpi: int = 110) -> bytes:
    """A PNG bar (flow) or line (stock) chart of one indicator over the given quarters."""
    from matplotlib.figure import Figure as MplFigure

    with _cjk_context():
        fig = MplFigure(figsize=(4.2, 2.6), dpi=dpi, layout="constrained")
        _draw(fig.subplots(), indicator, series)
        return _png(fig)


def trend_grid_png(series: Sequence[AppendixA], *, dpi: int = 72) -> bytes:
    """All 18 indicator charts as one PNG, three per row (for notebooks and overviews)."""
    from matplotlib.figure import Figure as MplFigure

    with _cjk_context():
        fig = MplFigure(figsize=(13, 15), dpi=dpi, layout="constrained")
        for ax, indicator in zip(fig.subplots(6, 3).flat, APPENDIX_A, strict=True):
            _draw(ax, indicator, series)
        return _png(fig)


def _draw(ax: "Axes", indicator: Indicator, series: Sequence[AppendixA]) -> None:
    from matplotlib.ticker import MaxNLocator

    labels = [a.period.short_label for a in series]
    values = [float(a.value(indicator.key)) for a in series]
    _plot(ax, indicator.key, labels, values)
    ax.set_title(f"{indicator.group}｜{indicator.name}", fontsize=9)
    ax.set_ylabel(indicator.unit, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(axis="y", alpha=0.3)
    ax.set_ylim(bottom=0, top=max([*values, 1.0]) * 1.2)
    if indicator.unit != "万元":
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))


def _png(fig: "MplFigure") -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _plot(ax: "Axes", key: str, labels: list[str], values: list[float]) -> None:
    if key in STOCK_KEYS:
        ax.plot(labels, values, marker="o", color=STOCK_COLOR)
        points = [(float(x), y) for x, y in enumerate(values)]
    else:
        bars = ax.bar(labels, values, color=BAR_COLOR)
        points = [(b.get_x() + b.get_width() / 2, b.get_height()) for b in bars]
    for x, y in points:
        text = f"{y:,.0f}" if y >= 100 else f"{y:g}"
        ax.annotate(text, (x, y), ha="center", va="bottom", fontsize=6)


@contextmanager
def _cjk_context() -> Iterator[None]:
    from matplotlib import rc_context

    font = cjk_font()
    with rc_context({"font.family": "sans-serif", "font.sans-serif": [font or "DejaVu Sans"]}):
        if font is not None:
            yield
            return
        log.warning("未找到中文字体（请安装 fonts-noto-cjk），图表中文将无法显示")
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Glyph .* missing from font")
            yield


def trend_charts(series: Sequence[AppendixA]) -> dict[str, bytes]:
    """One PNG per 表A.1 indicator (the 17 and 北交所), keyed by indicator key."""
    return {indicator.key: trend_png(indicator, series) for indicator in APPENDIX_A}
