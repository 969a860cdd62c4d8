"""The app's guards, in process: credentials before a body is read, bodies capped while they stream,
security headers, documentation for staff only, a busy database answered with 503, upload names
and upload folders. (The same against a real server, with slow clients: `test_transport.py`.)"""

import asyncio
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

import api.errors
import api.routers.imports
from api.main import create_app
from api.uploads import UPLOAD_PREFIX, remove_stale_uploads, upload_folder
from api.web.auth import SESSION_COOKIE, session_cookie
from api.web.render import TEMPLATES_DIR
from models import Complaint, Enterprise, ImportBatch
from models.db import make_engine
from models.settings import Settings
from services.accounts.service import end_sessions, set_active
from tests.api.conftest import SECRET, World, login

MB = 1024 * 1024


def _settings(**overrides: Any) -> Settings:
    return Settings(secret_key=SECRET, database_url="sqlite://", **overrides)


def _app(engine: Engine, **overrides: Any) -> FastAPI:
    return create_app(_settings(**overrides), engine=engine)


def _counts(engine: Engine) -> tuple[int, int, int]:
    with Session(engine) as session:
        return tuple(  # type: ignore[return-value]
            session.exec(select(func.count()).select_from(model)).one()
            for model in (Enterprise, Complaint, ImportBatch)
        )


class Exchange:
    """One request through the ASGI app: a body of `chunks` (each a message, `more_body` on all
    but the last unless `endless`), counting the app's reads."""

    def __init__(self, chunks: list[bytes], endless: bool = False) -> None:
        """`endless`: the last chunk again and again."""
        self.chunks, self.endless = chunks, endless
        self.reads = 0
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.body = b""

    async def receive(self) -> dict[str, Any]:
        self.reads += 1
        index = self.reads - 1
        if self.endless:  # (ends after 32 pieces: an unguarded app would read forever)
            chunk = self.chunks[min(index, len(self.chunks) - 1)]
            return {"type": "http.request", "body": chunk, "more_body": self.reads < 32}
        if index < len(self.chunks):
            last = index == len(self.chunks) - 1
            return {"type": "http.request", "body": self.chunks[index], "more_body": not last}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")

    def run(self, app: FastAPI, method: str, path: str, headers: dict[str, str]) -> "Exchange":
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": method, "path": path, "raw_path": path.encode(), "query_string": b"",
                 "root_path": "", "scheme": "http", "server": ("test", 80),
                 "client": ("127.0.0.1", 5000),
                 "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}  # fmt: skip
        asyncio.run(asyncio.wait_for(app(scope, self.receive, self.send), timeout=30))
        return self


CHUNKED_JSON = {"content-type": "application/json", "transfer-encoding": "chunked"}
CHUNKED_FORM = {"content-type": "multipart/form-data; boundary=b", "transfer-encoding": "chunked"}


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/enterprises", CHUNKED_JSON),
        ("/imports", CHUNKED_FORM),
        ("/console/imports", CHUNKED_FORM),
        ("/enterprises", CHUNKED_JSON | {"authorization": "Bearer not.a.token"}),
        ("/imports", CHUNKED_FORM | {"x-api-key": "tfm_" + "x" * 43}),
        ("/console/imports", CHUNKED_FORM | {"cookie": f"{SESSION_COOKIE}=forged.cookie.value"}),
        ("/enterprises", {"content-type": "application/json", "content-length": "5000000"}),
    ],
)
def test_a_body_without_valid_credentials_is_refused_unread(
    world_engine: tuple[Engine, World], path: str, headers: dict[str, str]
) -> None:
    engine, _ = world_engine
    before = _counts(engine)
    done = Exchange([b"x" * MB], endless=True).run(_app(engine), "POST", path, headers)
    assert done.status == 401
    assert done.reads == 0  # not a byte of the body was read
    assert done.headers["connection"] == "close"
    assert done.headers["content-type"] == "application/problem+json"
    assert "认证" in done.body.decode()
    assert _counts(engine) == before


