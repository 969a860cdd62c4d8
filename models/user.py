"""Users of the console and API, and institutions' API keys (stored only as hashes)."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.base import created_at_field, enum_column, ts_column
from models.reference import UserRole


class User(SQLModel, table=True):
    """A person with one role; institution users are bound to one institution."""

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=60, unique=True)
    password_hash: str = Field(max_length=255)
    role: UserRole = Field(sa_column=enum_column(UserRole))
    institution_id: int | None = Field(default=None, foreign_key="institution.id")
    active: bool = True
    created_at: datetime = created_at_field()


class ApiKey(SQLModel, table=True):
    """A machine-client key of an institution; only its SHA-256 is kept."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    institution_id: int = Field(foreign_key="institution.id", index=True)
    key_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=12)
    created_at: datetime = created_at_field()
    revoked_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
