"""Evaluation periods, Appendix B (表B.1) scores with evidence files, the annual plan, sign-offs."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import created_at_field, json_column


class EvaluationPeriod(SQLModel, table=True):
    """A period an evaluator assesses (self-evaluation or third party, standard 7.1)."""

    __tablename__ = "evaluation_period"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="period_order"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    starts_on: date
    ends_on: date
    evaluator: str | None = Field(default=None, max_length=80)
    created_at: datetime = created_at_field()


class AppendixBScore(SQLModel, table=True):
    """An evaluator's score for one 二级指标 of 表B.1."""

    __tablename__ = "appendix_b_score"
    __table_args__ = (
        UniqueConstraint("period_id", "item_code"),
        CheckConstraint("score >= 0", name="score_nonneg"),
    )

    id: int | None = Field(default=None, primary_key=True)
    period_id: int = Field(foreign_key="evaluation_period.id", index=True, ondelete="CASCADE")
    item_code: str = Field(max_length=40)
    score: float = Field(ge=0)
    weight: float = Field(default=1.0, ge=0)
    evidence: str | None = Field(default=None, sa_type=Text)
    attachments: list[str] = Field(default_factory=list, sa_column=json_column())
    scored_by: str = Field(max_length=80)
    scored_at: datetime = created_at_field()


class PlanTarget(SQLModel, table=True):
    """The annual plan (standard 6.2.1.1): the target of one 表A.1 line for a calendar year."""

    __tablename__ = "plan_target"
    __table_args__ = (
        UniqueConstraint("year", "indicator_key"),
        CheckConstraint("target >= 0", name="target_nonneg"),
    )

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(index=True)
    indicator_key: str = Field(max_length=40)
    target: float = Field(ge=0)
    set_by: str = Field(max_length=80)
    set_at: datetime = created_at_field()


class EvidenceFile(SQLModel, table=True):
    """A file supporting one 表B.1 item of an evaluation period, kept with its SHA-256."""

    __tablename__ = "evidence_file"

    id: int | None = Field(default=None, primary_key=True)
    period_id: int = Field(foreign_key="evaluation_period.id", index=True, ondelete="CASCADE")
    item_code: str = Field(max_length=40)
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    size: int = Field(ge=0)
    sha256: str = Field(max_length=64, index=True)
    content: bytes = Field(sa_type=LargeBinary)
    uploaded_by: str = Field(max_length=80)
    uploaded_at: datetime = created_at_field()


class ReportSignoff(SQLModel, table=True):
    """Who signed which self-assessment report, in what role, when, and the signed file's hash."""

    __tablename__ = "report_signoff"

    id: int | None = Field(default=None, primary_key=True)
    period_id: int = Field(foreign_key="evaluation_period.id", index=True, ondelete="CASCADE")
    signed_by: str = Field(max_length=80)
    role: str = Field(max_length=80)
    report_sha256: str = Field(max_length=64)
    filename: str = Field(max_length=200)
    content: bytes = Field(sa_type=LargeBinary)
    signed_at: datetime = created_at_field()
