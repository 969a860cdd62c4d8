"""Paginated list queries shared by the API and the console."""

from typing import Any, TypeVar

from sqlalchemy import func
from sqlalchemy.sql import Select
from sqlmodel import Session, SQLModel, col, or_, select

from models import ContactPerson, Enterprise, FinancingDemand

T = TypeVar("T", bound=SQLModel)


def paginate(session: Session, query: Any, offset: int, limit: int) -> tuple[list[Any], int]:
    """One page of `query` and the total count."""
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.offset(offset).limit(limit)).all()
    return list(rows), int(total)


def enterprise_query(q: str | None, region: str | None, industry: str | None) -> Select[Any]:
    """Enterprises by name/USCC fragment, region prefix and industry prefix."""
    query = select(Enterprise).order_by(col(Enterprise.id))
    if q:
        like = f"%{q}%"
        query = query.where(or_(col(Enterprise.legal_name).like(like), col(Enterprise.uscc) == q))
    if region:
        query = query.where(col(Enterprise.region_code).startswith(region))
    if industry:
        query = query.where(col(Enterprise.industry_code).startswith(industry))
    return query


def demand_query(
    status: str | None, financing_type: str | None, enterprise_id: int | None
) -> Select[Any]:
    """Demands filtered by status, type and enterprise, newest first."""
    query = select(FinancingDemand).order_by(col(FinancingDemand.id).desc())
    if status:
        query = query.where(FinancingDemand.status == status)
    if financing_type:
        query = query.where(FinancingDemand.financing_type == financing_type)
    if enterprise_id:
        query = query.where(FinancingDemand.enterprise_id == enterprise_id)
    return query


def contacts_of(session: Session, enterprise_id: int) -> list[ContactPerson]:
    """An enterprise's contact persons."""
    query = select(ContactPerson).where(ContactPerson.enterprise_id == enterprise_id)
    return list(session.exec(query.order_by(col(ContactPerson.id))))
