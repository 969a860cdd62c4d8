"""The enterprise portal: invitation links staff hand out, and the notice mails of enterprise users."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.base import created_at_field, enum_column, ts_column
from models.reference import NoticeKind, NoticeStatus


class EnterpriseInvitation(SQLModel, table=True):
    """A single-use, expiring link to create an enterprise user; only its SHA-256 is kept."""

    __tablename__ = "enterprise_invitation"

    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    email: str | None = Field(default=None, max_length=120)
    created_by: str = Field(max_length=80)
    created_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_column=ts_column())
    used_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    user_id: int | None = Field(default=None, foreign_key="app_user.id")


class PortalNotice(SQLModel, table=True):
    """One e-mail to an enterprise user about a match; `key` makes it exactly one."""

    __tablename__ = "portal_notice"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=80, unique=True, description="kind:match:user, the Message-ID")
    kind: NoticeKind = Field(sa_column=enum_column(NoticeKind))
    user_id: int = Field(foreign_key="app_user.id", index=True)
    match_id: int = Field(foreign_key="match.id", index=True)
    status: NoticeStatus = Field(
        default=NoticeStatus.pending, sa_column=enum_column(NoticeStatus, index=True)
    )
    attempts: int = 0
    error: str | None = Field(default=None, max_length=500)
    created_at: datetime = created_at_field()
    sent_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
