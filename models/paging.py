"""Paginated list queries shared by the API and the console."""

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Row, func
from sqlalchemy import select as core_select
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.sql import Select
from sqlmodel import Session, SQLModel, col, or_, select

from models import Enterprise, FinancingDemand

T = TypeVar("T", bound=SQLModel)


def page_rows(
    session: Session, query: Any, offset: int, limit: int, total: Any = None
) -> tuple[list[Row[*tuple[Any, ...]]], int]:
    """The rows of one page of `query` and the total count, in one statement (one snapshot).

    Each row is `query`'s columns, then the count (`total`, default: the rows of `query`).
    """
    counter = (
        total
        if total is not None
        else select(func.count()).select_from(query.order_by(None).subquery())
    )
    paged = query.add_columns(counter.scalar_subquery().label("total"))
    # SQLModel's `exec` would keep only the first column of a one-entity select; the plain
    # SQLAlchemy `execute` returns whole rows (entities first, the count last).
    rows = OrmSession.execute(session, paged.offset(offset).limit(limit)).all()
    if rows:
        return list(rows), int(rows[0][-1])
    if offset == 0:
        return [], 0
    return [], int(OrmSession.execute(session, counter).scalar_one())  # any select (Core too)


def paginate(session: Session, query: Any, offset: int, limit: int) -> tuple[list[Any], int]:
    """One page of `query` (selecting one entity or column) and the total count."""
    rows, count = page_rows(session, query, offset, limit)
    return [r[0] for r in rows], count


def enterprise_query(q: str | None, region: str | None, industry: str | None) -> Select[Any]:
    """Enterprises by name/USCC fragment, region prefix and industry prefix: each matched
    literally (`autoescape`: a `%` or `_` typed in the search is no wildcard)."""
    query = select(Enterprise).order_by(col(Enterprise.id))
    if q:
        name = col(Enterprise.legal_name).contains(q, autoescape=True)
        query = query.where(or_(name, col(Enterprise.uscc) == q))
    if region:
        query = query.where(col(Enterprise.region_code).startswith(region, autoescape=True))
    if industry:
        query = query.where(col(Enterprise.industry_code).startswith(industry, autoescape=True))
    return query


def demand_query(
    status: str | None,
    financing_type: str | None,
    enterprise_id: int | None,
    columns: Sequence[Any] = (),
) -> Select[Any]:
    """Demands filtered by status, type and enterprise, newest first: the entities, or only
    `columns` (of the table, so the rows are plain Core rows)."""
    table: Any = FinancingDemand.__table__  # type: ignore[attr-defined]
    query = core_select(*columns) if columns else select(FinancingDemand)
    query = query.order_by(table.c.id.desc())
    if status:
        query = query.where(table.c.status == status)
    if financing_type:
        query = query.where(table.c.financing_type == financing_type)
    if enterprise_id:
        query = query.where(table.c.enterprise_id == enterprise_id)
    return query
