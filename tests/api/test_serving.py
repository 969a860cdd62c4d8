"""What the serving shortcuts must not change: a remembered token still expires, a disabled account
is refused at once, a cached ranking follows the data, a bounded number of requests in flight
cannot deadlock on the connection pool, audited reads keep the chain intact under concurrency."""

import asyncio
import gc
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import anyio.to_thread
import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import api.main
import api.security
from api.admission import IN_FLIGHT_ENV
from api.main import create_app
from api.security import TOKEN_TTL, create_token
from models import LoanProduct, User
from models.db import make_engine
from models.reference import FinancingType, InstitutionKind
from models.settings import Settings
from services.audit.repository import verify_chain
from services.recommendations import service
from tests import factories
from tests.api.conftest import SECRET, World, login


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_remembered_token_still_expires(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(secret_key=SECRET)
    issued = datetime.now(UTC) - TOKEN_TTL + timedelta(seconds=30)
    token = create_token("mm", settings, now=issued)
    assert client.get("/auth/me", headers=_bearer(token)).status_code == 200  # remembered now
    later = (issued + TOKEN_TTL).timestamp() + 1
    monkeypatch.setattr(api.security.time, "time", lambda: later)
    response = client.get("/auth/me", headers=_bearer(token))
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_disabled_account_is_refused_on_its_next_request(
    client: TestClient, world_engine: tuple[Engine, World]
) -> None:
    headers = login(client, "mm")
    assert client.get("/demands", headers=headers).status_code == 200
    engine, _ = world_engine
    with Session(engine) as session:
        user = session.exec(select(User).where(User.username == "mm")).one()
        user.active = False
        session.add(user)
        session.commit()
    assert client.get("/demands", headers=headers).status_code == 401


def test_a_cached_ranking_follows_a_changed_product(
    client: TestClient, world_engine: tuple[Engine, World]
) -> None:
    engine, _ = world_engine
    with Session(engine) as session:
        bank = factories.institution(session, kind=InstitutionKind.bank, focus="科技信贷")
        product = factories.loan_product(session, bank, name="科技贷")
        demand = factories.demand(session, factories.enterprise(session),
                                  financing_type=FinancingType.loan)  # fmt: skip
        session.commit()
        product_id, demand_id = product.id, demand.id
    headers = login(client, "mm")
    path = f"/demands/{demand_id}/recommendations?k=10"

    def products() -> list[int | None]:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, response.text
        return [item["product_id"] for item in response.json()["items"]]

    assert product_id in products()
    assert product_id in products()  # the second answer is the kept one
    with Session(engine) as session:
        row = session.get(LoanProduct, product_id)
        assert row is not None
        row.active = False
        session.add(row)
        session.commit()
    assert product_id not in products()


def test_more_requests_than_connections_queue_instead_of_deadlocking(
    world_engine: tuple[Engine, World], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two pooled connections, two worker threads, twelve concurrent requests. Unbounded, the
    requests holding the connections would wait for threads held by requests waiting for a
    connection, until the pool timed out; admitted two at a time, all are answered."""
    engine, _ = world_engine
    small = make_engine(engine.url.render_as_string(hide_password=False), serialized=True,
                        pool_size=2, max_overflow=0, pool_timeout=5)  # fmt: skip
    monkeypatch.setenv(IN_FLIGHT_ENV, "2")
    app = create_app(Settings(secret_key=SECRET, database_url="sqlite://"), engine=small)
    token = create_token("mm", Settings(secret_key=SECRET))

    async def run() -> list[int]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = 2  # this loop's pool
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            calls = [c.get("/demands?limit=5", headers=_bearer(token)) for _ in range(12)]
            return [r.status_code for r in await asyncio.gather(*calls)]

    try:
        statuses = asyncio.run(asyncio.wait_for(run(), timeout=60))
    finally:
        small.dispose()
    assert statuses == [200] * 12


def test_concurrent_audited_reads_from_two_workers_keep_the_chain(
    world_engine: tuple[Engine, World],
) -> None:
    """Two apps over two engines (two worker processes' pools) read enterprises at once; every
    read is one row of the chain, and the chain verifies."""
    engine, world = world_engine
    url = engine.url.render_as_string(hide_password=False)
    engines = [make_engine(url, serialized=True) for _ in range(2)]
    apps = [create_app(Settings(secret_key=SECRET, database_url="sqlite://"), engine=e)
            for e in engines]  # fmt: skip
    token = create_token("mm", Settings(secret_key=SECRET))
    with Session(engine) as session:
        before = verify_chain(session).rows_checked

    def reads(app: object) -> list[int]:
        with TestClient(app) as c:  # type: ignore[arg-type]
            return [c.get(f"/enterprises/{world.enterprise}", headers=_bearer(token)).status_code
                    for _ in range(15)]  # fmt: skip

    try:
        # FastAPI builds a route's state lazily at its first match; in a worker that happens on
        # its one event loop, so warm each app once before two threads share it.
        warm = [reads(app)[0] for app in apps]
        with ThreadPoolExecutor(4) as pool:
            statuses = [s for out in pool.map(reads, apps * 2) for s in out]
    finally:
        for e in engines:
            e.dispose()
    assert warm == [200] * 2 and statuses == [200] * 60
    with Session(engine) as session:
        report = verify_chain(session)
    assert report.first_broken_id is None, report.reason
    assert report.rows_checked == before + 2 * 15 + 60


def test_the_server_factory_tunes_the_process_and_freezes_the_heap_after_world_loads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(api.main, "create_app", lambda: object())
    monkeypatch.setattr(api.main.gc, "collect", lambda: calls.append("collect") or 0)
    monkeypatch.setattr(api.main.gc, "freeze", lambda: calls.append("freeze"))
    thresholds, interval = gc.get_threshold(), sys.getswitchinterval()
    try:
        api.main.create_server_app()
        assert calls == ["collect", "freeze"]
        assert gc.get_threshold() == api.main.SERVER_GC_THRESHOLDS
        assert sys.getswitchinterval() == pytest.approx(api.main.SERVER_SWITCH_INTERVAL)
        assert service._CACHE.on_load is not None
        service._CACHE.on_load()
        assert calls == ["collect", "freeze"] * 2
    finally:
        gc.set_threshold(*thresholds)
        sys.setswitchinterval(interval)
        service.on_world_loaded(None)
