"""The exchanges' listing criteria as versioned data (`models/data/listing_criteria.json`).

A criteria set is one of a board's alternative financial standards (e.g. 科创板 第二套标准); it is
met when every one of its criteria, plus the board's common criteria, is met. Each set carries its
source (rule and article) and the dates it is in force, so a rule change is a change of the JSON.
"""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.reference import Board

CRITERIA_PATH = Path(__file__).resolve().parents[2] / "models" / "data" / "listing_criteria.json"

Metric = Literal[
    "revenue",
    "net_profit",
    "rd_expense",
    "operating_cash_flow",
    "net_assets",
    "share_capital",
    "weighted_roe",
    "equity_financing",
    "market_value",
    "neeq_months",
    "neeq_innovation",
    "operating_years",
    "manual",
]
YEARLY_METRICS: frozenset[str] = frozenset(
    {
        "revenue",
        "net_profit",
        "rd_expense",
        "operating_cash_flow",
        "net_assets",
        "share_capital",
        "weighted_roe",
        "equity_financing",
    }
)
Aggregate = Literal[
    "value", "latest", "each", "sum", "average", "share", "per", "growth", "cagr", "increasing"
]
Operator = Literal[">=", ">", "is_true"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Criterion(_Strict):
    """One threshold on one figure: ``agg(metric over years) op threshold``."""

    label: str
    metric: Metric
    agg: Aggregate = "value"
    years: int = Field(default=1, ge=1, le=5)
    of: Metric | None = None
    op: Operator = ">="
    threshold: float | None = None
    unit: str | None = None
    source: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Criterion:
        if self.metric == "manual":
            return self
        if self.op != "is_true" and self.threshold is None:
            raise ValueError(f"{self.label}: threshold required for op {self.op}")
        if self.agg in ("share", "per") and self.of is None:
            raise ValueError(f"{self.label}: agg {self.agg} needs 'of'")
        if (self.metric in YEARLY_METRICS) == (self.agg == "value"):
            raise ValueError(f"{self.label}: agg {self.agg} does not fit metric {self.metric}")
        return self


class AnyOf(_Strict):
    """Alternatives inside one standard ("现金流累计 … 或营业收入累计 …"): met if one is met."""

    label: str
    any_of: tuple[Criterion, ...] = Field(min_length=2)


Item = Criterion | AnyOf


class Source(_Strict):
    """Where a standard is written: the rule, its article, and when that text took effect."""

    rule: str
    article: str
    effective: date

    def cite(self) -> str:
        """《rule》article（effective 施行）."""
        return f"《{self.rule}》{self.article}（{self.effective.isoformat()} 起施行）"


class CriteriaSet(_Strict):
    """One alternative standard of a board, in force from ``effective_from`` to ``superseded_on``."""

    id: str
    name: str
    effective_from: date
    superseded_on: date | None = None
    verification: Literal["checked", "to_confirm", "center_default"]
    sources: tuple[Source, ...] = Field(min_length=1)
    net_profit_basis: Literal["lower_of", "reported"] = "lower_of"
    criteria: tuple[Item, ...] = Field(min_length=1)

    def in_force_on(self, day: date) -> bool:
        """True when the set applies to an evaluation made on ``day``."""
        return self.effective_from <= day and (
            self.superseded_on is None or day < self.superseded_on
        )

    def citation(self) -> str:
        """All sources, joined for display."""
        return "；".join(s.cite() for s in self.sources)


class BoardCriteria(_Strict):
    """A board's common criteria and its alternative standards (all versions)."""

    label: str
    caveat: str = ""
    common: tuple[Criterion, ...] = ()
    sets: tuple[CriteriaSet, ...] = Field(min_length=1)

    def sets_on(self, day: date) -> list[CriteriaSet]:
        """The standards in force on ``day``."""
        return [s for s in self.sets if s.in_force_on(day)]


class CriteriaBook(_Strict):
    """The whole criteria file."""

    schema_: int = Field(alias="schema")
    version: str
    compiled_on: date
    notes: tuple[str, ...] = ()
    board_order: tuple[Board, ...]
    boards: dict[Board, BoardCriteria]

    @model_validator(mode="after")
    def _every_board(self) -> CriteriaBook:
        missing = set(Board) - set(self.boards)
        if missing or set(self.board_order) != set(Board):
            raise ValueError(f"criteria missing for boards: {sorted(missing)}")
        return self


def load_criteria(path: Path | str | None = None) -> CriteriaBook:
    """Read and validate a criteria file (the packaged one by default)."""
    if path is None:
        return _packaged()
    return CriteriaBook.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def _packaged() -> CriteriaBook:
    return CriteriaBook.model_validate(json.loads(CRITERIA_PATH.read_text(encoding="utf-8")))
