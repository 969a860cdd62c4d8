"""Issue 21, findings 1, 2, 11 and 16: an institution only requests and declines; nothing that
identifies an enterprise reaches it without consent; its deals are claims until confirmed; a
move records the stage it left; teasers follow the digests' rules."""

import re
from datetime import date, timedelta
from typing import Any
from urllib.parse import unquote

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from cli import app as cli
from models import AuditLog, Deal, Enterprise, FinancingDemand, MatchTransition
from models.reference import Confidentiality, DealStatus, DemandStatus
from tests import factories
from tests.api.conftest import World, login
from tests.api.db_state import snapshot

PASSWORD_FORM = "correct-horse-battery"
# A close day after the introduction (made today), so the deal counts as brokered once confirmed.
CLOSED_ON = (date.today() + timedelta(days=1)).isoformat()


def _names(engine: Engine, enterprise_id: int) -> tuple[str, str]:
    with Session(engine) as session:
        ent = session.get(Enterprise, enterprise_id)
        assert ent is not None
        return ent.legal_name, ent.uscc or ""


def _advance(client: TestClient, match_id: int, *stages: str) -> dict[str, Any]:
    staff = login(client, "mm")
    body: dict[str, Any] = {}
    for stage in stages:
        version = client.get(f"/matches/{match_id}", headers=staff).json()["version"]
        response = client.post(f"/matches/{match_id}/transitions", headers=staff,
                               json={"to_stage": stage, "expected_version": version})  # fmt: skip
        assert response.status_code == 200, response.text
        body = response.json()
    return body


def _introduce_b(client: TestClient, world: World) -> int:
    """Staff introduce institution B to the world's demand and bring it to term sheet."""
    intro = client.post("/matches", json={"demand_id": world.demand, "institution_id": world.inst_b},
                        headers=login(client, "mm"))  # fmt: skip
    assert intro.status_code == 201
    match_id: int = intro.json()["id"]
    _advance(client, match_id, "meeting", "due_diligence", "term_sheet")
    return match_id


def _brokered_amount(client: TestClient) -> float:
    end = date.today().year + 1
    table = client.get(f"/evaluation/appendix-a?from=2025-01-01&to={end}-12-31",
                       headers=login(client, "mm"))  # fmt: skip
    assert table.status_code == 200, table.text
    figures = [f for line in table.json()["lines"] for f in line["figures"]] if "lines" in (
        table.json()) else table.json()["figures"]  # fmt: skip
    return sum(float(f["value"]) for f in figures if f["key"].endswith("_amount"))


# Finding 1 ----------------------------------------------------------------------------------


def test_an_institution_cannot_move_its_requested_match_only_decline_it(
    client: TestClient, world: World, world_engine: tuple[Engine, World]
) -> None:
    engine = world_engine[0]
    inst = login(client, "inst_b")
    asked = client.post("/introduction-requests", json={"demand_id": world.demand}, headers=inst)
    assert asked.status_code == 201 and asked.json()["stage"] == "recommended"
    match_id = asked.json()["id"]
    before = snapshot(engine)
    for stage in ("introduced", "meeting", "due_diligence", "term_sheet", "closed_won"):
        moved = client.post(f"/matches/{match_id}/transitions", headers=inst,
                            json={"to_stage": stage, "expected_version": 1})  # fmt: skip
        assert moved.status_code == 403 and moved.json()["field"] == "to_stage", stage
    assert snapshot(engine) == before
    declined = client.post(f"/matches/{match_id}/transitions", headers=inst,
                           json={"to_stage": "closed_lost", "expected_version": 1})  # fmt: skip
    assert declined.status_code == 200 and declined.json()["stage"] == "closed_lost"


def _console_login(client: TestClient, username: str) -> str:
    page = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    done = client.post("/console/login", follow_redirects=False,
                       data={"username": username, "password": PASSWORD_FORM,
                             "csrf_token": token[1]})  # fmt: skip
    assert done.status_code == 303, done.text
    return username


def _csrf(page: str) -> str:
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    return token[1]


