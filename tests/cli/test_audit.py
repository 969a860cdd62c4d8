"""`matchmaker audit verify` finds a row altered directly in the database, at that row, and, with
a signed anchor (`matchmaker audit anchor`), a deleted tail, a recomputed chain and a tampered
anchor file."""

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models.audit import AuditLog
from models.db import make_engine
from models.migrate import upgrade_to_head
from services.audit.repository import GENESIS, append_audit, row_digest

BIN = Path(sys.executable).parent / "matchmaker"
ANCHOR_KEY = "audit-anchor-test-key-0123456789abcdefghij"


def _env(db: Path) -> dict[str, str]:
    return os.environ | {"DATABASE_URL": f"sqlite:///{db}", "AUDIT_ANCHOR_KEY": ANCHOR_KEY,
                         "AUDIT_ANCHOR_PATH": str(db.parent / "anchors.jsonl")}  # fmt: skip


def _cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), "audit", *args], env=_env(db), capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip


def _verify(db: Path) -> subprocess.CompletedProcess[str]:
    return _cli(db, "verify")


def _chain(tmp_path: Path, rows: int = 10) -> tuple[Path, Engine, list[int]]:
    db = tmp_path / "audit.sqlite"
    engine = make_engine(f"sqlite:///{db}")
    upgrade_to_head(engine)
    with Session(engine) as session:
        ids = [append_audit(session, actor="mm", action="read", entity="enterprise", entity_id=i).id
               for i in range(rows)]  # fmt: skip
        session.commit()
    return db, engine, [i or 0 for i in ids]


def test_audit_verify_reports_the_altered_row(tmp_path: Path) -> None:
    db, engine, ids = _chain(tmp_path)
    unanchored = _verify(db)  # intact, but without an anchor a deleted tail could not be seen
    assert unanchored.returncode == 3 and "共校验 10 条" in unanchored.stdout
    assert "未找到审计锚点" in unanchored.stderr and "无法发现尾部记录被删除" in unanchored.stderr
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_log SET detail = '{\"x\": 1}' WHERE id = :i"), {"i": ids[6]}
        )
    broken = _verify(db)
    assert broken.returncode == 1 and f"第 {ids[6]} 条" in broken.stderr


def _anchored(tmp_path: Path) -> tuple[Path, Engine, list[int]]:
    db, engine, ids = _chain(tmp_path)
    anchored = _cli(db, "anchor")
    assert anchored.returncode == 0 and "共 10 条" in anchored.stdout, anchored.stderr
    intact = _verify(db)
    assert intact.returncode == 0 and "与最新锚点一致" in intact.stdout, intact.stderr
    return db, engine, ids


def test_verify_detects_deleted_tail_rows_against_the_anchor(tmp_path: Path) -> None:
    db, engine, ids = _anchored(tmp_path)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id >= :i"), {"i": ids[7]})
    broken = _verify(db)
    assert broken.returncode == 1
    assert "少于锚点" in broken.stderr and "尾部记录被删除" in broken.stderr


def test_verify_detects_a_recomputed_chain_after_an_edit(tmp_path: Path) -> None:
    db, engine, ids = _anchored(tmp_path)
    with Session(engine) as session:  # the attacker rewrites row 3 and recomputes every hash
        rows = list(session.exec(select(AuditLog).order_by(col(AuditLog.id))))
    prev = GENESIS
    with engine.begin() as conn:
        for row in rows:
            if row.id == ids[3]:
                row.detail = {"forged": True}
            row.prev_hash = prev
            row.row_hash = row_digest(row)
            conn.execute(text("UPDATE audit_log SET detail = :d, prev_hash = :p, row_hash = :h "
                              "WHERE id = :i"), {"d": json.dumps(row.detail), "p": row.prev_hash,
                                                 "h": row.row_hash, "i": row.id})  # fmt: skip
            prev = row.row_hash
    broken = _verify(db)
    assert broken.returncode == 1 and "链被重算" in broken.stderr, broken.stderr


def test_verify_detects_a_tampered_anchor_file(tmp_path: Path) -> None:
    db, engine, ids = _anchored(tmp_path)
    with engine.begin() as conn:  # the tail goes, and the anchor is edited to match
        conn.execute(text("DELETE FROM audit_log WHERE id >= :i"), {"i": ids[7]})
    anchors = tmp_path / "anchors.jsonl"
    line = json.loads(anchors.read_text())
    line |= {"rows": 7, "last_id": ids[6]}
    anchors.write_text(json.dumps(line) + "\n")
    broken = _verify(db)
    assert broken.returncode == 1 and "签名无效" in broken.stderr, broken.stderr


def test_anchor_task_appends_a_signed_line(tmp_path: Path) -> None:
    db, _, _ = _chain(tmp_path, rows=3)
    env = _env(db)
    script = "from workers.tasks import anchor_audit_chain; print(anchor_audit_chain())"
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0 and done.stdout.strip() == "3", done.stderr
    assert json.loads((tmp_path / "anchors.jsonl").read_text())["rows"] == 3
    assert _verify(db).returncode == 0


def test_serve_start_writes_an_anchor_so_a_deleted_tail_is_found(tmp_path: Path) -> None:
    """#21 item 10: `matchmaker serve` alone (no Celery beat) anchors the chain as it starts; a
    tail deleted afterwards fails `audit verify`, and so does deleting the anchor file too."""
    db, engine, ids = _chain(tmp_path)
    env = _env(db) | {"SECRET_KEY": "serve-test-secret-key-0123456789-abcdefghijklmnop"}
    script = ("import uvicorn; uvicorn.run = lambda *a, **k: print('served'); "
              "from cli import app; app(['serve'])")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0 and "served" in done.stdout, done.stderr
    assert "已写入审计锚点：共 10 条" in done.stdout
    assert json.loads((tmp_path / "anchors.jsonl").read_text())["rows"] == 10
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id >= :i"), {"i": ids[7]})
    broken = _verify(db)
    assert broken.returncode == 1 and "尾部记录被删除" in broken.stderr, broken.stderr
    (tmp_path / "anchors.jsonl").unlink()
    assert _verify(db).returncode == 3


def test_serve_under_an_ephemeral_key_writes_no_anchor(tmp_path: Path) -> None:
    db, _, _ = _chain(tmp_path, rows=2)
    env = {k: v for k, v in _env(db).items() if k not in ("SECRET_KEY", "AUDIT_ANCHOR_KEY")}
    script = ("import uvicorn; uvicorn.run = lambda *a, **k: print('served'); "
              "from cli import app; app(['serve'])")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=120, check=False, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0 and "served" in done.stdout, done.stderr
    assert "不写审计锚点" in done.stderr and not (tmp_path / "anchors.jsonl").exists()
