"""Multi-year financials (企业多年财务数据): one row per enterprise and fiscal year."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from models import FinancialYear
from models.base import utcnow
from models.cultivation import FinancialYearBase
from services.listing import repository as repo


def upsert_financial_year(session: Session, data: FinancialYearBase) -> FinancialYear:
    """Insert or update the row of ``data.enterprise_id`` × ``data.fiscal_year`` (natural key)."""
    repo.enterprise(session, data.enterprise_id)
    row = repo.financial_year(session, data.enterprise_id, data.fiscal_year)
    values: dict[str, Any] = data.model_dump()
    if row is None:
        row = FinancialYear(**values)
    else:
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return row
