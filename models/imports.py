"""Import batches with per-row provenance, quarantine and the duplicate review queue."""

from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import created_at_field, enum_column, json_column, ts_column
from models.reference import ImportKind, ImportOutcome


class ImportBatch(SQLModel, table=True):
    """One file imported by one user; the counters add up to `rows_read`."""

    __tablename__ = "import_batch"

    id: int | None = Field(default=None, primary_key=True)
    file_name: str = Field(max_length=255)
    sha256: str = Field(max_length=64, index=True)
    kind: ImportKind = Field(sa_column=enum_column(ImportKind))
    sheet: str | None = Field(default=None, max_length=100)
    user: str = Field(max_length=80)
    started_at: datetime = created_at_field()
    finished_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    status: str = Field(default="running", max_length=12, description="running | done | failed")
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0
    quarantined: int = 0
    contacts_stored: int = Field(default=0, description="联系人新增或更新数")
    unmapped_columns: list[str] = Field(default_factory=list, sa_column=json_column())


class ImportRow(SQLModel, table=True):
    """What became of one row read: outcome, the record it touched, or why it was quarantined."""

    __tablename__ = "import_row"
    __table_args__ = (UniqueConstraint("batch_id", "sheet", "row_number"),)

    id: int | None = Field(default=None, primary_key=True)
    # No index of its own: the unique (batch_id, sheet, row_number) index leads with it.
    batch_id: int = Field(foreign_key="import_batch.id", ondelete="CASCADE")
    sheet: str = Field(default="", max_length=100)
    row_number: int = Field(ge=1)
    outcome: ImportOutcome = Field(sa_column=enum_column(ImportOutcome))
    entity_id: int | None = None
    reason: str | None = Field(default=None, max_length=1000)
    raw: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())


class ImportWarning(SQLModel, table=True):
    """Something a batch's reader should see about a row (an unmapped industry, a value not
    saved, an amount sent to review …): where it is, the value, the rule and the message."""

    __tablename__ = "import_warning"

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="import_batch.id", index=True, ondelete="CASCADE")
    sheet: str = Field(default="", max_length=100)
    row_number: int = Field(ge=1)
    column: str = Field(default="", max_length=200)
    value: str | None = Field(default=None, max_length=200)
    rule: str = Field(max_length=40)
    message: str = Field(max_length=500)


class DuplicateCandidate(SQLModel, table=True):
    """An ambiguous name match awaiting a human decision (merge or keep apart)."""

    __tablename__ = "duplicate_candidate"
    __table_args__ = (UniqueConstraint("enterprise_id", "candidate_id"),)

    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    candidate_id: int = Field(foreign_key="enterprise.id", index=True)
    similarity: float = Field(ge=0, le=100)
    batch_id: int | None = Field(default=None, foreign_key="import_batch.id")
    status: str = Field(default="pending", max_length=12, description="pending|merged|rejected")
    decided_by: str | None = Field(default=None, max_length=80)
    decided_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
