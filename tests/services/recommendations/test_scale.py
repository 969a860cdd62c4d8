"""What one recommendation and one pipeline move cost in SQL does not grow with the database.

The same center is generated at two sizes (300 and 3,000 enterprises, with the demands,
matches and deals the generator makes for them, the same 60 institutions); SQL statements and
the rows they return are counted (SQLAlchemy cursor events) for a warm recommendation, a
pipeline move, and the recommendation right after it, on SQLite and on PostgreSQL. At 300
enterprises a warm recommendation runs 8 statements returning about 35 rows, a move 7 and 2,
the recommendation after it 10 and about 165 (the matches moved or created around the last ids
seen are read again: `index.LOOK_BACK_IDS`).
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from demo.generator.center import DEFAULT_TODAY, generate_center
from models import FinancingDemand, Match
from models.db import make_engine
from models.migrate import upgrade_to_head
from models.reference import PipelineStage
from services.pipeline.service import move_match
from services.recommendations import service
from tests.conftest import create_postgres_database, drop_postgres_database

SIZES = (300, 3000)


@dataclass
class Cost:
    """Statements run and rows fetched."""

    statements: int = 0
    rows: int = 0
    sql: list[str] = field(default_factory=list)


class _CountingCursor:
    """A DBAPI cursor that counts the rows fetched through it."""

    def __init__(self, cursor: Any, cost: Cost) -> None:
        self._cursor, self._cost = cursor, cost

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    def fetchone(self) -> Any:
        row = self._cursor.fetchone()
        self._cost.rows += row is not None
        return row

    def fetchmany(self, *size: int) -> Any:
        rows = self._cursor.fetchmany(*size)
        self._cost.rows += len(rows)
        return rows

    def fetchall(self) -> Any:
        rows = self._cursor.fetchall()
        self._cost.rows += len(rows)
        return rows


@contextmanager
def counted(engine: Engine) -> Iterator[Cost]:
    """Count the statements ``engine`` runs and the rows they return inside the block."""
    cost = Cost()

    def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        cost.statements += 1
        cost.sql.append(statement.split("\n")[0][:80])

    def after(conn: Any, cursor: Any, statement: str, params: Any, context: Any, *_: Any) -> None:
        context.cursor = _CountingCursor(context.cursor, cost)  # the result fetches through it

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield cost
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


@contextmanager
def _center(backend: str, size: int, tmp: Path) -> Iterator[Engine]:
    """A generated center of ``size`` enterprises, committed (a PostgreSQL one dropped after)."""
    name = f"mm_scale_{size}_{uuid.uuid4().hex[:6]}"
    url = f"sqlite:///{tmp / f'{name}.sqlite'}" if backend == "sqlite" else None
    engine = make_engine(url or create_postgres_database(name))
    try:
        upgrade_to_head(engine)
        with Session(engine) as s:
            generate_center(s, enterprises=size)
            s.commit()
        yield engine
    finally:
        engine.dispose()
        if url is None:
            drop_postgres_database(name)


def _costs(engine: Engine) -> dict[str, tuple[int, int]]:
    """(statements, rows) of a warm recommendation, a move, and the recommendation after it."""
    with Session(engine) as s:
        demand_id, match_id, version = s.exec(
            select(Match.demand_id, Match.id, Match.version)
            .join(FinancingDemand, col(FinancingDemand.id) == col(Match.demand_id))
            .where(col(Match.stage) == PipelineStage.introduced)
            .where(col(FinancingDemand.status).in_(["pending", "open"]))
            .order_by(col(Match.id))
        ).first()  # type: ignore[misc]
        service.recommend_for_demand(s, demand_id, today=DEFAULT_TODAY)  # builds the index
    out = {}
    with Session(engine) as s, counted(engine) as warm:
        service.recommend_for_demand(s, demand_id, today=DEFAULT_TODAY)
    out["warm"] = (warm.statements, warm.rows)
    with Session(engine) as s, counted(engine) as move:
        move_match(s, match_id, PipelineStage.meeting, version, actor="mm")
        s.commit()
    out["move"] = (move.statements, move.rows)
    with Session(engine) as s, counted(engine) as after:
        service.recommend_for_demand(s, demand_id, today=DEFAULT_TODAY)
    out["after_move"] = (after.statements, after.rows)
    return out


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_a_recommendation_and_a_move_cost_the_same_at_ten_times_the_size(
    backend: str, tmp_path: Path
) -> None:
    costs = []
    for size in SIZES:
        with _center(backend, size, tmp_path) as engine:
            costs.append(_costs(engine))
    small, large = costs
    for step in ("warm", "move", "after_move"):
        assert large[step][0] == small[step][0], (step, small, large)  # the same statements
        # the same rows, but for the demand's own matches and deals (another demand at each size)
        assert large[step][1] <= small[step][1] + 10, (step, small, large)
    assert small["warm"] <= (10, 60) and small["after_move"] <= (12, 200)
