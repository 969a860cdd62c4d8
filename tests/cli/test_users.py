"""`matchmaker users …` end to end: create (policy), list, set-password, set-role, disable, unlock;
a refused command changes nothing."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from models import AuditLog, User
from models.base import utcnow
from models.db import make_engine
from models.migrate import upgrade_to_head

BIN = Path(sys.executable).parent / "matchmaker"
GOOD = "a-long-and-unusual-passphrase"


def _run(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"DATABASE_URL": f"sqlite:///{db}"}
    return subprocess.run([str(BIN), "users", *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip


def _state(db: Path) -> tuple[Any, ...]:
    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as session:
        users = session.exec(select(User.username, User.password_hash, User.role, User.active,
                                    User.token_version, User.locked_at)).all()  # fmt: skip
        audit = session.exec(select(AuditLog.action)).all()
    engine.dispose()
    return tuple(users), tuple(audit)


def test_users_commands(tmp_path: Path) -> None:
    db = tmp_path / "users.sqlite"
    upgrade_to_head(make_engine(f"sqlite:///{db}"))
    empty = _state(db)
    weak = _run(db, "create", "--username", "boss", "--password", "aaaaaaaa", "--role", "admin")
    assert weak.returncode == 2 and "至少 12 位" in weak.stderr and _state(db) == empty
    for name, password in [
        ("boss", "aaaaaaaaaaaa"),
        ("weakpw3", "weakpw3weakpw3"),
        ("\u0430dmin1", GOOD),
        ("admin1\u0301", GOOD),
    ]:  # #21 item 7
        refused = _run(db, "create", "--username", name, "--password", password, "--role", "admin")
        assert refused.returncode == 2 and "错误：" in refused.stderr and _state(db) == empty
    made = _run(db, "create", "--username", " Boss ", "--password", GOOD, "--role", "admin")
    assert made.returncode == 0 and "已创建用户 boss" in made.stdout
    twin = _run(db, "create", "--username", "BOSS", "--password", GOOD, "--role", "admin")
    assert twin.returncode == 2 and "已存在" in twin.stderr
    before = _state(db)
    common = _run(db, "set-password", "--username", "boss", "--password", "password1234")
    assert common.returncode == 2 and _state(db) == before
    repeated = _run(db, "set-password", "--username", "boss", "--password", "BossBossBoss-1")
    assert repeated.returncode == 2 and "用户名" in repeated.stderr and _state(db) == before
    assert _run(db, "set-password", "--username", "BOSS", "--password", GOOD + "!").returncode == 0
    assert _run(db, "set-role", "--username", "boss", "--role", "matchmaker").returncode == 0
    engine = make_engine(f"sqlite:///{db}")
    with engine.begin() as conn:  # as ten failed logins leave it
        conn.execute(User.__table__.update().values(locked_at=utcnow(), failed_logins=10))  # type: ignore[attr-defined]
    listed = _run(db, "list")
    assert "boss" in listed.stdout and "撮合专员" in listed.stdout and "已锁定" in listed.stdout
    assert _run(db, "unlock", "--username", "boss").returncode == 0
    assert _run(db, "disable", "--username", "boss").returncode == 0
    assert "已停用" in _run(db, "list").stdout
    missing = _run(db, "disable", "--username", "nobody")
    assert missing.returncode == 2 and "不存在" in missing.stderr
    with Session(engine) as session:
        user = session.exec(select(User)).one()
        actions = session.exec(select(AuditLog.action).where(AuditLog.entity == "user")).all()
        rows = session.exec(select(func.count()).select_from(AuditLog)).one()
    assert user.token_version == 3 and user.locked_at is None and not user.active
    assert actions == ["create", "set_password", "set_role", "unlock", "disable"] and rows == 5
