"""The exports' SQL: a table's rows, streamed."""

from collections.abc import Iterator
from typing import Any

from sqlmodel import Session, SQLModel, col, select


def rows_in_id_order(
    session: Session, model_cls: type[SQLModel], filters: dict[str, Any] | None = None
) -> Iterator[SQLModel]:
    """Rows of `model_cls` whose columns equal `filters`, in id order, fetched in chunks."""
    query = select(model_cls).order_by(col(model_cls.id))  # type: ignore[attr-defined]
    for name, value in (filters or {}).items():
        query = query.where(getattr(model_cls, name) == value)
    yield from session.exec(query.execution_options(yield_per=2000))
