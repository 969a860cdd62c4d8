"""`matchmaker demands show|close|pause|reopen|edit|expire` and `matchmaker deals unlinked|link|
reject-link` end to end (the contracts independent checks call), on a SQLite file."""

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from models import AuditLog, FinancingDemand
from models.db import make_engine
from models.migrate import upgrade_to_head
from models.reference import InstitutionKind
from tests import factories as f

BIN = Path(sys.executable).parent / "matchmaker"


def _run(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"DATABASE_URL": f"sqlite:///{db}"}
    return subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip


def _seed(db: Path) -> dict[str, int]:
    engine = make_engine(f"sqlite:///{db}")
    upgrade_to_head(engine)
    with Session(engine) as session:
        bank = f.institution(session, kind=InstitutionKind.bank)
        ent = f.enterprise(session)
        funded = f.demand(session, ent, amount_min_wan=800.0, amount_max_wan=800.0)
        other = f.demand(session, ent, deadline=date(2025, 6, 30))
        match = f.match(session, funded, bank, introduced_at=datetime(2025, 1, 5, tzinfo=UTC))
        queued = f.deal(session, ent, bank, amount_wan=800.0, closed_on=date(2025, 1, 3))
        ids = {"funded": funded.id, "other": other.id, "match": match.id, "deal": queued.id}
        session.commit()
    engine.dispose()
    return {k: int(v or 0) for k, v in ids.items()}


def _state(db: Path) -> tuple[Any, ...]:
    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as session:
        demands = session.exec(
            select(FinancingDemand.status, FinancingDemand.amount_raised_wan)
        ).all()
        audit = session.exec(select(AuditLog.action)).all()
    engine.dispose()
    return tuple(demands), tuple(audit)


def test_demand_commands(tmp_path: Path) -> None:
    db = tmp_path / "cli.sqlite"
    ids = _seed(db)
    did = str(ids["funded"])
    shown = _run(db, "demands", "show", did, "--json")
    assert shown.returncode == 0, shown.stderr
    state = json.loads(shown.stdout)
    assert (state["status"], state["amount_raised_wan"], state["remaining_wan"]) == (
        "pending",
        0,
        800,
    )
    before = _state(db)
    for args, message in [
        (["--as", "sold"], "--as"),
        (["--as", "funded"], "须填写融资金额"),
        (["--as", "withdrawn", "--amount", "5"], "只有结案为“已融资”"),
    ]:
        refused = _run(db, "demands", "close", did, *args, "--note", "测试")
        assert refused.returncode == 2 and message in refused.stderr, refused.stderr
    assert _state(db) == before
    partial = _run(db, "demands", "close", did, "--as", "funded", "--amount", "500", "--note",
                   "企业接受部分融资", "--user", "mm_li")  # fmt: skip
    assert partial.returncode == 0 and "已融资 500 万元" in partial.stdout, partial.stderr
    state = json.loads(_run(db, "demands", "show", did, "--json").stdout)
    assert (state["status"], state["amount_raised_wan"], state["remaining_wan"]) == (
        "funded",
        500,
        300,
    )
    assert state["history"][0] | {"at": None} == {"field": "status", "old": "pending", "new": "funded",
                                                  "actor": "mm_li", "note": "企业接受部分融资", "at": None}  # fmt: skip
    assert "已重新开放：对接中" in _run(db, "demands", "reopen", did, "--note", "资金未到位").stdout
    edited = _run(db, "demands", "edit", did, "--amount-max", "1000", "--type", "投贷联动",
                  "--note", "企业追加股权融资")  # fmt: skip
    assert edited.returncode == 0 and "融资方式" in edited.stdout, edited.stderr
    assert "已暂停" in _run(db, "demands", "pause", did, "--note", "企业暂缓").stdout
    expired = _run(db, "demands", "expire", "--today", "2025-07-01")
    assert expired.stdout.strip() == f"已过期 1 条需求：[{ids['other']}]"
    withdrawn = _run(db, "demands", "close", did, "--as", "withdrawn", "--note", "企业撤回")
    assert withdrawn.returncode == 0 and "已撤回" in withdrawn.stdout
    missing = _run(db, "demands", "show", "999", "--json")
    assert missing.returncode == 2 and "融资需求 999 不存在" in missing.stderr


def test_deal_queue_commands(tmp_path: Path) -> None:
    db = tmp_path / "queue.sqlite"
    ids = _seed(db)
    listed = _run(db, "deals", "unlinked", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(r["deal_id"], r["amount_wan"], r["candidate_match_ids"]) for r in rows] == [
        (ids["deal"], 800, [])]  # introduced two days after the deal: no candidate  # fmt: skip
    refused = _run(db, "deals", "link", str(ids["deal"]), "--match", str(ids["match"]))
    assert refused.returncode == 2 and "不是成交" in refused.stderr
    rejected = _run(db, "deals", "reject-link", str(ids["deal"]), "--note", "企业自行申请")
    assert rejected.returncode == 0 and "不予关联" in rejected.stdout
    assert json.loads(_run(db, "deals", "unlinked", "--json").stdout) == []
    assert "没有待关联的成交" in _run(db, "deals", "unlinked").stdout
