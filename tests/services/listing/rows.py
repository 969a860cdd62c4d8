"""Database rows for the cultivation service tests."""

from datetime import date
from typing import Any

from sqlmodel import Session

from models import ListingRecord, ListingTierChange
from models.cultivation import FinancialYearBase
from models.reference import Board, ListingTier
from services.listing import upsert_financial_year
from tests import factories


def cultivated(
    session: Session,
    *,
    tier: ListingTier = ListingTier.reserve,
    since: date = date(2025, 1, 1),
    board: Board = Board.star,
    **enterprise: Any,
) -> ListingRecord:
    """An enterprise with a cultivation record that entered ``tier`` on ``since``."""
    e = factories.enterprise(session, **enterprise)
    assert e.id is not None
    record = ListingRecord(
        enterprise_id=e.id,
        target_board=board,
        tier=tier,
        coaching_started_on=since,
        estimated_market_value_wan=200000,
    )
    session.add(record)
    session.flush()
    assert record.id is not None
    session.add(ListingTierChange(listing_record_id=record.id, tier=tier, entered_on=since))
    session.flush()
    return record


def strong_financials(session: Session, enterprise_id: int) -> None:
    """Three years that meet 科创板 standard 1 and most others."""
    for year, revenue, profit in ((2023, 30000, 4000), (2024, 36000, 5000), (2025, 42000, 6500)):
        upsert_financial_year(
            session,
            FinancialYearBase(
                enterprise_id=enterprise_id,
                fiscal_year=year,
                revenue_wan=revenue,
                net_profit_wan=profit,
                net_profit_deducted_wan=profit * 0.95,
                rd_expense_wan=revenue * 0.08,
                operating_cash_flow_wan=profit,
                net_assets_wan=revenue,
                share_capital_wan=6000,
                weighted_roe_pct=12,
            ),
        )
