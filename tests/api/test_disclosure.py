"""Consent-gated disclosure, logged; pipeline moves with optimistic concurrency; problem details."""

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import AuditLog, Enterprise
from tests.api.conftest import World, login


def _disclosures(engine: Engine, institution_id: int) -> list[AuditLog]:
    with Session(engine) as session:
        rows = session.exec(select(AuditLog).where(AuditLog.action == "disclose")).all()
    return [r for r in rows if r.detail.get("institution_id") == institution_id]


def test_details_reach_an_institution_only_after_consent_and_are_logged(
    client: TestClient, world: World, world_engine: tuple[Engine, World]
) -> None:
    inst = login(client, "inst_b")
    url = f"/enterprises/{world.enterprise}"
    assert client.get(url, headers=inst).status_code == 404
    assert client.get(f"/teasers/{world.demand}", headers=inst).json()["enterprise"] is None
    consent = {"enterprise_id": world.enterprise, "institution_id": world.inst_b,
               "scopes": ["details", "contacts"], "evidence": "授权书 2025-001"}  # fmt: skip
    assert client.post("/consents", json=consent, headers=login(client, "mm")).status_code == 201
    seen = client.get(url, headers=inst)
    assert seen.status_code == 200 and seen.json()["contacts"][0]["name"] == world.contact_name
    teaser = client.get(f"/teasers/{world.demand}", headers=inst).json()
    assert teaser["demand"]["id"] == world.demand
    logged = _disclosures(world_engine[0], world.inst_b)
    assert {r.detail["scope"] for r in logged} == {"details", "contacts"}


def test_details_without_contacts_scope_hide_the_contacts(client: TestClient, world: World) -> None:
    consent = {
        "enterprise_id": world.enterprise,
        "institution_id": world.inst_b,
        "scopes": ["details"],
    }
    client.post("/consents", json=consent, headers=login(client, "mm"))
    seen = client.get(f"/enterprises/{world.enterprise}", headers=login(client, "inst_b"))
    assert seen.status_code == 200 and "contacts" not in seen.json()
    assert world.contact_phone not in seen.text


def test_revoked_consent_stops_disclosure(client: TestClient, world: World) -> None:
    staff = login(client, "mm")
    consent = {
        "enterprise_id": world.enterprise,
        "institution_id": world.inst_b,
        "scopes": ["details"],
    }
    consent_id = client.post("/consents", json=consent, headers=staff).json()["id"]
    assert client.delete(f"/consents/{consent_id}", headers=staff).status_code == 200
    assert (
        client.get(f"/enterprises/{world.enterprise}", headers=login(client, "inst_b")).status_code
        == 404
    )


def test_two_users_cannot_overwrite_each_others_move(client: TestClient, world: World) -> None:
    staff = login(client, "mm")
    version = client.get(f"/matches/{world.match_a}", headers=staff).json()["version"]
    first = {"to_stage": "meeting", "expected_version": version}
    second = {"to_stage": "closed_lost", "expected_version": version}
    ok = client.post(f"/matches/{world.match_a}/transitions", json=first, headers=staff)
    stale = client.post(
        f"/matches/{world.match_a}/transitions", json=second, headers=login(client, "admin")
    )
    assert ok.status_code == 200 and ok.json()["version"] == version + 1
    assert stale.status_code == 409 and stale.json()["field"] == "expected_version"
    assert client.get(f"/matches/{world.match_a}", headers=staff).json()["stage"] == "meeting"


def test_closed_deal_is_recorded_from_a_match(client: TestClient, world: World) -> None:
    staff = login(client, "mm")
    intro = client.post("/matches", json={"demand_id": world.demand, "institution_id": world.inst_b},
                        headers=staff)  # fmt: skip
    assert intro.status_code == 201 and intro.json()["introduced_at"] is not None
    body = {"match_id": intro.json()["id"], "amount_wan": 800, "closed_on": "2026-01-15"}
    above = client.post("/deals", json=body, headers=staff)  # the demand asks 300–500 万元
    assert above.status_code == 400 and above.json()["field"] == "amount_wan"
    deal = client.post("/deals", json=body | {"confirm_out_of_range": True}, headers=staff)
    assert deal.status_code == 201 and deal.json()["deal_type"] == "equity"
    assert deal.json()["status"] == "confirmed" and deal.json()["decided_by"] == "mm"
    assert (
        client.get(f"/matches/{intro.json()['id']}", headers=staff).json()["stage"] == "closed_won"
    )


def test_invalid_input_is_a_problem_with_chinese_detail_and_field(
    client: TestClient, world: World
) -> None:
    body = {"enterprise_id": world.enterprise, "financing_type": "crowdfunding",
            "amount_min_wan": -1, "amount_max_wan": 2}  # fmt: skip
    response = client.post("/demands", json=body, headers=login(client, "mm"))
    assert response.status_code == 422
    problem = response.json()
    assert problem["status"] == 422 and "请求数据无效" in problem["detail"]
    assert {e["field"] for e in problem["errors"]} >= {"financing_type", "amount_min_wan"}


def test_page_size_is_capped(client: TestClient) -> None:
    response = client.get("/enterprises?limit=5000", headers=login(client, "mm"))
    assert response.status_code == 422 and response.json()["field"] == "limit"


def test_oversized_request_is_refused_with_413(client: TestClient) -> None:
    response = client.post("/enterprises", content=b"x" * (21 * 1024 * 1024),
                           headers=login(client, "mm") | {"content-type": "application/json"})  # fmt: skip
    assert response.status_code == 413


def test_teaser_shows_city_sector_and_band_but_not_the_enterprise(
    client: TestClient, world: World, world_engine: tuple[Engine, World]
) -> None:
    teaser = client.get(f"/teasers/{world.demand}", headers=login(client, "inst_b"))
    body = teaser.json()["teaser"]
    assert body["region"] == "深圳市" and body["sector"] == "软件和信息技术服务业"
    assert body["amount_band"] == "100–500万元" and body["financing_type"] == "贷款"
    with Session(world_engine[0]) as session:
        ent = session.get(Enterprise, world.enterprise)
        assert ent is not None
        assert ent.legal_name not in teaser.text and str(ent.uscc) not in teaser.text


def test_oversized_chunked_upload_is_refused_while_it_streams(client: TestClient) -> None:
    def chunks():  # no Content-Length: the size is counted as the body streams (api.guards)
        for _ in range(21):
            yield b"x" * (1024 * 1024)

    boundary = "bnd"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\n'
    )
    body = b"".join([head.encode(), *chunks(), f"\r\n--{boundary}--\r\n".encode()])
    headers = login(client, "mm") | {"content-type": f"multipart/form-data; boundary={boundary}"}
    response = client.post("/imports", content=iter([body]), headers=headers)
    assert response.status_code == 413 and "20 MB" in response.json()["detail"]
