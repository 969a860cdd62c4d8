"""Complaints, feedback and satisfaction surveys, with improvement measures (standard 7.2)."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Text
from sqlmodel import Field, SQLModel

from models.base import created_at_field, enum_column, ts_column
from models.reference import ComplaintKind, ComplaintStatus


class ComplaintBase(SQLModel):
    """Fields a submitter may set."""

    kind: ComplaintKind = Field(sa_column=enum_column(ComplaintKind))
    content: str = Field(min_length=1, sa_type=Text)
    submitter: str | None = Field(default=None, max_length=80)
    enterprise_id: int | None = Field(default=None, foreign_key="enterprise.id")
    institution_id: int | None = Field(default=None, foreign_key="institution.id")
    satisfaction: int | None = Field(default=None, ge=1, le=5, description="满意度 1–5")
    # A survey answered through the portal names the closed match it is about (one per match).
    match_id: int | None = Field(default=None, foreign_key="match.id", index=True)


class Complaint(ComplaintBase, table=True):
    """A complaint, suggestion or survey answer with its handling status."""

    __tablename__ = "complaint"
    __table_args__ = (
        CheckConstraint(
            "satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5", name="satisfaction"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    status: ComplaintStatus = Field(
        default=ComplaintStatus.received, sa_column=enum_column(ComplaintStatus, index=True)
    )
    root_cause: str | None = Field(default=None, sa_type=Text)
    received_at: datetime = created_at_field()
    resolved_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


class ImprovementMeasure(SQLModel, table=True):
    """An improvement measure with owner and due date (7.2.2)."""

    __tablename__ = "improvement_measure"

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaint.id", index=True, ondelete="CASCADE")
    description: str = Field(max_length=500)
    owner: str = Field(max_length=80)
    due_on: date
    done_on: date | None = None
