"""Board readiness of an enterprise against the exchanges' criteria, and a recommended board."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

from models import Enterprise, FinancialYear, ListingRecord
from models.reference import Board
from services.listing import repository as repo
from services.listing.criteria import CriteriaBook, load_criteria
from services.listing.evaluate import (
    BoardResult,
    BoardStatus,
    SetResult,
    Verdict,
    evaluate_board,
)
from services.listing.facts import EnterpriseFacts, YearFigures, months_between
from services.listing.plan import Clock, china_today

_NEEQ = (Board.neeq_basic, Board.neeq_innovation)


@dataclass(frozen=True)
class Recommendation:
    """The recommended target board (None when there are no figures at all) and why."""

    board: Board | None
    status: BoardStatus | None
    reason: str


@dataclass(frozen=True)
class Readiness:
    """An enterprise's readiness for every board, as of one day, under one criteria version."""

    enterprise_id: int
    name: str
    as_of: date
    criteria_version: str
    fiscal_years: tuple[int, ...]
    boards: tuple[BoardResult, ...]
    recommendation: Recommendation

    def board(self, board: Board) -> BoardResult:
        """The result for ``board``."""
        return next(b for b in self.boards if b.board is board)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (Chinese labels next to the codes)."""
        rec = self.recommendation
        return {
            "enterprise_id": self.enterprise_id,
            "name": self.name,
            "as_of": self.as_of.isoformat(),
            "criteria_version": self.criteria_version,
            "fiscal_years": list(self.fiscal_years),
            "recommended_board": rec.board.value if rec.board else None,
            "recommended_board_label": rec.board.label if rec.board else None,
            "recommendation_reason": rec.reason,
            "boards": [_board_dict(b) for b in self.boards],
        }


def _board_dict(b: BoardResult) -> dict[str, Any]:
    return {
        "board": b.board.value,
        "label": b.label,
        "status": b.status.value,
        "status_label": b.status.label,
        "caveat": b.caveat,
        "sets": [_set_dict(s) for s in b.sets],
    }


def _set_dict(s: SetResult) -> dict[str, Any]:
    return {
        "id": s.set_id,
        "name": s.name,
        "source": s.citation,
        "verification": s.verification,
        "verdict": s.verdict.value,
        "criteria": [
            {
                "label": c.label,
                "verdict": c.verdict.value,
                "detail": c.detail,
                "value": c.value,
                "threshold": c.threshold,
                "years": list(c.years),
            }
            for c in s.criteria
        ],
    }


# --- facts from the database ------------------------------------------------------------------


def _figures(row: FinancialYear) -> YearFigures:
    return YearFigures(
        revenue=row.revenue_wan,
        net_profit=row.net_profit_wan,
        net_profit_deducted=row.net_profit_deducted_wan,
        rd_expense=row.rd_expense_wan,
        operating_cash_flow=row.operating_cash_flow_wan,
        net_assets=row.net_assets_wan,
        share_capital=row.share_capital_wan,
        weighted_roe=row.weighted_roe_pct,
        equity_financing=row.equity_financing_wan,
    )


def _fallback_year(e: Enterprise, as_of: date) -> dict[int, YearFigures]:
    """Without multi-year rows, the enterprise's latest-year figures count as last year's."""
    if e.revenue_wan is None and e.net_profit_wan is None and e.rd_expense_wan is None:
        return {}
    figures = YearFigures(
        revenue=e.revenue_wan, net_profit=e.net_profit_wan, rd_expense=e.rd_expense_wan
    )
    return {as_of.year - 1: figures}


def _neeq(record: ListingRecord | None, as_of: date) -> tuple[float | None, bool | None]:
    if record is None:
        return None, None
    quoted = record.listed_board in _NEEQ and record.listed_on is not None
    if not quoted or record.listed_on is None or record.listed_on > as_of:
        return 0.0, False
    return months_between(record.listed_on, as_of), record.listed_board is Board.neeq_innovation


def facts_for(
    e: Enterprise, rows: Sequence[FinancialYear], record: ListingRecord | None, as_of: date
) -> EnterpriseFacts:
    """The plain facts readiness is evaluated on."""
    assert e.id is not None
    years = {r.fiscal_year: _figures(r) for r in rows} or _fallback_year(e, as_of)
    months, innovation = _neeq(record, as_of)
    return EnterpriseFacts(
        enterprise_id=e.id,
        name=e.short_name or e.legal_name,
        as_of=as_of,
        years=years,
        market_value=record.estimated_market_value_wan if record else None,
        neeq_months=months,
        neeq_innovation=innovation,
        founded_on=e.founded_on,
    )


def load_facts(session: Session, enterprise_id: int, as_of: date) -> EnterpriseFacts:
    """Load one enterprise's facts."""
    e = repo.enterprise(session, enterprise_id)
    rows = repo.financial_years(session, enterprise_id)
    return facts_for(e, rows, repo.record_of(session, enterprise_id), as_of)


