"""Constructed financials for the criteria tests: the last completed fiscal year is 2025."""

from dataclasses import replace
from datetime import date
from typing import Any

from services.listing import EnterpriseFacts, YearFigures

AS_OF = date(2026, 6, 30)
Years = dict[int, dict[str, float | None]]


def facts(years: Years, **top: Any) -> EnterpriseFacts:
    """Facts from per-year figures; net profit without a 扣非 figure gets the same value (exact)."""
    built = {}
    for year, figures in years.items():
        values = dict(figures)
        if "net_profit" in values and "net_profit_deducted" not in values:
            values["net_profit_deducted"] = values["net_profit"]
        built[year] = YearFigures(**values)
    base: dict[str, Any] = {"enterprise_id": 1, "name": "测试企业", "as_of": AS_OF}
    return EnterpriseFacts(years=built, **(base | top))


def patch(f: EnterpriseFacts, years: Years | None = None, **top: Any) -> EnterpriseFacts:
    """A copy of ``f`` with some yearly figures and top-level fields changed (None = missing)."""
    new_years = dict(f.years)
    for year, changes in (years or {}).items():
        new_years[year] = replace(new_years.get(year, YearFigures()), **changes)
    return replace(f, years=new_years, **top)
