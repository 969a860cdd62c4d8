"""A counter of committed changes to the tables the matching world is loaded from.

On PostgreSQL the triggers of migration 0005 add one to `n` in every transaction that inserted,
updated, deleted or truncated rows of those tables, at its commit (a deferred trigger, so the
row is locked only while the transaction commits). Reading `n` is then an exact, one-row data
version for the caches of `services.recommendations.service`, however many unrelated transactions (audit rows,
imports' bookkeeping) commit meanwhile. SQLite keeps the row at 0; there the version is computed
from aggregates instead.
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
