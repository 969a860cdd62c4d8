"""Login throttling in the database: per account and per source, atomic under parallel bursts,
forwarded headers believed only from configured proxies, lock-out until an admin unlocks."""

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.main import create_app
from cli.core import proxy_options
from models import AuditLog, LoginThrottle, User
from models.db import make_engine
from models.reference import UserRole
from models.settings import Settings
from services.accounts import login_guard
from services.accounts.login_guard import LoginLimits
from services.accounts.service import create_user, unlock_user
from tests.api.conftest import PASSWORD, SECRET, World

SPRAYED = "Spring2026!Spring"  # one password tried against many accounts


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(world_engine: tuple[Engine, World]) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1 with the options `matchmaker serve` passes."""
    engine, _ = world_engine
    if engine.dialect.name == "sqlite":  # as the server opens it: writers queue at BEGIN
        engine = make_engine(engine.url.render_as_string(hide_password=False), serialized=True)
    settings = Settings(secret_key=SECRET, database_url="sqlite://")
    port = _free_port()
    config = uvicorn.Config(create_app(settings, engine), host="127.0.0.1", port=port,
                            log_level="warning", lifespan="off", **proxy_options(settings))  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _users(engine: Engine, count: int) -> list[str]:
    with Session(engine) as session:
        names = [f"staff{i:02d}" for i in range(count)]
        for name in names:
            create_user(session, name, PASSWORD, UserRole.matchmaker, None)
        session.commit()
    return names


def test_spraying_one_password_across_twenty_users_is_throttled(
    client: TestClient, world_engine: tuple[Engine, World]
) -> None:
    names = _users(world_engine[0], 20)
    codes = [client.post("/auth/token", data={"username": n, "password": SPRAYED}).status_code
             for n in names]  # fmt: skip
    assert codes[:10] == [401] * 10 and set(codes[10:]) == {429}
    # the source stays throttled, whoever it tries next
    refused = client.post("/auth/token", data={"username": "mm", "password": PASSWORD})
    assert refused.status_code == 429 and refused.headers["retry-after"] == "300"


def test_thirty_parallel_attempts_pass_at_most_the_limit(server: str) -> None:
    def attempt(i: int) -> int:
        with httpx.Client(base_url=server, timeout=60) as http:
            data = {"username": "eva", "password": f"wrong-password-{i}"}
            return http.post("/auth/token", data=data).status_code

    with ThreadPoolExecutor(max_workers=30) as pool:
        codes = list(pool.map(attempt, range(30)))
    assert codes.count(401) <= 5 and codes.count(401) + codes.count(429) == 30


def test_rotating_x_forwarded_for_does_not_bypass_the_throttle(
    server: str, world_engine: tuple[Engine, World]
) -> None:
    names = _users(world_engine[0], 20)
    codes = []
    with httpx.Client(base_url=server, timeout=60) as http:
        for i, name in enumerate(names):
            headers = {"X-Forwarded-For": f"203.0.113.{i + 1}"}
            response = http.post("/auth/token", headers=headers,
                                 data={"username": name, "password": SPRAYED})  # fmt: skip
            codes.append(response.status_code)
    assert codes[:10] == [401] * 10 and set(codes[10:]) == {429}


def test_forwarded_headers_are_believed_from_configured_proxies_only() -> None:
    assert proxy_options(Settings())["proxy_headers"] is False
    trusted = proxy_options(Settings(forwarded_allow_ips="10.0.0.5"))
    assert trusted == {"proxy_headers": True, "forwarded_allow_ips": "10.0.0.5"}


def _audit_actions(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.exec(select(AuditLog.action).where(AuditLog.entity == "user")))


def test_an_account_locks_after_ten_failures_until_an_admin_unlocks_it(
    world_engine: tuple[Engine, World],
) -> None:
    engine, _ = world_engine
    settings = Settings(secret_key=SECRET, database_url="sqlite://",
                        login_max_failures_per_account=50, login_max_failures_per_source=50)  # fmt: skip
    with TestClient(create_app(settings, engine=engine)) as client:
        for i in range(10):
            bad = client.post("/auth/token", data={"username": "mm", "password": f"bad-{i}"})
            assert bad.status_code == 401
        locked = client.post("/auth/token", data={"username": "mm", "password": PASSWORD})
        assert locked.status_code == 403 and "锁定" in locked.json()["detail"]
        with Session(engine) as session:
            user = session.exec(select(User).where(User.username == "mm")).one()
            assert user.locked_at is not None and user.failed_logins == 10
            unlock_user(session, "mm", actor="admin")
            session.commit()
        assert (
            client.post("/auth/token", data={"username": "mm", "password": PASSWORD}).status_code
            == 200
        )
    actions = _audit_actions(engine)
    assert actions.count("login_failed") == 10 and actions.count("lock") == 1
    assert "login_refused_locked" in actions and "unlock" in actions and "login" in actions
    with Session(engine) as session:
        details = session.exec(select(AuditLog.detail).where(AuditLog.entity == "user")).all()
        rows = session.exec(select(func.count()).select_from(AuditLog)).one()
    assert rows > 0 and not any(PASSWORD in str(d) or "bad-" in str(d) for d in details)


def test_expired_keys_are_swept(committing_engine: Engine) -> None:
    engine = committing_engine  # it commits: PostgreSQL is emptied after
    limits = LoginLimits()
    with Session(engine) as session:
        login_guard.reserve(session, "old-user", "198.51.100.1", limits, now=1_000.0)
        later = login_guard.reserve(session, "new-user", "198.51.100.2", limits, now=2_000.0)
        assert later.new_window and later.allowed
        login_guard.sweep(session, limits, now=2_000.0)
        keys = set(session.exec(select(LoginThrottle.key)))
        session.rollback()
    assert keys == {"u:new-user", "s:198.51.100.2"}


def test_parallel_logins_of_many_users_never_fail_with_a_server_error(
    server: str, world_engine: tuple[Engine, World]
) -> None:
    names = _users(world_engine[0], 8)

    def attempt(i: int) -> int:
        name = names[i % len(names)]
        password = PASSWORD if i % 3 else f"wrong-{i}"
        with httpx.Client(base_url=server, timeout=60) as http:
            return http.post(
                "/auth/token", data={"username": name, "password": password}
            ).status_code

    with ThreadPoolExecutor(max_workers=24) as pool:
        codes = list(pool.map(attempt, range(48)))
    assert set(codes) <= {200, 401, 429} and codes.count(200) > 0
