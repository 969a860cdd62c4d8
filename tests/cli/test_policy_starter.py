"""`matchmaker policy starter` loads the real starter catalogue, every measure marked 待核实."""

import os
import subprocess
import sys
from pathlib import Path

from sqlmodel import Session, select

from models import Policy
from models.db import make_engine
from models.migrate import upgrade_to_head

BIN = Path(sys.executable).parent / "matchmaker"


def test_policy_starter_loads_and_refreshes(tmp_path: Path) -> None:
    db = tmp_path / "policy.sqlite"
    upgrade_to_head(make_engine(f"sqlite:///{db}"))
    env = os.environ | {"DATABASE_URL": f"sqlite:///{db}"}
    run = [str(BIN), "policy", "starter", "--user", "tester"]
    first = subprocess.run(run, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert first.returncode == 0, first.stderr
    assert "新增 32" in first.stdout and "待核实" in first.stdout
    again = subprocess.run(run, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert "新增 0" in again.stdout and "未变 32" in again.stdout
    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as session:
        flags = session.exec(select(Policy.to_verify)).all()
    engine.dispose()
    assert len(flags) == 32 and all(flags)