def test_valid_credentials_of_each_kind_let_the_body_through(
    world_engine: tuple[Engine, World], client: TestClient
) -> None:
    engine, world = world_engine
    app = _app(engine)
    body = b'{"kind": "complaint", "content": "\\u670d\\u52a1\\u5f88\\u597d"}'
    bearer = login(client, "mm")["Authorization"]
    for extra in ({"authorization": bearer}, {"x-api-key": world.api_key_a}):
        headers = {"content-type": "application/json", "content-length": str(len(body))}
        done = Exchange([body]).run(app, "POST", "/complaints", headers | extra)
        assert done.status == 201, done.body
    cookie = session_cookie("mm", _settings())
    form = b"csrf_token=wrong"
    done = Exchange([form]).run(app, "POST", "/console/logout", {
        "content-type": "application/x-www-form-urlencoded", "content-length": str(len(form)),
        "cookie": f"{SESSION_COOKIE}={cookie}"})  # fmt: skip
    assert done.reads == 1 and done.status == 403  # read, then the route's own CSRF check


@pytest.mark.parametrize("revoke", ["disable", "logout"])
def test_a_disabled_or_revoked_credential_gets_its_body_refused_unread(
    world_engine: tuple[Engine, World], client: TestClient, revoke: str
) -> None:
    engine, _ = world_engine
    bearer = login(client, "mm")["Authorization"]
    cookie = session_cookie("mm", _settings())
    with Session(engine) as session:
        if revoke == "disable":
            set_active(session, "mm", False, "admin")
        else:
            end_sessions(session, "mm", "mm")
        session.commit()
    before = _counts(engine)
    app = _app(engine)
    for path, extra in (("/imports", {"authorization": bearer}),
                        ("/console/imports", {"cookie": f"{SESSION_COOKIE}={cookie}"})):  # fmt: skip
        done = Exchange([b"x" * MB], endless=True).run(app, "POST", path, CHUNKED_FORM | extra)
        assert done.status == 401, done.body
        assert done.reads == 0  # not a byte read: nothing spooled to a temporary file
        assert done.headers["connection"] == "close"
        assert "认证" in done.body.decode()
    assert _counts(engine) == before


def test_a_chunked_body_is_cut_off_once_past_the_bound(world_engine: tuple[Engine, World],
                                                       client: TestClient) -> None:  # fmt: skip
    engine, _ = world_engine
    before = _counts(engine)
    bearer = login(client, "mm")
    app = _app(engine, max_body_bytes=3 * MB)
    done = Exchange([b"x" * MB], endless=True).run(
        app, "POST", "/enterprises", CHUNKED_JSON | {"authorization": bearer["Authorization"]}
    )
    assert done.status == 413
    assert done.reads == 4  # the fourth MB passed the bound
    assert done.headers["connection"] == "close"
    assert "3 MB" in done.body.decode()
    part = (b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.csv"\r\n'
            b"Content-Type: text/csv\r\n\r\n")  # fmt: skip
    upload = Exchange([part, b"x" * MB], endless=True).run(
        app, "POST", "/imports", CHUNKED_FORM | {"authorization": bearer["Authorization"]}
    )
    assert upload.status == 413 and upload.reads == 4
    assert _counts(engine) == before


def test_a_public_body_is_held_to_the_small_bound(client: TestClient) -> None:
    big = {"username": "mm", "password": "x" * (20 * 1024)}
    response = client.post("/auth/token", data=big)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert "16 KB" in response.json()["detail"]
    assert client.post("/console/login", data=big).status_code == 413
    assert "access_token" in client.post("/auth/token", data={"username": "mm",
                                        "password": "correct-horse-battery"}).json()  # fmt: skip


def test_every_response_carries_the_security_headers(client: TestClient) -> None:
    page = client.get("/console/login")
    api = client.get("/auth/me", headers=login(client, "mm"))
    refused = client.get("/enterprises")
    static = client.get("/console/static/console.js")
    for response in (page, api, refused, static):
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self';" in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "same-origin"
        assert response.headers["x-content-type-options"] == "nosniff"
    for response in (page, api, refused):
        assert response.headers["cache-control"] == "no-store"
    assert "no-store" not in static.headers.get("cache-control", "")


def test_the_console_needs_no_inline_script_or_style() -> None:
    """What the CSP forbids appears in no template: inline scripts and styles, handlers,
    `javascript:` links."""
    for template in TEMPLATES_DIR.glob("*.html"):
        html = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), template.name
        assert not re.search(r"<style|\sstyle=|\son[a-z]+=|javascript:", html), template.name


