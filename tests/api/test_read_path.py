"""The read path: a pooled connection the server closed is replaced without an error, a page past
the end still counts, connecting gives up in bounded time."""

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from api.main import create_app
from models.db import make_engine
from models.settings import Settings
from tests.api.conftest import SECRET, World, login


@pytest.mark.postgres
def test_a_connection_the_server_closed_is_replaced_without_an_error(
    world_engine: tuple[Engine, World],
) -> None:
    """No pre-ping round trip any more: a pooled connection the server ended (a restart,
    `pg_terminate_backend`) is noticed at checkout and replaced; no request fails."""
    engine, world = world_engine
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL connections")
    url = engine.url.render_as_string(hide_password=False)
    own = make_engine(url, serialized=True)
    try:
        with TestClient(
            create_app(Settings(secret_key=SECRET, database_url="sqlite://"), engine=own)
        ) as client:
            headers = login(client, "mm")
            paths = ["/demands", f"/enterprises/{world.enterprise}", f"/demands/{world.demand}"]
            assert [client.get(p, headers=headers).status_code for p in paths] == [200] * 3
            assert own.pool.checkedin() >= 1  # type: ignore[attr-defined]
            with engine.connect() as admin:
                ended = admin.execute(text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )).scalar()  # fmt: skip
                admin.commit()
            assert ended and ended >= 1
            time.sleep(0.2)  # the FATAL message and the close reach the client's sockets
            assert [client.get(p, headers=headers).status_code for p in paths] == [200] * 3
    finally:
        own.dispose()


def test_a_page_past_the_end_still_counts(client: TestClient) -> None:
    headers = login(client, "mm")
    for path in ("/demands", "/teasers", "/matches", "/enterprises"):
        first = client.get(path, headers=headers).json()
        assert first["count"] == len(first["data"]) >= 1, path
        past = client.get(f"{path}?offset=1000", headers=headers).json()
        assert past == {"data": [], "count": first["count"]}, path
    assert client.get("/demands?limit=201", headers=headers).status_code == 422


@pytest.mark.postgres
def test_connecting_gives_up_after_a_bounded_time_unless_the_url_says(
    world_engine: tuple[Engine, World],
) -> None:
    """A request waiting for a new connection must not wait for the TCP timeout."""
    engine, _ = world_engine
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL connections")
    url = engine.url.render_as_string(hide_password=False)
    for given, expected in ((url, "10"), (url + "?connect_timeout=3", "3")):
        own = make_engine(given)
        try:
            with own.connect() as conn:
                info = conn.connection.dbapi_connection.info  # type: ignore[union-attr]
                assert info.get_parameters()["connect_timeout"] == expected
        finally:
            own.dispose()
