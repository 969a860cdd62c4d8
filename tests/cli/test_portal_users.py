"""CLI contracts of the enterprise portal (issue 26): `matchmaker users create --role enterprise
--enterprise-id ID` and `matchmaker users invite`, run as a process of their own."""

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import User
from models.errors import DomainError
from models.reference import UserRole
from services.accounts.service import accept_invitation
from tests import factories
from tests.cli.test_contracts import database, matchmaker  # noqa: F401  (the fixture)

PASSWORD = "portal-cli-pass-2026"


def _enterprise(engine: Engine) -> int:
    with Session(engine) as session:
        ent = factories.enterprise(session)
        session.commit()
        return ent.id or 0


def _users(engine: Engine) -> dict[str, User]:
    with Session(engine) as session:
        return {u.username: u for u in session.exec(select(User))}


def test_users_create_binds_an_enterprise_user(database: tuple[str, Engine]) -> None:  # noqa: F811
    url, engine = database
    ent = _enterprise(engine)
    created = matchmaker(url, "users", "create", "--username", "qiye1", "--password", PASSWORD,
                         "--role", "enterprise", "--enterprise-id", str(ent),
                         "--email", "cfo@qiye.example.com")  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "企业用户" in created.stdout
    user = _users(engine)["qiye1"]
    assert (user.role, user.enterprise_id, user.email) == (
        UserRole.enterprise,
        ent,
        "cfo@qiye.example.com",
    )
    unbound = matchmaker(url, "users", "create", "--username", "qiye2", "--password", PASSWORD,
                         "--role", "enterprise")  # fmt: skip
    assert (
        unbound.returncode != 0
        and "企业用户必须且只能绑定一家企业" in unbound.stdout + unbound.stderr
    )
    staff = matchmaker(url, "users", "create", "--username", "mm9", "--password", PASSWORD,
                       "--role", "matchmaker", "--enterprise-id", str(ent))  # fmt: skip
    assert staff.returncode != 0
    assert set(_users(engine)) == {"qiye1"}  # the refusals left nothing behind


def test_users_invite_prints_a_single_use_link(database: tuple[str, Engine]) -> None:  # noqa: F811
    url, engine = database
    ent = _enterprise(engine)
    invited = matchmaker(url, "users", "invite", "--enterprise-id", str(ent), "--hours", "2")
    assert invited.returncode == 0, invited.stderr
    link = invited.stdout.strip().splitlines()[-1]
    assert "/console/invitation?token=tfi_" in link
    token = link.split("token=", 1)[1]
    with Session(engine) as session:
        user = accept_invitation(session, token, "qiye-inv", PASSWORD, "boss@qiye.example.com")
        session.commit()
        assert (user.role, user.enterprise_id) == (UserRole.enterprise, ent)
    with Session(engine) as session, pytest.raises(DomainError, match="已使用"):
        accept_invitation(session, token, "qiye-inv2", PASSWORD)
    assert set(_users(engine)) == {"qiye-inv"}
