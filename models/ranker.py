"""Published re-ranking models: one row per trained version, at most one of them served.

Every process that ranks (API, console, digests, the nightly re-rank, roadshow fit) reads the
served version here, so they all agree; no row served means the rules ranker.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from models.base import created_at_field, ts_column


class RankerModel(SQLModel, table=True):
    """A trained re-ranker: where its file is, what it was trained on, how it scored on holdout."""

    __tablename__ = "ranker_model"

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(max_length=40, unique=True)
    path: str = Field(max_length=500)
    n_outcomes: int = Field(ge=0)
    n_won: int = Field(ge=0)
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    served: bool = Field(default=False, index=True)
    served_since: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    created_at: datetime = created_at_field()
