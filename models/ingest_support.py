"""Support tables of the ingestion layer: the names a merged enterprise was known by, and the
changes an import made to enterprises it found already stored."""

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


class EnterpriseChange(SQLModel, table=True):
    """One field of a stored enterprise an import changed: the value before and after.

    The change set of a batch is its rows; it is listed in the batch summary and on the
    console's batch page, so an import never overwrites a fact silently.
    """

    __tablename__ = "enterprise_change"

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="import_batch.id", index=True, ondelete="CASCADE")
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True, ondelete="CASCADE")
    sheet: str = Field(default="", max_length=100)
    row_number: int = Field(ge=1)
    field: str = Field(max_length=40, description="字段")
    old_value: str | None = Field(default=None, max_length=500, description="原值")
    new_value: str | None = Field(default=None, max_length=500, description="新值")
    created_at: datetime = created_at_field()
