"""A counter of committed changes to the tables the matching world is loaded from.

On PostgreSQL the deferred triggers of migration 0005 add one to `n` per committing transaction
that changed a counted table; SQLite keeps the row at 0 (the version comes from aggregates there).
"""

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

# The tables whose triggers count (the migration creates one pair of triggers on each).
COUNTED_TABLES = (
    "enterprise", "financing_demand", "match", "match_transition", "deal", "institution",
    "loan_product", "investment_mandate",
)  # fmt: skip


class DataVersion(SQLModel, table=True):
    """One row (id 1): `n` counts the committed transactions that changed a counted table."""

    __tablename__ = "data_version"

    id: int = Field(primary_key=True)
    n: int = Field(default=0, sa_type=BigInteger)
