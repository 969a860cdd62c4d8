"""`matchmaker audit verify` finds a row altered directly in the database, at that row."""

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text
from sqlmodel import Session

from models.db import make_engine
from models.migrate import upgrade_to_head
from models.repositories.audit import append_audit

BIN = Path(sys.executable).parent / "matchmaker"


def _verify(db: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"DATABASE_URL": f"sqlite:///{db}"}
    return subprocess.run([str(BIN), "audit", "verify"], env=env, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip


def test_audit_verify_reports_the_altered_row(tmp_path: Path) -> None:
    db = tmp_path / "audit.sqlite"
    engine = make_engine(f"sqlite:///{db}")
    upgrade_to_head(engine)
    with Session(engine) as session:
        ids = [append_audit(session, actor="mm", action="read", entity="enterprise", entity_id=i).id
               for i in range(10)]  # fmt: skip
        session.commit()
    intact = _verify(db)
    assert intact.returncode == 0 and "共校验 10 条" in intact.stdout
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_log SET detail = '{\"x\": 1}' WHERE id = :i"), {"i": ids[6]}
        )
    broken = _verify(db)
    assert broken.returncode == 1 and f"第 {ids[6]} 条" in broken.stderr
