"""The counting rules of 表A.1 (科技金融服务中心评价定量指标); docs/evaluation.md states each one.

A figure is always computed with the records behind it (drill-down), so what an evaluator reads and
what they can trace are the same computation.
"""

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from models import Deal, ListingRecord, Match
from models.base import utcnow
from models.clock import center_date
from models.errors import DomainError
from models.paging import enterprise_names, institution_names
from models.reference import Board, DealLink, DealType, EventKind, InstitutionKind
from services.evaluation import repository as repo
from services.evaluation.indicators import (
    INDICATORS_BY_KEY,
    AppendixA,
    DrillRecord,
    Figure,
    Period,
)

BANK_KINDS: frozenset[InstitutionKind] = frozenset({InstitutionKind.bank})
VENTURE_KINDS: frozenset[InstitutionKind] = frozenset(
    {InstitutionKind.vc, InstitutionKind.pe, InstitutionKind.angel}
)

# Listing boards per 上市辅导 row; 北交所 is its own supplementary row.
BOARD_ROWS: dict[str, frozenset[Board]] = {
    "listed_main": frozenset({Board.main}),
    "listed_chinext_star": frozenset({Board.chinext, Board.star}),
    "listed_neeq": frozenset({Board.neeq_innovation, Board.neeq_basic}),
    "listed_regional": frozenset({Board.regional}),
    "listed_bse": frozenset({Board.bse}),
}


@dataclass(frozen=True)
class Line:
    """A business line of 表A.1: which institutions and which deals belong to it."""

    prefix: str
    institution_kinds: frozenset[InstitutionKind]
    deal_type: DealType


CREDIT_LINE = Line("credit", BANK_KINDS, DealType.loan)
VENTURE_LINE = Line("venture", VENTURE_KINDS, DealType.equity)


def is_brokered(deal: Deal, match: Match | None) -> bool:
    """撮合: the deal is linked to its match (the 待关联成交 queue decided, or the only
    candidate), which the center introduced on or before the close day."""
    if match is None or deal.link_status != DealLink.linked or match.introduced_at is None:
        return False
    return center_date(match.introduced_at) <= deal.closed_on


def appendix_a(session: Session, period: Period) -> AppendixA:
    """Every figure of 表A.1 for `period`, each with the records behind it."""
    figures = [
        *_line_figures(session, period, CREDIT_LINE, "credit_banks"),
        *_line_figures(session, period, VENTURE_LINE, "venture_institutions"),
        *_listing_figures(session, period),
        *_event_figures(session, period, EventKind.roadshow, "roadshow"),
        *_event_figures(session, period, EventKind.training, "training"),
    ]
    order = list(INDICATORS_BY_KEY)
    figures.sort(key=lambda f: order.index(f.indicator.key))
    return AppendixA(period, tuple(figures))


def appendix_a_by_quarter(session: Session, period: Period) -> list[AppendixA]:
    """表A.1 for each calendar quarter the period touches (clipped to the period)."""
    return [appendix_a(session, quarter) for quarter in period.quarters()]


def last_full_year(today: date) -> int:
    """The latest calendar year that has ended by `today` (inclusive of 31 December)."""
    return today.year if (today.month, today.day) == (12, 31) else today.year - 1


def records_as_of(session: Session) -> date:
    """The day the records run to: the latest deal's close day (a demo's "today")."""
    day = repo.latest_deal_day(session)
    if day is None:
        raise DomainError("尚无成交记录，无法确定数据截止日；请指定期间", field="period")
    return day


def latest_full_year(session: Session, today: date | None = None) -> int:
    """The last full calendar year before `today`, else before the day the records run to."""
    return last_full_year(today or records_as_of(session))


def _figure(key: str, value: int | float, records: Iterable[DrillRecord]) -> Figure:
    return Figure(INDICATORS_BY_KEY[key], value, tuple(records))


# --- 科技信贷 and 创业投融资 --------------------------------------------------------------------


def _line_figures(session: Session, period: Period, line: Line, resident_key: str) -> list[Figure]:
    residents = repo.resident_institutions(
        session, line.institution_kinds, period.start, period.end
    )
    deals = brokered_deals(session, period, line.deal_type)
    resident_records = [
        DrillRecord(
            "institution",
            int(i.id or 0),
            i.name,
            {
                "机构类型": i.kind.label,
                "协议起始": _iso(i.agreement_start),
                "协议到期": _iso(i.agreement_end),
            },
        )
        for i in residents
    ]
    amount = round(math.fsum(d.amount_wan for d, _ in deals), 2)
    deal_records = _deal_records(session, deals)
    return [
        _figure(resident_key, len(residents), resident_records),
        _figure(f"{line.prefix}_amount", amount, deal_records),
        _figure(f"{line.prefix}_projects", len(deals), deal_records),
        _served_enterprises(session, period, line, deals),
    ]


