"""Column helpers shared by every table: enums as checked strings, JSON lists, UTC timestamps."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, DateTime, MetaData
from sqlalchemy import Enum as SAEnum
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def _check_suffix(constraint: Any, _table: Any) -> str:
    # An enum column's CHECK also carries the column name: two columns of one enum never collide.
    if getattr(constraint, "_type_bound", False):
        return "_" + next(iter(constraint.columns)).name
    return ""


# Deterministic constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck_suffix": _check_suffix,
    "ck": "ck_%(table_name)s_%(constraint_name)s%(ck_suffix)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata

# Free text the tables store as TEXT, bounded wherever it arrives: the API schemas and imports.
MAX_PURPOSE = 500  # 资金用途
MAX_LONG_TEXT = 2000  # 经营范围, 投资/业务方向说明, 政策要点


def utcnow() -> datetime:
    """Timezone-aware now; every stored timestamp is UTC."""
    return datetime.now(UTC)


def enum_column(enum_cls: type[StrEnum], *, nullable: bool = False, index: bool = False) -> Any:
    """A VARCHAR column restricted to the enum's values by a CHECK constraint (portable)."""
    sa_type = SAEnum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
    )
    return Column(sa_type, nullable=nullable, index=index)


def json_column() -> Any:
    """A JSON column (lists of codes, criteria); portable across SQLite and PostgreSQL."""
    return Column(JSON, nullable=False, default=list)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always hands back aware UTC datetimes, on SQLite (naive) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: timestamps must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def ts_column(*, nullable: bool = False) -> Any:
    """A timezone-aware timestamp column (UTC in, aware UTC out)."""
    return Column(UTCDateTime(), nullable=nullable)


def created_at_field() -> Any:
    """`created_at`, set on insert."""
    return Field(default_factory=utcnow, sa_column=ts_column())
