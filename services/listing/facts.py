"""What the criteria are evaluated on: an enterprise's figures, as plain values (no database).

`Observed` carries a figure and whether it is exact. Under the 扣非孰低 rule the net profit of a year
is ``min(净利润, 扣非净利润)``; when only one of the two is known, the known one is an upper bound
of the figure the rule means: failing with it is a sure miss, passing with it proves nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Observed:
    """A figure; ``exact`` is False when it is only an upper bound of the rule's figure."""

    value: float
    exact: bool = True


@dataclass(frozen=True)
class YearFigures:
    """One fiscal year's figures in 万元 (ROE in %, share capital in 万股); None = not reported."""

    revenue: float | None = None
    net_profit: float | None = None
    net_profit_deducted: float | None = None
    rd_expense: float | None = None
    operating_cash_flow: float | None = None
    net_assets: float | None = None
    share_capital: float | None = None
    weighted_roe: float | None = None
    equity_financing: float | None = None


@dataclass(frozen=True)
class EnterpriseFacts:
    """Everything readiness needs about one enterprise, as of one day.

    ``neeq_months`` / ``neeq_innovation`` are None when it is not known whether the enterprise is
    quoted on NEEQ at all (no cultivation record); 0 / False when it is known not to be.
    """

    enterprise_id: int
    name: str
    as_of: date
    years: Mapping[int, YearFigures] = field(default_factory=dict)
    market_value: float | None = None
    neeq_months: float | None = None
    neeq_innovation: bool | None = None
    founded_on: date | None = None

    @property
    def latest_year(self) -> int | None:
        """The latest completed fiscal year with any figures (years after ``as_of`` are ignored)."""
        done = [y for y in self.years if y < self.as_of.year]
        return max(done) if done else None

    def window(self, years: int) -> list[int]:
        """The last ``years`` fiscal years ending at :attr:`latest_year`, oldest first."""
        last = self.latest_year
        if last is None:
            return []
        return list(range(last - years + 1, last + 1))

    def yearly(self, metric: str, year: int, lower_of: bool) -> Observed | None:
        """One year's figure; net profit follows the set's basis (扣非孰低 or as reported)."""
        figures = self.years.get(year)
        if figures is None:
            return None
        if metric != "net_profit":
            value = getattr(figures, metric)
            return None if value is None else Observed(float(value))
        return _net_profit(figures, lower_of)

    def value(self, metric: str) -> float | None:
        """A figure that is not per year (market value, months on NEEQ …); bools as 1/0."""
        if metric == "market_value":
            return self.market_value
        if metric == "neeq_months":
            return self.neeq_months
        if metric == "neeq_innovation":
            return None if self.neeq_innovation is None else float(self.neeq_innovation)
        if metric == "operating_years":
            return months_between(self.founded_on, self.as_of) / 12 if self.founded_on else None
        raise KeyError(metric)


def _net_profit(figures: YearFigures, lower_of: bool) -> Observed | None:
    reported, deducted = figures.net_profit, figures.net_profit_deducted
    if not lower_of:
        return None if reported is None else Observed(reported)
    known = [v for v in (reported, deducted) if v is not None]
    if not known:
        return None
    return Observed(min(known), exact=len(known) == 2)


def months_between(start: date, end: date) -> float:
    """Whole calendar months from ``start`` to ``end`` (a month counts once its day is reached)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return float(months - (1 if end.day < start.day else 0))
