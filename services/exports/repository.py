"""The exports' SQL: a table's rows, streamed."""

from collections.abc import Iterator
from typing import Any

from sqlmodel import Session, SQLModel, col, select

from models import ContactPerson, Enterprise


def rows_in_id_order(
    session: Session, model_cls: type[SQLModel], filters: dict[str, Any] | None = None
) -> Iterator[SQLModel]:
    """Rows of `model_cls` whose columns equal `filters`, in id order, fetched in chunks."""
    query = select(model_cls).order_by(col(model_cls.id))  # type: ignore[attr-defined]
    for name, value in (filters or {}).items():
        query = query.where(getattr(model_cls, name) == value)
    yield from session.exec(query.execution_options(yield_per=2000))


def contacts_with_enterprises(session: Session) -> Iterator[tuple[ContactPerson, str, str | None]]:
    """Every contact person with its enterprise's legal name and USCC, in id order."""
    query = (
        select(ContactPerson, Enterprise.legal_name, Enterprise.uscc)
        .join(Enterprise, col(Enterprise.id) == col(ContactPerson.enterprise_id))
        .order_by(col(ContactPerson.id))
    )
    yield from session.exec(query.execution_options(yield_per=2000))
