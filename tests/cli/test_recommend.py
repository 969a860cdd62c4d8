"""`matchmaker recommend ID --json`: items carry kind, leg, guarantor and annual cost; near misses
their failure codes (issue #24)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session

from models.db import make_engine
from models.reference import FinancingType, InstitutionKind, Stage
from tests import factories as f

BIN = Path(sys.executable).parent / "matchmaker"


def _center(url: str) -> int:
    """A mixed demand; a bank's 银担合作 loan, a guarantor, a credit loan the firm's amount
    misses, and a growth fund."""
    engine = make_engine(url)
    with Session(engine) as session:
        bank = f.institution(session, kind=InstitutionKind.bank)
        f.loan_product(session, bank, name="订单贷", collateral_accepted=["guarantee"],
                       max_amount_wan=3000.0, rate_min_pct=4.0, rate_max_pct=4.4)  # fmt: skip
        f.loan_product(session, bank, name="小额信用贷", max_amount_wan=300.0)
        g = f.institution(session, kind=InstitutionKind.guarantee, short_name="鹏城担保")
        f.loan_product(session, g, name="科技融资担保", max_amount_wan=3000.0, rate_min_pct=1.0,
                       rate_max_pct=1.4)  # fmt: skip
        f.mandate(session, f.institution(session), sectors=["I65"], stages=[Stage.growth])
        dem = f.demand(session, financing_type=FinancingType.mixed, amount_min_wan=5000.0,
                       amount_max_wan=5000.0, equity_amount_wan=3000.0)  # fmt: skip
        session.commit()
        demand_id = dem.id or 0
    engine.dispose()
    return demand_id


def test_recommend_json_carries_kind_leg_guarantor_cost_and_failure_codes(
    tmp_path: Path, sqlite_template: Path
) -> None:
    path = tmp_path / "db.sqlite"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    demand_id = _center(url)
    env = os.environ | {"DATABASE_URL": url}
    done = subprocess.run([str(BIN), "recommend", str(demand_id), "--json", "--today", "2025-06-01"],
                          env=env, capture_output=True, text=True, timeout=300, check=True)  # fmt: skip
    data = json.loads(done.stdout)
    items = {(i["leg"], i["kind"]): i for i in data["items"]}
    assert set(items) == {("equity", "equity"), ("loan", "loan+guarantee")}
    paired = items["loan", "loan+guarantee"]
    assert paired["guarantor_name"] == "鹏城担保" and paired["guarantor_institution_id"] > 0
    assert paired["annual_cost_pct"] == pytest.approx(4.2 + 1.2)
    assert items["equity", "equity"]["annual_cost_pct"] is None
    codes = {m["product_name"]: [x["code"] for x in m["failures"]] for m in data["near_misses"]}
    assert codes["小额信用贷"] == ["ticket"]
    assert [leg["leg"] for leg in data["legs"]] == ["equity", "loan"]
    table = subprocess.run([str(BIN), "recommend", str(demand_id), "--today", "2025-06-01"],
                           env=env, capture_output=True, text=True, timeout=300, check=True)  # fmt: skip
    assert "【股权部分】3,000–3,000 万元" in table.stdout
    assert "银担合作：由鹏城担保提供担保（担保费率约 1.20%/年）" in table.stdout
