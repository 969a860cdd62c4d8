"""Console sessions without a browser: cookie flags, CSRF, role rules and the login form."""

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.main import create_app
from models import AuditLog, User
from models.reference import UserRole
from models.settings import Settings
from services.accounts.service import create_user
from tests import factories
from tests.api.web.conftest import PASSWORD, SECRET


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


def test_logout_ends_the_session_on_the_server(client: TestClient) -> None:
    _login(client, "mm")
    value = client.cookies["mm_console"]
    page = client.get("/console/demands")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert page.status_code == 200 and token is not None
    assert client.post("/console/logout", data={"csrf_token": token[1]}).status_code == 200
    client.cookies.clear()
    client.cookies.set("mm_console", value)  # the old cookie, replayed
    replay = client.get("/console/demands", follow_redirects=False)
    assert replay.status_code == 303 and replay.headers["location"].startswith("/console/login")


def test_login_page_shows_only_fixed_messages(client: TestClient) -> None:
    forged = client.get(
        "/console/login", params={"error": "账户异常，请致电 400-000-0000 <b>x</b>"}
    )
    assert "400-000-0000" not in forged.text and "flash-error" not in forged.text
    known = client.get("/console/login", params={"error": "expired"})
    assert "登录已失效，请重新登录" in known.text


def _admin_console(console: Console, committing_engine: Engine) -> str:
    with Session(committing_engine) as session:
        create_user(session, "root", PASSWORD, UserRole.admin, None)
        session.commit()
    _login(console.client, "root")
    page = console.client.get("/console/users")
    assert page.status_code == 200 and "用户管理" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    return token[1]


def _user(engine: Engine, username: str) -> User:
    with Session(engine) as session:
        found = session.exec(select(User).where(User.username == username)).one()
        session.expunge(found)
        return found


def test_admin_manages_users_in_the_console(console: Console, committing_engine: Engine) -> None:
    csrf = _admin_console(console, committing_engine)
    client, mm = console.client, _user(committing_engine, "mm")
    weak = client.post(f"/console/users/{mm.id}/password", data={"csrf_token": csrf,
                       "new_password": "aaaaaaaa"}, follow_redirects=False)  # fmt: skip
    assert weak.status_code == 303
    assert _user(committing_engine, "mm").password_hash == mm.password_hash
    for bad in ("Aa1!" + "\x00" * 8, "aaaaaaaaaaaa", "mm-mm-mm-mm-mm"):  # #21 item 7
        refused = client.post(f"/console/users/{mm.id}/password", data={"csrf_token": csrf,
                              "new_password": bad}, follow_redirects=False)  # fmt: skip
        assert refused.status_code == 303
        assert _user(committing_engine, "mm").password_hash == mm.password_hash
    done = client.post(f"/console/users/{mm.id}/password", data={"csrf_token": csrf,
                       "new_password": "another-long-secret-77"})  # fmt: skip
    assert done.status_code == 200 and "已为用户 mm 设置新密码" in done.text
    role = client.post(f"/console/users/{mm.id}/role", data={"csrf_token": csrf,
                       "new_role": "evaluator", "institution_id": ""})  # fmt: skip
    assert role.status_code == 200 and _user(committing_engine, "mm").role == UserRole.evaluator
    client.post(f"/console/users/{mm.id}/disable", data={"csrf_token": csrf})
    assert _user(committing_engine, "mm").active is False
    with Session(committing_engine) as session:
        actions = set(session.exec(select(AuditLog.action).where(AuditLog.entity == "user")))
    assert {"set_password", "set_role", "disable"} <= actions


def test_only_admins_reach_the_users_page(console: Console) -> None:
    _login(console.client, "mm")
    assert console.client.get("/console/users").status_code == 403
