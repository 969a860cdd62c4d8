"""Short requests on the event loop (`api.routing`): where they run, and that a held lock or a
failure never leaves the worker's loop waiting on itself."""

import asyncio
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import api.routers.enterprises
from api.admission import in_flight_limit
from api.main import create_app
from api.routing import unit_of_work
from api.security import create_token
from models import AuditLog, Complaint
from models.db import make_engine
from models.settings import Settings
from services.audit.repository import verify_chain
from tests.api.conftest import SECRET, World

T = TypeVar("T")
HEADERS = {"Authorization": "Bearer " + create_token("mm", Settings(secret_key=SECRET))}


def _app(engine: Engine) -> Any:
    return create_app(Settings(secret_key=SECRET, database_url="sqlite://"), engine=engine)


def _run(scenario: Callable[[], Coroutine[Any, Any, T]]) -> tuple[T, threading.Thread]:
    """`scenario` run by `asyncio.run` in a thread of its own (a session fixture may keep an
    event loop running in the main thread), and that thread."""
    out: list[T] = []
    thread = threading.Thread(target=lambda: out.append(asyncio.run(scenario())))
    thread.start()
    thread.join(timeout=90)
    assert out, "the scenario did not finish"
    return out[0], thread


def _audit_rows(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(AuditLog)).one())


def test_an_audited_read_runs_on_the_loop_on_postgresql_only(
    world_engine: tuple[Engine, World], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, world = world_engine
    threads: list[threading.Thread] = []
    view = api.routers.enterprises.enterprise_view

    def recording(*args: Any) -> Any:
        threads.append(threading.current_thread())
        return view(*args)

    monkeypatch.setattr(api.routers.enterprises, "enterprise_view", recording)
    before = _audit_rows(engine)

    async def read() -> int:
        transport = httpx.ASGITransport(app=_app(engine))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return (await c.get(f"/enterprises/{world.enterprise}", headers=HEADERS)).status_code

    status, loop_thread = _run(read)
    assert status == 200
    assert [t is loop_thread for t in threads] == [engine.dialect.name == "postgresql"]
    assert _audit_rows(engine) == before + 1


@pytest.mark.postgres
def test_a_held_chain_lock_sends_the_audited_read_to_a_thread_and_the_loop_keeps_serving(
    world_engine: tuple[Engine, World],
) -> None:
    """Another transaction holds the audit chain's lock: the audited read must wait for it, but
    not on the loop (a read-only request and /health are answered meanwhile); once the lock is
    released it is answered, with one row in the chain (its first, rolled-back try left none)."""
    engine, world = world_engine
    if engine.dialect.name != "postgresql":
        pytest.skip("the chain's lock is PostgreSQL's")
    # Were the lock awaited on the loop, the test would hang: a lock timeout turns that into a 500.
    app_engine = make_engine(engine.url.render_as_string(hide_password=False),
                             connect_args={"options": "-c lock_timeout=10000"})  # fmt: skip
    before = _audit_rows(engine)
    holder = engine.connect()
    holder.execute(text("SELECT pg_advisory_xact_lock(7426001)"))

    async def scenario() -> tuple[int, list[int], bool, int]:
        transport = httpx.ASGITransport(app=_app(app_engine))
        async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=30) as c:
            audited = asyncio.create_task(
                c.get(f"/enterprises/{world.enterprise}", headers=HEADERS)
            )
            await asyncio.sleep(0.5)
            others = [(await c.get(f"/demands/{world.demand}", headers=HEADERS)).status_code,
                      (await c.get("/health")).status_code]  # fmt: skip
            waiting = not audited.done()
            await asyncio.to_thread(holder.commit)  # releases the lock
            return (await audited).status_code, others, waiting, _audit_rows(engine)

    try:
        (status, others, waiting, rows), _ = _run(lambda: asyncio.wait_for(scenario(), timeout=60))
    finally:
        holder.close()
        app_engine.dispose()
    assert others == [200, 200]
    assert waiting
    assert status == 200
    assert rows == before + 1
    with Session(engine) as session:
        assert verify_chain(session).first_broken_id is None


def test_a_failedunit_of_work_rolls_back_in_its_own_hop(
    world_engine: tuple[Engine, World],
) -> None:
    engine, _ = world_engine
    session = Session(engine)

    def endpoint(session: Session) -> None:
        session.add(Complaint(kind="complaint", content="half-written", submitter="t"))
        session.flush()  # a write, with its locks, inside an open transaction
        raise RuntimeError("the endpoint fails after writing")

    call: Callable[..., Any] = unit_of_work
    with pytest.raises(RuntimeError, match="fails after writing"):
        call(endpoint, (), {"session": session})
    assert not session.in_transaction()  # nothing left waiting for the loop to roll it back
    session.close()
    with Session(engine) as check:
        assert (
            check.exec(select(Complaint).where(Complaint.content == "half-written")).first() is None
        )


def test_more_requests_in_flight_than_pooled_connections_are_refused(tmp_path: Path) -> None:
    """On the loop a request must find a connection at once: `--max-in-flight` may not exceed
    the pool (5 + 10 by default; no limit with an unbounded overflow)."""
    url = f"sqlite:///{tmp_path / 'pool.sqlite'}"
    assert in_flight_limit(15, make_engine(url)) == 15
    with pytest.raises(ValueError, match="连接池容量（15）"):
        in_flight_limit(16, make_engine(url))
    assert in_flight_limit(2, make_engine(url, pool_size=2, max_overflow=0)) == 2
    with pytest.raises(ValueError, match="连接池容量（2）"):
        in_flight_limit(3, make_engine(url, pool_size=2, max_overflow=0))
    assert in_flight_limit(500, make_engine(url, max_overflow=-1)) == 500
