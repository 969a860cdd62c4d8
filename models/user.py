"""Users of the console and API, and institutions' API keys (stored only as hashes)."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.base import created_at_field, enum_column, ts_column
from models.reference import UserRole


class User(SQLModel, table=True):
    """A person with one role; institution users are bound to one institution, enterprise
    users to one enterprise.

    `username` holds the normalised form (`services.accounts.service.normalize_username`), so
    " admin1" and "ADMIN1" are the same name as "admin1".
    """

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=60, unique=True)
    password_hash: str = Field(max_length=255)
    role: UserRole = Field(sa_column=enum_column(UserRole))
    institution_id: int | None = Field(default=None, foreign_key="institution.id")
    # Enterprise users (the portal) are bound to one enterprise and are mailed at `email`.
    enterprise_id: int | None = Field(default=None, foreign_key="enterprise.id", index=True)
    email: str | None = Field(default=None, max_length=120)
    active: bool = True
    created_at: datetime = created_at_field()
    # Tokens and console sessions carry the version they were issued under; bumping it (password,
    # role or status change, console logout) ends every one of them at the next request.
    token_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Consecutive failed logins; at the lock-out threshold `locked_at` is set until an admin
    # unlocks the account.
    failed_logins: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    locked_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


class ApiKey(SQLModel, table=True):
    """A machine-client key of an institution; only its SHA-256 is kept."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    institution_id: int = Field(foreign_key="institution.id", index=True)
    key_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=12)
    created_at: datetime = created_at_field()
    # The user who issued the key (None for keys issued before this was recorded, or by a
    # script): the key is revoked when that user is disabled, their password is set, or their
    # role or institution changes (`services.accounts.service`).
    created_by: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    revoked_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


class LoginThrottle(SQLModel, table=True):
    """Failed (or in-flight) logins per key (`u:<username>` or `s:<source address>`) in the
    current window; shared by every worker process, counted atomically."""

    __tablename__ = "login_throttle"

    key: str = Field(primary_key=True, max_length=120)
    failures: int = 0
    window_start: float = Field(description="Epoch seconds of the window's first failure.")
