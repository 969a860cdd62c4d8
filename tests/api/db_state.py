"""Every row of every table, to show a refused request left the database exactly as before."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Each table's rows (in key order), as plain tuples."""
    with engine.connect() as conn:
        return {
            table.name: [
                tuple(row) for row in conn.execute(select(table).order_by(*table.primary_key))
            ]
            for table in SQLModel.metadata.sorted_tables
        }
