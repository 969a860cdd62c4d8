"""Paginated list queries shared by the API and the console."""

from collections.abc import Collection
from typing import Any, TypeVar

from sqlalchemy import Row, func
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, SQLModel, col, or_, select

from models import Enterprise, FinancingDemand, Institution

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


def _filtered(model: type[T], order: str, equal: dict[str, Any]) -> Any:
    column = col(getattr(model, order.lstrip("-")))
    query = select(model).order_by(column.desc() if order.startswith("-") else column)
    for name, value in equal.items():
        if value is not None:
            query = query.where(getattr(model, name) == value)
    return query


def page_of(
    session: Session, model: type[T], offset: int, limit: int, order: str = "-id", **equal: Any
) -> tuple[list[T], int]:
    """One page of `model`'s rows and their total count: ordered by the column `order` (a
    leading `-`: descending), only those whose columns equal `equal`'s values (None: any)."""
    return paginate(session, _filtered(model, order, equal), offset, limit)


def rows_of(
    session: Session, model: type[T], order: str = "-id", limit: int | None = None, **equal: Any
) -> list[T]:
    """`model`'s rows (at most `limit`), ordered and filtered as by `page_of`."""
    return list(session.exec(_filtered(model, order, equal).limit(limit)))


def enterprise_page(
    session: Session, offset: int, limit: int,
    q: str | None, region: str | None, industry: str | None,
) -> tuple[list[Enterprise], int]:  # fmt: skip
    """Enterprises by name/USCC fragment, region prefix and industry prefix (each matched
    literally, `autoescape`: a `%` or `_` typed in the search is no wildcard), and the count."""
    query = select(Enterprise).order_by(col(Enterprise.id))
    if q:
        name = col(Enterprise.legal_name).contains(q, autoescape=True)
        query = query.where(or_(name, col(Enterprise.uscc) == q))
    if region:
        query = query.where(col(Enterprise.region_code).startswith(region, autoescape=True))
    if industry:
        query = query.where(col(Enterprise.industry_code).startswith(industry, autoescape=True))
    return paginate(session, query, offset, limit)


def demand_page(
    session: Session, offset: int, limit: int,
    status: str | None, financing_type: str | None, enterprise_id: int | None,
) -> tuple[list[FinancingDemand], int]:  # fmt: skip
    """Demands filtered by status, type and enterprise, newest first, and their count."""
    return page_of(session, FinancingDemand, offset, limit, status=status,
                   financing_type=financing_type, enterprise_id=enterprise_id)  # fmt: skip


# --- names by id, shared by every area's lists


def enterprise_names(session: Session, ids: Collection[int]) -> dict[int, str]:
    """Legal name by enterprise id for `ids`."""
    if not ids:
        return {}
    query = select(Enterprise.id, Enterprise.legal_name).where(col(Enterprise.id).in_(list(ids)))
    return {int(i): name for i, name in session.exec(query).all() if i is not None}


def institution_names(session: Session, ids: Collection[int]) -> dict[int, str]:
    """Name by institution id for `ids`."""
    if not ids:
        return {}
    query = select(Institution.id, Institution.name).where(col(Institution.id).in_(list(ids)))
    return {int(i): name for i, name in session.exec(query).all() if i is not None}