def test_the_console_names_the_enterprise_only_under_consent_and_logs_it(
    client: TestClient, world: World, world_engine: tuple[Engine, World]
) -> None:
    engine = world_engine[0]
    name, uscc = _names(engine, world.enterprise)
    match_id = _introduce_b(client, world)  # at term sheet: listed under 待确认成交
    _console_login(client, "inst_b")
    home = f"/console/institutions/{world.inst_b}"
    page = client.get(home)
    assert page.status_code == 200 and f"#{match_id}" in page.text
    assert name not in page.text and uscc not in page.text

    staff = login(client, "mm")
    consent = client.post("/consents", headers=staff, json={
        "enterprise_id": world.enterprise, "institution_id": world.inst_b, "scopes": ["details"]})  # fmt: skip
    with Session(engine) as session:
        logged_before = len(
            session.exec(select(AuditLog).where(AuditLog.action == "disclose")).all()
        )
    shown = client.get(home)
    assert name in shown.text
    with Session(engine) as session:
        rows = session.exec(select(AuditLog).where(AuditLog.action == "disclose")).all()
    new = rows[logged_before:]
    assert [(r.actor, r.entity_id, r.detail["institution_id"]) for r in new] == [
        ("inst_b", str(world.enterprise), world.inst_b)
    ]

    assert client.delete(f"/consents/{consent.json()['id']}", headers=staff).status_code == 200
    assert name not in client.get(home).text


def test_no_api_response_of_the_pipeline_names_the_enterprise_or_its_id(
    client: TestClient, world: World, world_engine: tuple[Engine, World]
) -> None:
    name, uscc = _names(world_engine[0], world.enterprise)
    match_id = _introduce_b(client, world)
    inst = login(client, "inst_b")
    claim = client.post("/deals", headers=inst, json={
        "match_id": match_id, "amount_wan": 400, "closed_on": "2026-01-15"})  # fmt: skip
    assert claim.status_code == 201 and claim.json()["enterprise_id"] is None
    for url in ("/matches", f"/matches/{match_id}", "/deals", f"/deals/{claim.json()['id']}",
                "/teasers", f"/teasers/{world.demand}"):  # fmt: skip
        text = client.get(url, headers=inst).text
        assert name not in text and uscc not in text, url
    assert all(
        d["enterprise_id"] is None for d in client.get("/deals", headers=inst).json()["data"]
    )


# Finding 2 ----------------------------------------------------------------------------------


def test_an_institutions_deal_is_a_claim_that_counts_only_once_confirmed(
    client: TestClient, world: World, world_engine: tuple[Engine, World]
) -> None:
    engine = world_engine[0]
    counted = _brokered_amount(client)
    match_id = _introduce_b(client, world)
    inst = login(client, "inst_b")
    body = {"match_id": match_id, "amount_wan": 10_000_000, "closed_on": CLOSED_ON}
    claim = client.post("/deals", json=body, headers=inst)
    assert claim.status_code == 201 and claim.json()["status"] == "claimed"
    assert client.get(f"/matches/{match_id}", headers=inst).json()["stage"] == "term_sheet"
    assert _brokered_amount(client) == counted

    staff = login(client, "mm")  # logins are audited: log in before the snapshot
    before = snapshot(engine)
    again = client.post("/deals", json=body, headers=inst)
    assert again.status_code == 409 and again.json()["field"] == "match_id"
    split = client.post("/deals", json=body | {"split": True}, headers=inst)
    assert split.status_code == 403
    own = client.post(f"/deals/{claim.json()['id']}/confirm", json={}, headers=inst)
    assert own.status_code == 403
    unconfirmed = client.post(f"/deals/{claim.json()['id']}/confirm", json={}, headers=staff)
    assert unconfirmed.status_code == 400 and unconfirmed.json()["field"] == "amount_wan"
    assert snapshot(engine) == before

    confirmed = client.post(f"/deals/{claim.json()['id']}/confirm", headers=staff,
                            json={"confirm_out_of_range": True})  # fmt: skip
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    assert confirmed.json()["decided_by"] == "mm"
    assert client.get(f"/matches/{match_id}", headers=staff).json()["stage"] == "closed_won"
    assert _brokered_amount(client) == counted + 10_000_000
    before = snapshot(engine)
    twice = client.post(f"/deals/{claim.json()['id']}/reject", json={}, headers=staff)
    assert twice.status_code == 409 and snapshot(engine) == before


def test_a_rejected_claim_never_counts_and_the_match_may_be_claimed_again(
    client: TestClient, world: World
) -> None:
    counted = _brokered_amount(client)
    match_id = _introduce_b(client, world)
    inst, staff = login(client, "inst_b"), login(client, "mm")
    body = {"match_id": match_id, "amount_wan": 450, "closed_on": CLOSED_ON}
    claim = client.post("/deals", json=body, headers=inst).json()
    rejected = client.post(f"/deals/{claim['id']}/reject", json={"reason": "无放款凭证"},
                           headers=staff)  # fmt: skip
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert _brokered_amount(client) == counted
    again = client.post("/deals", json=body, headers=inst)
    assert again.status_code == 201 and again.json()["status"] == "claimed"


