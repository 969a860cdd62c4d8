"""`matchmaker institutions commitments | evaluate | renew` and `matchmaker staff …` end to end
on a file database; a refused command changes nothing."""

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from models import AgreementPeriod, InstitutionEvaluation, TrainingRecord
from models.db import make_engine
from models.migrate import upgrade_to_head
from models.reference import InstitutionKind
from services.pipeline import service as pipeline
from tests import factories as f

BIN = Path(sys.executable).parent / "matchmaker"


def _run(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"DATABASE_URL": f"sqlite:///{db}"}
    return subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip


def _seed(db: Path) -> int:
    engine = make_engine(f"sqlite:///{db}")
    upgrade_to_head(engine)
    with Session(engine) as session:
        f.user(session, username="mm_li")
        bank = f.institution(session, kind=InstitutionKind.bank, agreement_start=date(2025, 1, 1),
                             agreement_end=date(2026, 12, 31))  # fmt: skip
        f.service_commitment(session, institution_id=bank.id, year=2026, unit="万元",
                             description="年度为中心推荐的科技型企业发放贷款", target_value=1000)  # fmt: skip
        demand = f.demand(session, amount_min_wan=400, amount_max_wan=400)
        match = pipeline.introduce(session, demand_id=demand.id or 0, institution_id=bank.id or 0,
                                   actor="mm_li", at=datetime(2026, 2, 1, 2, tzinfo=UTC))  # fmt: skip
        pipeline.record_deal(session, match_id=match.id or 0, amount_wan=400,
                             closed_on=date(2026, 3, 1), actor="mm_li")  # fmt: skip
        session.commit()
        bank_id = bank.id or 0
    engine.dispose()
    return bank_id


def _rows(db: Path, model: Any) -> list[Any]:
    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as session:
        rows = list(session.exec(select(model)).all())
    engine.dispose()
    return rows


def test_institutions_commands(tmp_path: Path) -> None:
    db = tmp_path / "inst.sqlite"
    bank = _seed(db)
    shown = _run(db, "institutions", "commitments", str(bank), "--year", "2026", "--json")
    assert shown.returncode == 0, shown.stderr
    doc = json.loads(shown.stdout)
    line = doc["commitments"][0]
    assert (line["measure"], line["actual"], line["rate"], doc["overall"]) == (
        "loan_amount", 400, 40, 40)  # fmt: skip
    text = _run(db, "institutions", "commitments", str(bank), "--year", "2026")
    assert "实绩 400" in text.stdout and "完成 40%" in text.stdout
    bad = _run(db, "institutions", "evaluate", str(bank), "--year", "2026", "--decision", "drop",
               "--note", "x")  # fmt: skip
    assert (
        bad.returncode == 2 and "评价结论" in bad.stderr and _rows(db, InstitutionEvaluation) == []
    )
    ok = _run(db, "institutions", "evaluate", str(bank), "--year", "2026", "--decision", "warn",
              "--note", "放款未达承诺")  # fmt: skip
    assert ok.returncode == 0 and "警示" in ok.stdout
    assert [e.decision for e in _rows(db, InstitutionEvaluation)] == ["warn"]
    early = _run(
        db, "institutions", "renew", str(bank), "--start", "2024-01-01", "--end", "2027-12-31"
    )
    assert early.returncode == 2 and _rows(db, AgreementPeriod) == []
    renewed = _run(
        db, "institutions", "renew", str(bank), "--start", "2027-01-01", "--end", "2029-12-31"
    )
    assert renewed.returncode == 0 and "2029-12-31" in renewed.stdout
    assert [(p.starts_on, p.ends_on) for p in _rows(db, AgreementPeriod)] == [
        (date(2025, 1, 1), date(2026, 12, 31))]  # fmt: skip
    missing = _run(db, "institutions", "commitments", "999", "--year", "2026")
    assert missing.returncode == 2 and "入驻机构 999 不存在" in missing.stderr


def test_staff_commands(tmp_path: Path) -> None:
    db = tmp_path / "staff.sqlite"
    _seed(db)
    assert (
        _run(db, "staff", "set-post", "--username", "mm_li", "--post", "撮合专员").returncode == 0
    )
    refused = _run(db, "staff", "add-training", "--username", "mm_li", "--date", "2026-01-05",
                   "--topic", "股改实务", "--hours", "-1")  # fmt: skip
    assert refused.returncode == 2 and _rows(db, TrainingRecord) == []
    added = _run(db, "staff", "add-training", "--username", "mm_li", "--date", "2026-01-05",
                 "--topic", "股改实务", "--hours", "4")  # fmt: skip
    assert added.returncode == 0 and len(_rows(db, TrainingRecord)) == 1
    listed = _run(db, "staff", "list", "--year", "2026")
    assert "mm_li" in listed.stdout and "撮合专员" in listed.stdout and "4 学时" in listed.stdout
    load = _run(db, "staff", "workload", "--period", "2026", "--json")
    assert load.returncode == 0, load.stderr
    rows = {r["username"]: r for r in json.loads(load.stdout)["staff"]}
    assert rows["mm_li"] == {"username": "mm_li", "introductions": 1, "meetings": 0, "deals": 1,
                             "amount_wan": 400.0}  # fmt: skip
    assert _run(db, "staff", "workload", "--period", "二〇二六").returncode == 2