def test_the_api_docs_are_for_staff_only_by_default(world_engine: tuple[Engine, World]) -> None:
    app_engine, _ = world_engine
    with TestClient(_app(app_engine)) as c:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert c.get(path).status_code == 401, path
            assert c.get(path, headers=login(c, "inst_a")).status_code == 403, path
            assert c.get(path, headers=login(c, "mm")).status_code == 200, path
        c.cookies.set(SESSION_COOKIE, session_cookie("admin", _settings()))
        assert c.get("/docs").status_code == 200  # the console's session, in a browser
        assert "/institutions/{institution_id}/api-keys" in c.get("/openapi.json").json()["paths"]
    with TestClient(_app(app_engine, api_docs="public")) as c:
        assert c.get("/openapi.json").status_code == 200
    with TestClient(_app(app_engine, api_docs="off")) as c:
        assert c.get("/docs", headers=login(c, "mm")).status_code == 404


def test_health_answers_without_credentials(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def _hold_write_lock(engine: Engine, seconds: float, held: threading.Event) -> None:
    """A write of another process: `engine` is serialized, so BEGIN takes the lock."""
    with engine.connect() as conn:
        transaction = conn.begin()
        conn.exec_driver_sql("UPDATE complaint SET content = content")
        held.set()
        time.sleep(seconds)
        transaction.rollback()


def test_a_write_kept_waiting_for_the_sqlite_lock_gets_503_and_changes_nothing(
    world_engine: tuple[Engine, World],
) -> None:
    engine, _ = world_engine
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's database-wide write lock")
    url = engine.url.render_as_string(hide_password=False)
    served = make_engine(url, serialized=True, lock_timeout=0.3)
    other = make_engine(url, serialized=True, lock_timeout=0.1)
    payload = {"kind": "complaint", "content": "对接反馈不及时"}
    try:
        with TestClient(create_app(_settings(), engine=served)) as c:
            headers = login(c, "mm")
            before = _counts(engine)
            held = threading.Event()
            holder = threading.Thread(target=_hold_write_lock, args=(other, 2.0, held))
            holder.start()
            held.wait(5)
            response = c.post("/complaints", json=payload, headers=headers)
            holder.join()
            assert response.status_code == 503
            assert response.headers["retry-after"] == "5"
            assert response.headers["content-type"] == "application/problem+json"
            assert "数据库正忙" in response.json()["detail"]
            assert _counts(engine) == before
            # A shorter write ahead of it: the request waits its turn, then succeeds.
            held = threading.Event()
            holder = threading.Thread(target=_hold_write_lock, args=(other, 0.1, held))
            holder.start()
            held.wait(5)
            assert c.post("/complaints", json=payload, headers=headers).status_code == 201
            holder.join()
    finally:
        served.dispose()
        other.dispose()


def test_two_concurrent_writers_on_sqlite_never_get_a_500(
    world_engine: tuple[Engine, World],
) -> None:
    """One process writes for a second; two requests of another process's app write at the same
    time: kept past the wait, both get 503 and write nothing; then the next one succeeds."""
    engine, _ = world_engine
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's database-wide write lock")
    url = engine.url.render_as_string(hide_password=False)
    writer_engine = make_engine(url, serialized=True)
    served = make_engine(url, serialized=True, lock_timeout=0.3)
    payload = {"kind": "complaint", "content": "并发写入"}
    try:
        with TestClient(create_app(_settings(), engine=served)) as c:
            headers = login(c, "mm")
            before = _counts(engine)
            held = threading.Event()
            writer = threading.Thread(target=_hold_write_lock, args=(writer_engine, 1.0, held))
            writer.start()
            held.wait(5)
            with ThreadPoolExecutor(2) as pool:
                replies = list(pool.map(lambda _: c.post("/complaints", json=payload,
                                                         headers=headers), range(2)))  # fmt: skip
            writer.join()
            assert [r.status_code for r in replies] == [503, 503]
            assert all(r.headers["retry-after"] == "5" for r in replies)
            assert _counts(engine) == before
            assert c.post("/complaints", json=payload, headers=headers).status_code == 201
    finally:
        writer_engine.dispose()
        served.dispose()


def test_a_lock_timeout_is_recognised_on_both_databases(engine: Engine) -> None:
    """SQLite's "database is locked" and PostgreSQL's lock_not_available are lock timeouts; any
    other operational error is not."""
    with engine.connect() as holder, engine.connect() as waiter:
        holder.begin()
        waiter.begin()
        if engine.dialect.name == "sqlite":
            holder.exec_driver_sql("CREATE TABLE h2_lock_probe (x INTEGER)")
            waiter.exec_driver_sql("PRAGMA busy_timeout=50")
            statement = "CREATE TABLE h2_lock_probe_2 (x INTEGER)"
        else:
            holder.execute(text("LOCK TABLE enterprise IN ACCESS EXCLUSIVE MODE"))
            waiter.execute(text("SET LOCAL lock_timeout = '50ms'"))
            statement = "SELECT count(*) FROM enterprise"
        with pytest.raises(OperationalError) as caught:
            waiter.exec_driver_sql(statement)
        assert api.errors.is_lock_timeout(caught.value)
        waiter.rollback()
        holder.rollback()
    with engine.connect() as conn, pytest.raises(Exception) as other:
        conn.exec_driver_sql("SELECT * FROM no_such_table_h2")
    assert not api.errors.is_lock_timeout(other.value)


def test_an_over_long_file_name_is_a_400_and_imports_nothing(
    world_engine: tuple[Engine, World], client: TestClient
) -> None:
    engine, _ = world_engine
    before = _counts(engine)
    name = "企业名单" * 30 + ".csv"  # 363 bytes
    files = {"file": (name, b"name,uscc\n", "text/csv")}
    response = client.post("/imports", files=files, headers=login(client, "mm"))
    assert response.status_code == 400
    assert response.json()["field"] == "file" and "文件名过长" in response.json()["detail"]
    client.cookies.set(SESSION_COOKIE, session_cookie("mm", _settings()))
    page = client.get("/console/imports")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    posted = client.post("/console/imports", files=files, data={"csrf_token": token.group(1)},
                         headers={"referer": "http://testserver/console/imports"},
                         follow_redirects=False)  # fmt: skip
    assert posted.status_code == 303
    assert "文件名过长" in client.get("/console/imports").text
    assert _counts(engine) == before


@pytest.mark.parametrize("name", ["a\x00b.csv", "a\x1fb.csv", "a\x7fb.csv"])
def test_a_control_character_in_a_file_name_is_a_400_and_imports_nothing(
    world_engine: tuple[Engine, World], client: TestClient, name: str
) -> None:
    engine, _ = world_engine
    before = _counts(engine)
    body = (b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\""
            + name.encode() + b"\"\r\nContent-Type: text/csv\r\n\r\nname,uscc\r\n--b--\r\n")  # fmt: skip
    headers = login(client, "mm") | {"content-type": "multipart/form-data; boundary=b"}
    response = client.post("/imports", content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == "file" and "控制字符" in response.json()["detail"]
    assert _counts(engine) == before


def test_an_upload_folder_is_removed_when_the_import_crashes(
    world_engine: tuple[Engine, World], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    engine, _ = world_engine
    root = tmp_path / "uploads"
    seen: list[Path] = []

    def crash(session: Session, path: Path, **_: Any) -> None:
        seen.append(path)
        assert path.exists()
        raise RuntimeError("the importer crashed")

    monkeypatch.setattr(api.routers.imports, "import_file", crash)
    app = create_app(_settings(upload_tmp_dir=str(root)), engine=engine)
    with TestClient(app, raise_server_exceptions=False) as c:
        files = {"file": ("demands.csv", b"name\n", "text/csv")}
        assert c.post("/imports", files=files, headers=login(c, "mm")).status_code == 500
    assert seen and not seen[0].exists()
    assert list(root.iterdir()) == []


def test_upload_folders_of_dead_processes_are_removed_at_start(tmp_path: Path) -> None:
    settings = _settings(upload_tmp_dir=str(tmp_path))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stale = tmp_path / f"{UPLOAD_PREFIX}{gone.stdout.strip()}-abc"
    stale.mkdir()
    (stale / "demands.xlsx").write_bytes(b"x" * 1000)
    with upload_folder(settings) as mine:
        assert mine.name.startswith(f"{UPLOAD_PREFIX}{os.getpid()}-")
        assert remove_stale_uploads(settings) == [stale]
        assert mine.exists() and not stale.exists()
    assert not mine.exists()
