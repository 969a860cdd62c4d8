"""Support tables of the ingestion layer: the names a merged enterprise was known by."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.base import created_at_field


class EnterpriseAlias(SQLModel, table=True):
    """A legal name (曾用名) of an enterprise folded into another by `duplicates merge`.

    A later row spelled the old way resolves to the kept record instead of creating the
    merged one again.
    """

    __tablename__ = "enterprise_alias"

    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True, ondelete="CASCADE")
    legal_name: str = Field(max_length=200, index=True, unique=True)
    normalized_name: str = Field(max_length=200, index=True)
    merged_from_id: int | None = Field(default=None, description="被合并记录原编号")
    created_at: datetime = created_at_field()
