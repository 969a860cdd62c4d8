"""Console sessions without a browser: cookie flags, CSRF, role rules and the login form."""

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.main import create_app
from models.reference import UserRole
from models.services.accounts import create_user
from models.settings import Settings
from tests import factories
from tests.web.conftest import PASSWORD, SECRET


@dataclass
class Console:
    """A test client over a small seeded database, and the two institutions' ids."""

    client: TestClient
    bank: int
    other: int


@pytest.fixture
def console(committing_engine: Engine) -> Iterator[Console]:
    with Session(committing_engine) as session:
        bank = factories.institution(session, kind="bank", name="甲科创银行")
        other = factories.institution(session, kind="vc", name="乙创业投资有限公司")
        create_user(session, "mm", PASSWORD, UserRole.matchmaker, None)
        create_user(session, "bank", PASSWORD, UserRole.institution, bank.id)
        session.commit()
        ids = (bank.id or 0, other.id or 0)
    app = create_app(
        Settings(secret_key=SECRET, database_url="sqlite://"), engine=committing_engine
    )
    with TestClient(app) as test_client:
        yield Console(test_client, *ids)


@pytest.fixture
def client(console: Console) -> TestClient:
    return console.client


def _login(client: TestClient, username: str, password: str = PASSWORD) -> Response:
    page = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    return client.post("/console/login", follow_redirects=False,
                       data={"username": username, "password": password, "csrf_token": token[1]})  # fmt: skip


def test_session_cookie_is_signed_httponly_and_lax(client: TestClient) -> None:
    response = _login(client, "mm")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "mm_console=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    value = client.cookies["mm_console"]
    assert client.get("/auth/me", headers={"Authorization": f"Bearer {value}"}).status_code == 401
    client.cookies.clear()
    flipped = "A" if value[-10] != "A" else "B"
    client.cookies.set("mm_console", value[:-10] + flipped + value[-9:])
    assert client.get("/console/demands", follow_redirects=False).status_code == 303


def test_post_without_the_csrf_token_is_refused(client: TestClient) -> None:
    _login(client, "mm")
    data = {"enterprise_id": "1", "institution_id": "1", "scopes": "details"}
    response = client.post("/console/consents", data=data)
    assert response.status_code == 403 and "CSRF" in response.text


def test_wrong_password_and_anonymous_visitors(client: TestClient) -> None:
    response = _login(client, "mm", "wrong-password")
    assert response.status_code == 401 and "用户名或密码错误" in response.text
    client.cookies.clear()
    response = client.get("/console/pipeline", follow_redirects=False)
    assert response.headers["location"] == "/console/login?next=/console/pipeline"


def test_institution_user_is_confined_to_its_own_institution(console: Console) -> None:
    client = console.client
    _login(client, "bank")
    assert client.get(f"/console/institutions/{console.bank}").status_code == 200
    assert client.get(f"/console/institutions/{console.other}").status_code == 404
    assert client.get("/console/pipeline").status_code == 403
    assert client.get("/console/evaluation").status_code == 403
    assert "<title>甲科创银行 · " in client.get(f"/console/institutions/{console.bank}").text
