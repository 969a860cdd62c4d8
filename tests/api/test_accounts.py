"""Accounts: password policy, normalised usernames, revocation of tokens on every account change,
keys that cannot mint keys, and every account event in the audit log (never the password)."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import ApiKey, AuditLog, User
from models.errors import ConflictError, DomainError
from models.reference import UserRole
from services.accounts.service import (
    check_password,
    common_passwords,
    create_user,
    set_active,
    set_password,
    set_role,
)
from tests.api.conftest import PASSWORD, World, login

NEW_PASSWORD = "a-much-longer-passphrase-2027"


def _snapshot(engine: Engine) -> tuple[Any, ...]:
    with Session(engine) as session:
        users = session.exec(select(User.username, User.password_hash, User.role, User.active,
                                    User.token_version).order_by(User.id)).all()  # fmt: skip
        audit = session.exec(select(func.count()).select_from(AuditLog)).one()
        keys = session.exec(select(func.count()).select_from(ApiKey)).one()
    return tuple(users), audit, keys


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("newadmin", "aaaaaaaa", "至少 12 位"),
        ("newadmin", "password1234", "常见弱密码"),
        ("newadmin", "QWERTYUIOP123", "常见弱密码"),
        ("newadmin-long-name", "NewAdmin-Long-Name", "不能与用户名相同"),
        (" ADMIN", NEW_PASSWORD, "已存在"),
        ("Ａｄｍｉｎ", NEW_PASSWORD, "已存在"),  # full-width letters: NFKC makes them "admin"
        ("ad min", NEW_PASSWORD, "空白"),
        # the re-test's examples (#21 item 7)
        ("newadmin", "aaaaaaaaaaaa", "5 个不同的字符"),
        ("weakpw3", "weakpw3weakpw3", "不能包含用户名"),
        ("weakpw3", "My-WEAKPW3-is-long", "不能包含用户名"),
        ("newadmin", "Aa1!" + "\x00" * 8, "控制字符"),
        ("newadmin", "zero\u200bwidth-passphrase", "控制字符"),
        ("\u0430dmin1", NEW_PASSWORD, "汉字"),  # Cyrillic а
        ("admin1\u0301", NEW_PASSWORD, "汉字"),  # combining acute accent
        ("\u03b1dmin1", NEW_PASSWORD, "汉字"),  # Greek α
    ],
)
def test_weak_passwords_and_lookalike_usernames_are_refused(
    world_engine: tuple[Engine, World], username: str, password: str, message: str
) -> None:
    engine, _ = world_engine
    before = _snapshot(engine)
    with Session(engine) as session, pytest.raises(DomainError) as refused:
        create_user(session, username, password, UserRole.admin, None)
    assert message in refused.value.message
    assert _snapshot(engine) == before


def test_usernames_are_stored_and_looked_up_normalised(
    client: TestClient, world_engine: tuple[Engine, World]
) -> None:
    engine, _ = world_engine
    with Session(engine) as session:
        user = create_user(session, "  Admin1 ", NEW_PASSWORD, UserRole.admin, None)
        session.commit()
        assert user.username == "admin1"
        with pytest.raises(ConflictError):
            create_user(session, "ADMIN1", NEW_PASSWORD, UserRole.admin, None)
    token = client.post("/auth/token", data={"username": " ADMIN1", "password": NEW_PASSWORD})
    assert token.status_code == 200
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert me.json()["username"] == "admin1"


@pytest.mark.parametrize(
    "password", ["aaaaaaaaaaaa", "mmmmmmmmmmmmmm", "x-mm-mm-mm-mm-x", "Aa1!" + "\x00" * 8]
)
def test_set_password_refuses_weak_passwords_and_changes_nothing(
    world_engine: tuple[Engine, World], password: str
) -> None:
    engine, _ = world_engine
    before = _snapshot(engine)
    with Session(engine) as session, pytest.raises(DomainError) as refused:
        set_password(session, "mm", password, actor="admin")
    assert refused.value.field == "password"
    assert _snapshot(engine) == before


def test_han_and_plain_ascii_usernames_are_accepted(world_engine: tuple[Engine, World]) -> None:
    with Session(world_engine[0]) as session:
        assert create_user(session, "张三", NEW_PASSWORD, UserRole.matchmaker, None).id
        assert create_user(session, "li.si_2-x", NEW_PASSWORD, UserRole.matchmaker, None).id


def test_the_test_passwords_satisfy_the_policy() -> None:
    for password in (PASSWORD, NEW_PASSWORD, "console-pass-2026"):
        check_password(password)
    assert len(common_passwords()) > 19_000 and "aaaaaaaa" in common_passwords()


def _me(client: TestClient, headers: dict[str, str]) -> int:
    return client.get("/auth/me", headers=headers).status_code


@pytest.mark.parametrize("change", ["password", "role", "disable"])
def test_account_changes_revoke_the_users_tokens_at_once(
    client: TestClient, world_engine: tuple[Engine, World], change: str
) -> None:
    engine, _ = world_engine
    headers = login(client, "mm")
    assert _me(client, headers) == 200  # the token is now in the verified-token cache
    with Session(engine) as session:
        if change == "password":
            set_password(session, "mm", NEW_PASSWORD, actor="admin")
        elif change == "role":
            set_role(session, "mm", UserRole.evaluator, actor="admin")
        else:
            set_active(session, "mm", False, actor="admin")
        session.commit()
    assert _me(client, headers) == 401
    with Session(engine) as session:
        actions = session.exec(select(AuditLog.action, AuditLog.detail)
                               .where(AuditLog.entity == "user")).all()  # fmt: skip
    expected = {"password": "set_password", "role": "set_role", "disable": "disable"}[change]
    assert expected in [a for a, _ in actions]
    assert not any(NEW_PASSWORD in str(d) or PASSWORD in str(d) for _, d in actions)
    if change == "password":
        old = client.post("/auth/token", data={"username": "mm", "password": PASSWORD})
        assert old.status_code == 401
        assert _me(client, login_with(client, "mm", NEW_PASSWORD)) == 200
    if change == "disable":
        again = client.post("/auth/token", data={"username": "mm", "password": PASSWORD})
        assert again.status_code == 401


def login_with(client: TestClient, username: str, password: str) -> dict[str, str]:
    response = client.post("/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_an_api_key_cannot_mint_api_keys(
    client: TestClient, world: World, world_engine: tuple[Engine, World]
) -> None:
    before = _snapshot(world_engine[0])
    minted = client.post(f"/institutions/{world.inst_a}/api-keys",
                         headers={"X-API-Key": world.api_key_a})  # fmt: skip
    assert minted.status_code == 403 and "API 密钥" in minted.json()["detail"]
    assert _snapshot(world_engine[0]) == before
    by_user = client.post(f"/institutions/{world.inst_a}/api-keys", headers=login(client, "inst_a"))
    assert by_user.status_code == 201


def test_logins_and_their_failures_are_audited_without_the_password(
    client: TestClient, world_engine: tuple[Engine, World]
) -> None:
    client.post("/auth/token", data={"username": "eva", "password": "wrong-password-1"})
    client.post("/auth/token", data={"username": "nobody", "password": "wrong-password-2"})
    login(client, "eva")
    with Session(world_engine[0]) as session:
        rows = session.exec(select(AuditLog).where(AuditLog.entity == "user")
                            .order_by(AuditLog.id)).all()  # fmt: skip
    events = [(r.actor, r.action, r.detail.get("username")) for r in rows if "login" in r.action]
    assert events == [("anonymous", "login_failed", "eva"), ("anonymous", "login_failed", "nobody"),
                      ("eva", "login", "eva")]  # fmt: skip
    assert all(r.detail.get("source") and r.detail.get("via") == "api" for r in rows[-3:])
    assert not any("wrong-password" in str(r.detail) or PASSWORD in str(r.detail) for r in rows)


def _key_works(client: TestClient, plain: str) -> int:
    return client.get("/auth/me", headers={"X-API-Key": plain}).status_code


@pytest.mark.parametrize("change", ["disable", "password", "role"])
def test_an_api_key_dies_with_its_issuers_account(
    client: TestClient, world: World, world_engine: tuple[Engine, World], change: str
) -> None:
    """#21 item 3: inst_a issues a key, then is disabled (or its password set, or its role
    changed): the key is revoked, and each revocation audited."""
    engine = world_engine[0]
    issued = client.post(f"/institutions/{world.inst_a}/api-keys", headers=login(client, "inst_a"))
    assert issued.status_code == 201
    plain, key_id = issued.json()["key"], issued.json()["id"]
    assert _key_works(client, plain) == 200
    with Session(engine) as session:
        if change == "disable":
            set_active(session, "inst_a", False, actor="cli")
        elif change == "password":
            set_password(session, "inst_a", NEW_PASSWORD, actor="cli")
        else:
            set_role(session, "inst_a", UserRole.evaluator, actor="cli")
        session.commit()
    assert _key_works(client, plain) == 401
    assert _key_works(client, world.api_key_a) == 200  # seeded by a script: no issuer, untouched
    with Session(engine) as session:
        audit = session.exec(select(AuditLog.actor, AuditLog.detail).where(
            AuditLog.entity == "api_key", AuditLog.action == "revoke",
            AuditLog.entity_id == key_id)).all()  # fmt: skip
    expected = {"disable": "disable", "password": "set_password", "role": "set_role"}[change]
    assert audit == [("cli", {"reason": expected, "created_by": "inst_a"})]


def test_an_unchanged_role_keeps_the_issuers_keys(
    client: TestClient, world: World, world_engine: tuple[Engine, World]
) -> None:
    issued = client.post(f"/institutions/{world.inst_a}/api-keys", headers=login(client, "inst_a"))
    with Session(world_engine[0]) as session:
        set_role(session, "inst_a", UserRole.institution, actor="cli")
        session.commit()
    assert _key_works(client, issued.json()["key"]) == 200


def test_an_institution_lists_and_revokes_its_own_keys(
    client: TestClient, world: World, world_engine: tuple[Engine, World]
) -> None:
    engine = world_engine[0]
    own = login(client, "inst_a")
    issued = client.post(f"/institutions/{world.inst_a}/api-keys", headers=own).json()
    listed = client.get(f"/institutions/{world.inst_a}/api-keys", headers=own)
    assert listed.status_code == 200
    rows = {row["id"]: row for row in listed.json()}
    assert set(rows) == {issued["id"], world.key_a}
    assert rows[issued["id"]]["created_by"] == "inst_a" and rows[world.key_a]["created_by"] is None
    assert rows[issued["id"]]["prefix"] == issued["prefix"] and rows[issued["id"]]["created_at"]
    assert rows[issued["id"]]["revoked_at"] is None
    with Session(engine) as session:
        hashes = session.exec(select(ApiKey.key_hash)).all()
    assert not any(h in listed.text for h in hashes) and issued["key"] not in listed.text
    assert "key_hash" not in listed.text

    other, staff = login(client, "inst_b"), login(client, "mm")  # logins are audited: first
    before = _snapshot(engine), _revoked(engine)
    assert client.get(f"/institutions/{world.inst_a}/api-keys", headers=other).status_code == 404
    assert client.delete(f"/api-keys/{issued['id']}", headers=other).status_code == 404
    by_key = client.delete(f"/api-keys/{issued['id']}", headers={"X-API-Key": world.api_key_a})
    assert by_key.status_code == 403
    by_key_list = client.get(f"/institutions/{world.inst_a}/api-keys",
                             headers={"X-API-Key": world.api_key_a})  # fmt: skip
    assert by_key_list.status_code == 403
    assert client.delete(f"/api-keys/{issued['id']}", headers=staff).status_code == 403
    assert (_snapshot(engine), _revoked(engine)) == before

    revoked = client.delete(f"/api-keys/{issued['id']}", headers=own)
    assert revoked.status_code == 200
    assert _key_works(client, issued["key"]) == 401
    again = client.get(f"/institutions/{world.inst_a}/api-keys", headers=own).json()
    assert next(r for r in again if r["id"] == issued["id"])["revoked_at"] is not None
    assert (
        client.delete(f"/api-keys/{world.key_a}", headers=login(client, "admin")).status_code == 200
    )


def _revoked(engine: Engine) -> list[Any]:
    with Session(engine) as session:
        return list(session.exec(select(ApiKey.id, ApiKey.revoked_at).order_by(ApiKey.id)).all())
