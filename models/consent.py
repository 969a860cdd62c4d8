"""Enterprise consent to disclose details to one institution (standard 6.1.2.3, 6.2.4.4)."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.base import created_at_field, json_column, ts_column


class Consent(SQLModel, table=True):
    """Recorded consent: scope (ConsentScope values), expiry, who recorded it; revocable."""

    __tablename__ = "consent"

    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    institution_id: int = Field(foreign_key="institution.id", index=True)
    scopes: list[str] = Field(default_factory=list, sa_column=json_column())
    granted_at: datetime = Field(sa_column=ts_column())
    expires_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    recorded_by: str = Field(max_length=80)
    evidence: str | None = Field(default=None, max_length=300, description="授权书编号等")
    created_at: datetime = created_at_field()

    def covers(self, scope: str, at: datetime) -> bool:
        """True when this consent grants `scope` at `at`."""
        if self.revoked_at is not None and self.revoked_at <= at:
            return False
        if self.expires_at is not None and self.expires_at <= at:
            return False
        return self.granted_at <= at and scope in self.scopes

    def status_on(self, at: datetime) -> str:
        """The consent's state at `at`, as users read it: 已撤回, 已过期, 未生效 or 有效."""
        if self.revoked_at is not None and self.revoked_at <= at:
            return "已撤回"
        if self.expires_at is not None and self.expires_at <= at:
            return "已过期"
        return "有效" if self.granted_at <= at else "未生效"
