"""Serving: a remembered token still expires, a disabled account is refused at once, a cached
ranking follows the data, more requests than pooled connections queue, audited reads keep the
chain intact under concurrency."""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import api.security
from api.main import create_app
from api.security import TOKEN_TTL, create_token
from models import LoanProduct, User
from models.db import make_engine
from models.reference import FinancingType, InstitutionKind
from models.settings import Settings
from services.audit.repository import verify_chain
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


def test_more_requests_than_pooled_connections_wait_for_one(
    world_engine: tuple[Engine, World],
) -> None:
    """Two pooled connections, twelve concurrent requests: they queue for the connections (in
    the thread pool's 40 threads, up to `pool_timeout`) and all are answered."""
    engine, _ = world_engine
    small = make_engine(engine.url.render_as_string(hide_password=False), serialized=True,
                        pool_size=2, max_overflow=0, pool_timeout=5)  # fmt: skip
    app = create_app(Settings(secret_key=SECRET, database_url="sqlite://"), engine=small)
    token = create_token("mm", Settings(secret_key=SECRET))

    async def run() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            calls = [c.get("/demands?limit=5", headers=_bearer(token)) for _ in range(12)]
            return [r.status_code for r in await asyncio.gather(*calls)]

    try:
        statuses = asyncio.run(asyncio.wait_for(run(), timeout=60))
    finally:
        small.dispose()
    assert statuses == [200] * 12


def test_a_request_that_waited_too_long_for_a_connection_gets_503(
    world_engine: tuple[Engine, World],
) -> None:
    """Every pooled connection held past `pool_timeout`: 503 with Retry-After, not a 500."""
    engine, _ = world_engine
    small = make_engine(engine.url.render_as_string(hide_password=False), pool_size=1,
                        max_overflow=0, pool_timeout=0.3)  # fmt: skip
    app = create_app(Settings(secret_key=SECRET, database_url="sqlite://"), engine=small)
    headers = _bearer(create_token("mm", Settings(secret_key=SECRET)))
    try:
        with TestClient(app) as c, small.connect():  # the pool's only connection, held
            response = c.get("/demands", headers=headers)
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "5" and "繁忙" in response.json()["detail"]
        with TestClient(app) as c:
            assert c.get("/demands", headers=headers).status_code == 200
    finally:
        small.dispose()


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
