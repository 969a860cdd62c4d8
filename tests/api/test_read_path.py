"""What the cheaper read path must not change: read-only routes cannot write, a pooled connection
the server closed is replaced without an error, a page past the end still counts, and a ranked
list's body is rendered once per list the service hands out."""

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.main import ROUTERS, create_app
from api.routers.recommendations import RecommendationOut, RenderedLists
from models import AuditLog, Complaint
from models.db import ReadOnlySession, make_engine, reader_engine
from models.settings import Settings
from services.recommendations.service import Recommendation
from tests.api.conftest import SECRET, World, login


def _read_only(path: str, method: str = "GET") -> bool:
    routes = [r for module in ROUTERS for r in module.router.routes]
    route = next(r for r in routes if getattr(r, "path", None) == path
                 and method in getattr(r, "methods", ()))  # fmt: skip
    return bool(getattr(route, "read_only", False))


def test_only_pure_reads_are_marked_read_only() -> None:
    for path in ("/demands", "/demands/{demand_id}", "/teasers", "/matches",
                 "/demands/{demand_id}/recommendations"):  # fmt: skip
        assert _read_only(path), path
    # An audited read and a disclosure append to the chain: they keep their transaction.
    for path in ("/enterprises/{enterprise_id}", "/teasers/{demand_id}"):
        assert not _read_only(path), path
    assert not _read_only("/demands", "POST")


@pytest.mark.postgres
def test_a_read_only_session_reads_in_autocommit_and_refuses_writes(
    world_engine: tuple[Engine, World],
) -> None:
    engine, _ = world_engine
    if engine.dialect.name != "postgresql":
        pytest.skip("autocommit reads are for PostgreSQL")
    reader = reader_engine(engine)
    assert reader is not None
    with ReadOnlySession(reader) as session:
        assert session.connection().connection.dbapi_connection.autocommit is True  # type: ignore[union-attr]
        in_tx = session.connection().execute(text("SELECT now() = statement_timestamp()"))
        assert in_tx.scalar() is True  # no BEGIN: each statement is its own transaction
        session.add(Complaint(kind="complaint", content="x", submitter="t"))
        with pytest.raises(RuntimeError, match="read-only"):
            session.flush()
        session.expunge_all()
        with pytest.raises(RuntimeError, match="read-only"):
            session.connection().execute(insert(AuditLog).values(actor="x"))
    # The pooled connection goes back to transactions for everyone else.
    with Session(engine) as session:
        assert session.connection().connection.dbapi_connection.autocommit is False  # type: ignore[union-attr]


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


def _rec(name: str) -> Recommendation:
    return Recommendation(demand_id=1, enterprise_name=name, model_version="rules", items=[],
                          near_misses=[])  # fmt: skip


def test_a_ranked_list_is_rendered_once_per_list_served() -> None:
    rendered = RenderedLists(maxsize=2)
    first = _rec("甲")
    body = rendered.body(first)
    assert body == RecommendationOut.model_validate(first.to_dict()).model_dump_json().encode()
    assert rendered.body(first) is body  # the kept body
    second = _rec("乙")  # what the service returns after the data changed: a new object
    assert "乙".encode() in rendered.body(second)
    assert rendered.body(first) is body
    others = [_rec(name) for name in "丙丁"]  # alive: their ids are theirs
    for rec in others:
        rendered.body(rec)
    assert rendered.body(first) is not body and rendered.body(first) == body  # LRU-evicted


def test_a_body_is_never_served_for_another_list_at_a_reused_id() -> None:
    rendered = RenderedLists()
    gone = _rec("甲")
    key, _ = id(gone), rendered.body(gone)
    del gone  # its id may now be reused by a new list
    fresh = _rec("乙")
    rendered._bodies[id(fresh)] = rendered._bodies.pop(key)  # as if it had been
    assert "乙".encode() in rendered.body(fresh)


@pytest.mark.postgres
def test_connecting_gives_up_after_a_bounded_time_unless_the_url_says(
    world_engine: tuple[Engine, World],
) -> None:
    """A connection may be opened on the event loop: it must not wait for the TCP timeout."""
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
