"""Reads of rows without ORM entities, for views that only serialise what they read.

The columns and their types are the mapped table's, so a row validates into the same public
schema (`from_attributes`) as the entity would, at about half the CPU of loading the entity.
The single-record statements are built once per table; a list selects the columns of its schema
(`columns_of`) and validates the rows by name (`validated`).
"""

from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Row, Select, bindparam
from sqlalchemy import select as core_select
from sqlmodel import Session, SQLModel

from models import ContactPerson
from models.errors import NotFoundError

M = TypeVar("M", bound=BaseModel)


@cache
def _by_id(model: type[SQLModel]) -> Select[Any]:
    table: Any = model.__table__  # type: ignore[attr-defined]
    return core_select(table).where(table.c.id == bindparam("id"))


def row_or_404(
    session: Session, model: type[SQLModel], obj_id: int, message: str | None = None
) -> Row[Any]:
    """The row of `model` with id `obj_id`, or NotFoundError (`message`, else `get_or_404`'s)."""
    row = session.connection().execute(_by_id(model), {"id": obj_id}).first()
    if row is None:
        raise NotFoundError(message or f"{model.__name__} {obj_id} 不存在")
    return row


_CONTACTS: Any = ContactPerson.__table__  # type: ignore[attr-defined]
_CONTACTS_OF = (
    core_select(_CONTACTS)
    .where(_CONTACTS.c.enterprise_id == bindparam("enterprise_id"))
    .order_by(_CONTACTS.c.id)
)


def contact_rows(session: Session, enterprise_id: int) -> list[Row[Any]]:
    """An enterprise's contact persons, in id order."""
    return list(session.connection().execute(_CONTACTS_OF, {"enterprise_id": enterprise_id}))


def columns_of(model: type[SQLModel], schema: type[BaseModel]) -> list[Any]:
    """The columns of `model`'s table that `schema` has fields of, in the schema's order: select
    them (not the entity) to read a list as plain rows for `validated`."""
    table: Any = model.__table__  # type: ignore[attr-defined]
    return [table.c[name] for name in schema.model_fields]


def validated(schema: type[M], rows: Sequence[Row[Any]]) -> list[M]:
    """Each row as a `schema`, validated from a dict of its columns by name (pydantic's cheapest
    input; a row's columns `schema` has no field for, such as a page's count, are ignored)."""
    if not rows:
        return []
    names = rows[0]._fields
    return [schema.model_validate(dict(zip(names, row, strict=True))) for row in rows]
