"""Evaluation periods and Appendix B (表B.1) scores with evidence."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Text, UniqueConstraint
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