def test_an_institution_cannot_claim_a_deal_before_term_sheet(
    client: TestClient, world: World, world_engine: tuple[Engine, World]
) -> None:
    inst = login(client, "inst_b")
    match_id = client.post("/introduction-requests", json={"demand_id": world.demand},
                           headers=inst).json()["id"]  # fmt: skip
    before = snapshot(world_engine[0])
    claim = client.post("/deals", headers=inst, json={
        "match_id": match_id, "amount_wan": 400, "closed_on": "2026-01-15"})  # fmt: skip
    assert claim.status_code == 400 and claim.json()["field"] == "match_id"
    assert snapshot(world_engine[0]) == before


def test_staff_record_one_deal_per_match_unless_they_split_it(
    client: TestClient, world: World, world_engine: tuple[Engine, World]
) -> None:
    staff = login(client, "mm")  # match A already has its deal (seeded, confirmed)
    body = {"match_id": world.match_a, "amount_wan": 100, "closed_on": "2026-01-15"}
    before = snapshot(world_engine[0])
    second = client.post("/deals", json=body, headers=staff)
    assert second.status_code == 409 and second.json()["field"] == "match_id"
    assert snapshot(world_engine[0]) == before
    split = client.post("/deals", json=body | {"split": True}, headers=staff)
    assert split.status_code == 201 and split.json()["status"] == "confirmed"


# Finding 11 ---------------------------------------------------------------------------------


def test_a_move_records_the_stage_it_left_in_history_and_audit(
    client: TestClient, world: World, world_engine: tuple[Engine, World]
) -> None:
    _advance(client, world.match_a, "meeting", "due_diligence")
    with Session(world_engine[0]) as session:
        moves = session.exec(select(MatchTransition).where(
            MatchTransition.match_id == world.match_a).order_by(col(MatchTransition.id))).all()  # fmt: skip
        audit = session.exec(select(AuditLog).where(AuditLog.action == "transition",
                             AuditLog.entity_id == str(world.match_a))
                             .order_by(col(AuditLog.id))).all()  # fmt: skip
    assert [(m.from_stage, m.to_stage) for m in moves] == [
        ("introduced", "meeting"), ("meeting", "due_diligence")]  # fmt: skip
    assert [(a.detail["from"], a.detail["to"]) for a in audit] == [
        ("introduced", "meeting"), ("meeting", "due_diligence")]  # fmt: skip


# Finding 16 ---------------------------------------------------------------------------------


def _demand(engine: Engine, world: World, **over: Any) -> int:
    with Session(engine) as session:
        ent = session.get(Enterprise, world.enterprise)
        assert ent is not None
        demand = factories.demand(session, ent, **over)
        session.commit()
        return demand.id or 0


def _listed(client: TestClient, headers: dict[str, str]) -> set[int]:
    rows = client.get("/teasers?limit=200", headers=headers).json()["data"]
    return {r["demand_id"] for r in rows}


def test_confidential_teasers_reach_only_chosen_institutions_and_closed_ones_nobody(
    client: TestClient, world: World, world_engine: tuple[Engine, World]
) -> None:
    engine = world_engine[0]
    secret = _demand(engine, world, confidentiality=Confidentiality.confidential)
    closed = _demand(engine, world, status=DemandStatus.funded)
    inst = login(client, "inst_b")
    assert secret not in _listed(client, inst) and closed not in _listed(client, inst)
    assert world.demand in _listed(client, inst)
    before = snapshot(engine)
    for demand_id in (secret, closed):
        assert client.get(f"/teasers/{demand_id}", headers=inst).status_code == 404
        asked = client.post("/introduction-requests", json={"demand_id": demand_id}, headers=inst)
        assert asked.status_code == 404 and asked.json()["field"] == "demand_id"
    assert snapshot(engine) == before
    _console_login(client, "inst_b")
    page = client.get(f"/console/institutions/{world.inst_b}/teasers").text
    assert f"#{secret}<" not in page and f"#{closed}<" not in page and f"#{world.demand}<" in page

    client.post("/consents", headers=login(client, "mm"), json={
        "enterprise_id": world.enterprise, "institution_id": world.inst_b, "scopes": ["financials"]})  # fmt: skip
    assert secret in _listed(client, inst) and closed not in _listed(client, inst)
    assert client.get(f"/teasers/{secret}", headers=inst).status_code == 200
    assert client.get(f"/teasers/{closed}", headers=inst).status_code == 404
    assert f"#{secret}<" in client.get(f"/console/institutions/{world.inst_b}/teasers").text
    assert secret not in _listed(client, login(client, "inst_a"))  # chose B, not A
    with Session(engine) as session:
        assert session.get(FinancingDemand, secret) is not None