def brokered_deals(
    session: Session, period: Period, deal_type: DealType
) -> list[tuple[Deal, Match]]:
    """Deals of `deal_type` closed in the period that count as brokered (撮合), with their match."""
    rows = repo.deals_closed_between(session, deal_type, period.start, period.end)
    return [(deal, match) for deal, match in rows if match is not None and is_brokered(deal, match)]


def _deal_records(session: Session, deals: Sequence[tuple[Deal, Match]]) -> list[DrillRecord]:
    names = enterprise_names(session, {d.enterprise_id for d, _ in deals})
    insts = institution_names(session, {d.institution_id for d, _ in deals})
    return [
        DrillRecord(
            "deal",
            int(deal.id or 0),
            f"{names.get(deal.enterprise_id, deal.enterprise_id)} ← {insts.get(deal.institution_id, deal.institution_id)}",
            {
                "类型": deal.deal_type.label,
                "金额（万元）": deal.amount_wan,
                "成交日期": deal.closed_on.isoformat(),
                "引荐日期": center_date(match.introduced_at).isoformat()
                if match.introduced_at
                else None,
                "撮合记录": match.id,
                "企业": deal.enterprise_id,
                "机构": deal.institution_id,
            },
        )
        for deal, match in deals
    ]


def _served_enterprises(
    session: Session, period: Period, line: Line, deals: Sequence[tuple[Deal, Match]]
) -> Figure:
    since, before = period.utc_bounds()
    reasons: dict[int, list[str]] = defaultdict(list)
    for match, enterprise_id in repo.matches_introduced_between(
        session, line.institution_kinds, since, before
    ):
        reasons[enterprise_id].append(f"引荐#{match.id}")
    for deal, _ in deals:
        reasons[deal.enterprise_id].append(f"成交#{deal.id}")
    return _figure(
        f"{line.prefix}_enterprises", len(reasons), _enterprise_records(session, reasons)
    )


def _enterprise_records(session: Session, reasons: dict[int, list[str]]) -> list[DrillRecord]:
    names = enterprise_names(session, reasons.keys())
    return [
        DrillRecord("enterprise", eid, names.get(eid, str(eid)), {"依据": "、".join(reasons[eid])})
        for eid in sorted(reasons)
    ]


# --- 上市辅导 ----------------------------------------------------------------------------------


def _listing_figures(session: Session, period: Period) -> list[Figure]:
    listed = [
        r for r in repo.listings_between(session, period.start, period.end) if _coached_listing(r)
    ]
    unlisted = repo.coached_unlisted_at(session, period.end)
    names = enterprise_names(session, {r.enterprise_id for r in [*listed, *unlisted]})
    figures = []
    for key, boards in BOARD_ROWS.items():
        rows = [r for r in listed if r.listed_board in boards]
        figures.append(_figure(key, len(rows), (_listing_record(r, names) for r in rows)))
    figures.append(
        _figure("coached_unlisted", len(unlisted), (_listing_record(r, names) for r in unlisted))
    )
    return figures


def _coached_listing(record: ListingRecord) -> bool:
    """A listing counts for the center when coaching had begun by the listing day."""
    return (
        record.listed_board is not None
        and record.listed_on is not None
        and record.coaching_started_on <= record.listed_on
    )


def _listing_record(record: ListingRecord, names: dict[int, str]) -> DrillRecord:
    return DrillRecord(
        "listing",
        int(record.id or 0),
        names.get(record.enterprise_id, str(record.enterprise_id)),
        {
            "企业": record.enterprise_id,
            "目标板块": record.target_board.label,
            "培育层级": record.tier.label,
            "纳入培育日期": record.coaching_started_on.isoformat(),
            "上市/挂牌板块": record.listed_board.label if record.listed_board else None,
            "上市/挂牌日期": _iso(record.listed_on),
        },
    )


# --- 其他科技金融服务活动 ----------------------------------------------------------------------


def _event_figures(session: Session, period: Period, kind: EventKind, prefix: str) -> list[Figure]:
    since, before = period.utc_bounds()
    rows = repo.events_between(session, kind, since, before, utcnow())
    records = [
        DrillRecord(
            "event",
            int(event.id or 0),
            event.title,
            {"日期": center_date(event.starts_at).isoformat(), "地点": event.venue, "人次": n},
        )
        for event, n in rows
    ]
    return [
        _figure(f"{prefix}_events", len(rows), records),
        _figure(f"{prefix}_attendance", sum(n for _, n in rows), records),
    ]


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def drill_down(result: AppendixA, key: str) -> tuple[DrillRecord, ...]:
    """The records behind figure `key` of a computed 表A.1."""
    return result.figure(key).records
