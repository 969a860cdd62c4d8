"""The console's policy pages over HTTP: load the starter catalogue, a refused upload stores
nothing and names its rows, a policy's reach list takes an outreach record, an enterprise's match."""

import csv
import io
import re

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import Policy, PolicyOutreach
from services.imports.catalogue import STARTER_CATALOGUE
from tests.api.conftest import PASSWORD, World
from tests.api.db_state import snapshot


def _csrf(page: str) -> str:
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    return token[1]


def _signed_in(client: TestClient) -> str:
    page = client.get("/console/login")
    client.post("/console/login", data={"username": "mm", "password": PASSWORD,
                                        "csrf_token": _csrf(page.text)})  # fmt: skip
    return _csrf(client.get("/console/policies").text)


def _bad_catalogue() -> bytes:
    rows = list(csv.reader(STARTER_CATALOGUE.read_text(encoding="utf-8").splitlines()))
    rows[2][4] = "不是日期"  # 生效日期 of the second measure
    rows[5][6] = "发糖"  # 扶持方式 of the fifth
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


def test_policy_pages(client: TestClient, world_engine: tuple[Engine, World]) -> None:
    engine, world = world_engine
    token = _signed_in(client)
    before = snapshot(engine)
    refused = client.post("/console/policies/import", data={"csrf_token": token},
                          files={"file": ("政策目录.csv", _bad_catalogue(), "text/csv")})  # fmt: skip
    assert refused.status_code == 422
    assert "2 行有误，未导入任何政策" in refused.text
    assert "第3行" in refused.text and "第6行" in refused.text and "扶持方式" in refused.text
    assert snapshot(engine) == before
    loaded = client.post("/console/policies/starter", data={"csrf_token": token})
    assert loaded.status_code == 200 and "新增 32" in loaded.text
    assert loaded.text.count("待核实</span>") == 32 and "财税〔2018〕55号" in loaded.text
    with Session(engine) as session:
        policy = session.exec(
            select(Policy).where(Policy.document_no == "财政部 税务总局公告2023年第7号")
        ).one()
    reach = client.get(f"/console/policies/{policy.id}")
    assert reach.status_code == 200 and "符合" in reach.text
    told = client.post(f"/console/policies/{policy.id}/outreach", data={
        "csrf_token": token, "enterprise_id": world.enterprise, "channel": "visit",
        "outcome": "interested"})  # fmt: skip
    assert "已记录宣贯" in told.text
    with Session(engine) as session:
        row = session.exec(select(PolicyOutreach)).one()
    assert (row.enterprise_id, row.informed_by, row.channel.value) == (
        world.enterprise,
        "mm",
        "visit",
    )
    match = client.get(f"/console/enterprises/{world.enterprise}/policies")
    assert (
        match.status_code == 200
        and "研发费用税前加计扣除" in match.text
        and "不测算金额" in match.text
    )