# Low: bounded free text ---------------------------------------------------------------------


def test_an_overlong_purpose_is_refused_naming_the_field(
    client: TestClient, world: World, world_engine: tuple[Engine, World]
) -> None:
    body = {"enterprise_id": world.enterprise, "financing_type": "loan", "amount_min_wan": 1,
            "amount_max_wan": 2, "purpose": "流动资金" * 126}  # fmt: skip
    staff = login(client, "mm")
    before = snapshot(world_engine[0])
    response = client.post("/demands", json=body, headers=staff)
    assert response.status_code == 422 and response.json()["field"] == "purpose"
    assert snapshot(world_engine[0]) == before
    ok = client.post("/demands", json=body | {"purpose": "流动资金" * 125}, headers=staff)
    assert ok.status_code == 201


# Low: LIKE wildcards ------------------------------------------------------------------------


def test_search_matches_wildcards_literally(client: TestClient, world: World) -> None:
    staff = login(client, "mm")
    everyone = client.get("/enterprises?limit=200", headers=staff).json()["count"]
    assert everyone >= 2
    for q in ("%", "_", "测试%", "\\"):
        found = client.get("/enterprises", params={"q": q}, headers=staff)
        assert found.status_code == 200 and found.json()["count"] == 0, q
    assert client.get("/enterprises", params={"q": "测试"}, headers=staff).json()["count"] >= 2


# The console: an institution claims, a matchmaker confirms from the workbench --------------


def test_console_claim_then_matchmaker_confirms_it_on_the_workbench(
    client: TestClient, world: World, world_engine: tuple[Engine, World]
) -> None:
    match_id = _introduce_b(client, world)
    _console_login(client, "inst_b")
    home = client.get(f"/console/institutions/{world.inst_b}")
    claimed = client.post(f"/console/matches/{match_id}/deal", follow_redirects=False, data={
        "amount_wan": "450", "closed_on": CLOSED_ON, "csrf_token": _csrf(home.text)})  # fmt: skip
    assert claimed.status_code == 303
    with Session(world_engine[0]) as session:
        deal = session.exec(select(Deal).where(Deal.match_id == match_id)).one()
        assert deal.status == DealStatus.claimed
    assert "待确认" in client.get(f"/console/institutions/{world.inst_b}").text
    before = snapshot(world_engine[0])
    moved = client.post(f"/console/matches/{match_id}/move", follow_redirects=False, data={
        "to_stage": "closed_won", "expected_version": "4", "csrf_token": _csrf(home.text)})  # fmt: skip
    assert moved.status_code == 303 and snapshot(world_engine[0]) == before  # refused, shown
    assert "入驻机构只能谢绝撮合" in unquote(moved.headers["set-cookie"])

    _console_login(client, "mm")
    workbench = client.get("/console/")
    assert f'id="claim-{deal.id}"' in workbench.text and "乙创业投资有限公司" in workbench.text
    done = client.post(f"/console/deals/{deal.id}/confirm", follow_redirects=False,
                       data={"csrf_token": _csrf(workbench.text)})  # fmt: skip
    assert done.status_code == 303
    with Session(world_engine[0]) as session:
        deal = session.get(Deal, deal.id)
        assert deal is not None and deal.status == DealStatus.confirmed and deal.decided_by == "mm"
    assert f'id="claim-{deal.id}"' not in client.get("/console/").text


def test_cli_lists_confirms_and_refuses_to_decide_twice(
    client: TestClient, world: World, world_engine: tuple[Engine, World], monkeypatch: Any
) -> None:
    engine = world_engine[0]
    match_id = _introduce_b(client, world)
    claim = client.post("/deals", headers=login(client, "inst_b"), json={
        "match_id": match_id, "amount_wan": 450, "closed_on": CLOSED_ON}).json()  # fmt: skip
    monkeypatch.setattr("models.db._engine", engine)
    runner = CliRunner()
    listed = runner.invoke(cli, ["deals", "list"])
    assert listed.exit_code == 0 and f"#{claim['id']}" in listed.output
    done = runner.invoke(cli, ["deals", "confirm", str(claim["id"]), "--user", "mm-cli"])
    assert done.exit_code == 0 and "已确认成交" in done.output
    before = snapshot(engine)
    again = runner.invoke(cli, ["deals", "reject", str(claim["id"])])
    assert again.exit_code == 2 and "已确认" in again.output
    assert snapshot(engine) == before
    with Session(engine) as session:
        deal = session.get(Deal, claim["id"])
        assert deal is not None and deal.decided_by == "mm-cli"
