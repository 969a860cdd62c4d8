"""data version counter

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 07:40:00

The `data_version` row, and on PostgreSQL the triggers that count committed changes to the
tables the matching world is loaded from (see models/data_version.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As models.data_version.COUNTED_TABLES when this revision was written (a test compares them).
TABLES = (
    "enterprise", "financing_demand", "match", "match_transition", "deal", "institution",
    "loan_product", "investment_mandate",
)  # fmt: skip

# Once per transaction (a transaction-local setting remembers it), at commit for row changes.
COUNT_FUNCTION = """
CREATE FUNCTION count_data_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('matchmaker.data_counted', true) IS DISTINCT FROM txid_current()::text THEN
        UPDATE data_version SET n = n + 1 WHERE id = 1;
        PERFORM set_config('matchmaker.data_counted', txid_current()::text, true);
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_version")),
    )
    op.execute("INSERT INTO data_version (id, n) VALUES (1, 0)")
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(COUNT_FUNCTION)
    for table in TABLES:
        op.execute(
            f'CREATE CONSTRAINT TRIGGER data_change AFTER INSERT OR UPDATE OR DELETE ON "{table}"'
            " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION count_data_change()"
        )
        op.execute(
            f'CREATE TRIGGER data_truncate AFTER TRUNCATE ON "{table}"'
            " FOR EACH STATEMENT EXECUTE FUNCTION count_data_change()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f'DROP TRIGGER data_change ON "{table}"')
            op.execute(f'DROP TRIGGER data_truncate ON "{table}"')
        op.execute("DROP FUNCTION count_data_change()")
    op.drop_table("data_version")