# --- assessment (pure) ------------------------------------------------------------------------


def assess(facts: EnterpriseFacts, book: CriteriaBook) -> Readiness:
    """Evaluate every board for ``facts`` under ``book`` and recommend a target board."""
    boards = tuple(evaluate_board(b, book.boards[b], facts) for b in book.board_order)
    return Readiness(
        enterprise_id=facts.enterprise_id,
        name=facts.name,
        as_of=facts.as_of,
        criteria_version=book.version,
        fiscal_years=tuple(sorted(y for y in facts.years if y < facts.as_of.year)),
        boards=boards,
        recommendation=recommend(boards, has_figures=facts.latest_year is not None),
    )


def _first(boards: Sequence[BoardResult], status: BoardStatus) -> BoardResult | None:
    return next((b for b in boards if b.status is status and b.best is not None), None)


def _gap_list(s: SetResult, verdict: Verdict) -> str:
    return "；".join(c.detail for c in s.criteria if c.verdict is verdict)


def recommend(boards: Sequence[BoardResult], *, has_figures: bool = True) -> Recommendation:
    """The first ready board in the configured order; else the first possibly ready one; else
    the board whose closest standard misses the fewest criteria (the lower board on a tie)."""
    if not has_figures:
        return Recommendation(None, None, "缺少财务数据，暂无法推荐目标板块")
    ready = _first(boards, BoardStatus.ready)
    if ready is not None and ready.best is not None:
        note = f"；{ready.caveat}" if ready.caveat else ""
        return Recommendation(ready.board, ready.status, f"已满足{ready.best.name}{note}")
    maybe = _first(boards, BoardStatus.possibly_ready)
    if maybe is not None and maybe.best is not None:
        todo = _gap_list(maybe.best, Verdict.unknown)
        return Recommendation(
            maybe.board, maybe.status, f"{maybe.best.name}无不满足项，待补充：{todo}"
        )
    return _nearest(boards)


def _nearest(boards: Sequence[BoardResult]) -> Recommendation:
    candidates = [(b, b.best) for b in boards if b.best is not None]
    if not candidates:
        return Recommendation(None, None, "当前无有效的上市标准")
    # reversed: on equal distance the later (lower-threshold) board wins
    board, best = min(reversed(candidates), key=lambda p: p[1].count(Verdict.unmet))
    gaps = _gap_list(best, Verdict.unmet)
    return Recommendation(board.board, board.status, f"差距最小：{best.name}，尚需 {gaps}")


def evaluate_readiness(
    session: Session,
    enterprise_id: int,
    *,
    as_of: date | None = None,
    clock: Clock = china_today,
    criteria: CriteriaBook | None = None,
) -> Readiness:
    """Readiness of one enterprise for every board (criteria in force on ``as_of``, else today)."""
    day = as_of or clock()
    return assess(load_facts(session, enterprise_id, day), criteria or load_criteria())
