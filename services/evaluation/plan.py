"""The annual plan (standard 6.2.1.1): a target per 表A.1 line and year, and the review every
report shows — target versus actual, progress through the year, and year over year."""

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

from models import PlanTarget
from models.base import utcnow
from models.crud import add
from models.errors import DomainError
from services.audit.repository import append_audit
from services.evaluation import repository as repo
from services.evaluation.appendix_a import appendix_a
from services.evaluation.indicators import (
    APPENDIX_A,
    GROUPS,
    INDICATORS_BY_KEY,
    AppendixA,
    Indicator,
    Period,
)

FIRST_YEAR, LAST_YEAR = 1990, 2100


@dataclass(frozen=True)
class PlanLine:
    """One 表A.1 line: this period, the same period a year earlier, and the year's target."""

    indicator: Indicator
    actual: int | float
    previous: int | float
    target: float | None
    year_to_date: int | float  # from 1 January of the plan year to the period's end

    @property
    def progress(self) -> float | None:
        """Share of the annual target reached by the period's end (None without a target)."""
        if not self.target:
            return None
        return round(self.year_to_date / self.target, 4)

    @property
    def change(self) -> float | None:
        """Year-over-year change of the period's figure (None when last year's was 0)."""
        if not self.previous:
            return None
        return round((self.actual - self.previous) / self.previous, 4)


@dataclass(frozen=True)
class PlanReview:
    """表A.1 of a period against the plan and against the same period a year earlier."""

    period: Period
    previous_period: Period
    plan_year: int | None  # the year whose targets apply; None when the period spans two
    lines: tuple[PlanLine, ...]

    def line(self, key: str) -> PlanLine:
        """The line of indicator `key`."""
        return next(line for line in self.lines if line.indicator.key == key)

    def as_json(self) -> dict[str, Any]:
        """`targets` and `previous_year` as {一级指标: {二级指标: value}} (the 17 lines, like
        表A.1's `--json`), and every line including 北交所 by key."""
        return {
            "plan_year": self.plan_year,
            "previous_period": {
                "start": self.previous_period.start.isoformat(),
                "end": self.previous_period.end.isoformat(),
                "label": self.previous_period.label,
            },
            "targets": self._nested(lambda line: line.target),
            "previous_year": self._nested(lambda line: line.previous),
            "lines": [_line_json(line) for line in self.lines],
        }

    def _nested(self, value: Any) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {group: {} for group in GROUPS}
        for line in self.lines:
            if not line.indicator.supplementary:
                out[line.indicator.group][line.indicator.name] = value(line)
        return out


def _line_json(line: PlanLine) -> dict[str, Any]:
    return {
        "key": line.indicator.key,
        "group": line.indicator.group,
        "name": line.indicator.name,
        "supplementary": line.indicator.supplementary,
        "value": line.actual,
        "target": line.target,
        "year_to_date": line.year_to_date,
        "progress": line.progress,
        "previous_year": line.previous,
        "change": line.change,
    }


def indicator_choices() -> str:
    """The valid keys with their 表A.1 names, for error messages and help."""
    return "；".join(f"{i.key}（{i.group}｜{i.name}）" for i in APPENDIX_A)


def set_target(session: Session, year: int, key: str, target: float, actor: str) -> PlanTarget:
    """Set (or replace) the target of 表A.1 line `key` for `year`; audited."""
    if key not in INDICATORS_BY_KEY:
        raise DomainError(f"未知的表A.1指标“{key}”，可选：{indicator_choices()}", field="indicator")
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise DomainError(f"年度应在 {FIRST_YEAR}–{LAST_YEAR} 之间，实际为 {year}", field="year")
    if math.isnan(target) or math.isinf(target) or target < 0:
        raise DomainError(f"目标值应为不小于 0 的数，实际为 {target}", field="target")
    row = repo.target_for(session, year, key)
    previous = None if row is None else row.target
    if row is None:
        row = PlanTarget(year=year, indicator_key=key, target=target, set_by=actor)
    row.target, row.set_by, row.set_at = target, actor, utcnow()
    add(session, row)
    append_audit(session, actor=actor, action="plan_target", entity="plan_target",
                 entity_id=row.id, detail={"year": year, "indicator": key, "target": target,
                                           "previous": previous})  # fmt: skip
    return row


def targets(session: Session, year: int) -> dict[str, float]:
    """The plan of `year` as {indicator key: target}."""
    return {t.indicator_key: t.target for t in repo.targets_for_year(session, year)}


def year_earlier(period: Period) -> Period:
    """The same days one year earlier (29 February becomes the 28th)."""
    return Period(_year_back(period.start), _year_back(period.end))


def _year_back(day: date) -> date:
    return day.replace(year=day.year - 1, day=min(day.day, 28 if day.month == 2 else day.day))


def plan_review(session: Session, period: Period, current: AppendixA | None = None) -> PlanReview:
    """Compare `period` (its 表A.1 given as `current`, or computed) with the plan and last year."""
    current = current or appendix_a(session, period)
    previous_period = year_earlier(period)
    previous = appendix_a(session, previous_period)
    year = period.start.year if period.start.year == period.end.year else None
    plan = targets(session, year) if year is not None else {}
    ytd = current
    if year is not None and period.start != date(year, 1, 1):
        ytd = appendix_a(session, Period(date(year, 1, 1), period.end))
    lines = tuple(
        PlanLine(i, current.value(i.key), previous.value(i.key), plan.get(i.key), ytd.value(i.key))
        for i in APPENDIX_A
    )
    return PlanReview(period, previous_period, year, lines)
