"""The console's 入驻机构 and 工作人员 pages: the in-force count, commitments against actuals,
evaluation and renewal forms by role, the staff roster, file and workload."""

import re
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.main import create_app
from models import AgreementPeriod, InstitutionEvaluation, StaffProfile, TrainingRecord, User
from models.reference import UserRole
from models.settings import Settings
from services.accounts.service import create_user
from tests import factories
from tests.api.web.conftest import PASSWORD, SECRET


@pytest.fixture
def console(committing_engine: Engine) -> Iterator[tuple[TestClient, int]]:
    with Session(committing_engine) as session:
        bank = factories.institution(session, kind="bank", name="甲科创银行",
                                     agreement_start=date(2024, 1, 1), agreement_end=None)  # fmt: skip
        factories.institution(session, name="乙已到期创投", agreement_start=date(2020, 1, 1),
                              agreement_end=date(2021, 12, 31))  # fmt: skip
        factories.service_commitment(session, institution_id=bank.id, year=None, unit="场",
                                     description="年度参加中心组织的银企对接活动", target_value=4)  # fmt: skip
        for name, role in (("root", UserRole.admin), ("mm", UserRole.matchmaker),
                           ("eva", UserRole.evaluator)):  # fmt: skip
            create_user(session, name, PASSWORD, role, None)
        session.commit()
        bank_id = bank.id or 0
    app = create_app(
        Settings(secret_key=SECRET, database_url="sqlite://"), engine=committing_engine
    )
    with TestClient(app) as client:
        yield client, bank_id


def _login(client: TestClient, username: str) -> str:
    client.cookies.clear()
    page = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    client.post("/console/login", data={"username": username, "password": PASSWORD,
                                         "csrf_token": token[1]})  # fmt: skip
    home = client.get("/console/residents")
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/").text)
    assert home.status_code == 200 or username == "eva"
    return found[1] if found else ""


def _rows(engine: Engine, model: type) -> list[object]:
    with Session(engine) as session:
        return list(session.exec(select(model)).all())


def test_residents_commitments_evaluation_and_renewal(
    console: tuple[TestClient, int], committing_engine: Engine
) -> None:
    client, bank = console
    csrf = _login(client, "mm")
    assert (
        "入驻协议在约的机构 <strong>1</strong> 家（共登记 2 家）"
        in client.get("/console/residents").text
    )
    home = client.get("/console/").text
    assert re.search(r"<strong>1</strong><span>入驻机构（协议在约）", home)
    page = client.get(f"/console/residents/{bank}?year=2025").text
    assert "年度参加中心组织的银企对接活动" in page and "参加中心路演场次" in page
    assert "记录评价" in page and "续签" not in page.split("入驻协议</h2>")[1]
    done = client.post(f"/console/residents/{bank}/evaluate",
                       data={"csrf_token": csrf, "year": "2025", "decision": "warn", "note": "路演参与不足"})  # fmt: skip
    assert done.status_code == 200 and "已记录 2025 年度评价：警示" in done.text
    refused = client.post(f"/console/residents/{bank}/renew",
                          data={"csrf_token": csrf, "start": "2030-01-01", "end": ""})  # fmt: skip
    assert refused.status_code == 403 and _rows(committing_engine, AgreementPeriod) == []
    csrf = _login(client, "root")
    renewed = client.post(f"/console/residents/{bank}/renew",
                          data={"csrf_token": csrf, "start": "2030-01-01", "end": ""})  # fmt: skip
    assert renewed.status_code == 200 and "已续签 甲科创银行" in renewed.text
    assert len(_rows(committing_engine, AgreementPeriod)) == 1
    _login(client, "eva")
    assert "路演参与不足" in client.get(f"/console/residents/{bank}?year=2025").text
    assert len(_rows(committing_engine, InstitutionEvaluation)) == 1


def test_staff_roster_file_and_workload(
    console: tuple[TestClient, int], committing_engine: Engine
) -> None:
    client, _ = console
    with Session(committing_engine) as session:
        mm_id = session.exec(select(User.id).where(User.username == "mm")).one()
    csrf = _login(client, "root")
    client.post(f"/console/staff/{mm_id}/post", data={"csrf_token": csrf, "post": "撮合专员"})
    trained = client.post(f"/console/staff/{mm_id}/trainings", data={
        "csrf_token": csrf, "day": "2025-05-06", "topic": "科创板规则", "hours": "6"})  # fmt: skip
    assert trained.status_code == 200 and "已登记培训“科创板规则”" in trained.text
    assert "合计 6 学时" in trained.text
    roster = client.get("/console/staff?period=2025").text
    assert "撮合专员" in roster and "2025年工作量与成果" in roster and ">eva<" not in roster
    csrf = _login(client, "mm")
    refused = client.post(f"/console/staff/{mm_id}/trainings", data={
        "csrf_token": csrf, "day": "2025-05-07", "topic": "自己登记", "hours": "2"})  # fmt: skip
    assert refused.status_code == 403
    assert len(_rows(committing_engine, TrainingRecord)) == 1
    assert len(_rows(committing_engine, StaffProfile)) == 1
    _login(client, "eva")
    assert client.get("/console/staff").status_code == 403
