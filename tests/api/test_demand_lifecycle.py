"""The demand lifecycle and the 待关联成交 queue over HTTP: matchmakers move and edit demands;
institutions and evaluators cannot (403, nothing written); a closed demand leaves the teasers
and the recommendations."""

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests import factories
from tests.api.conftest import World, login
from tests.api.db_state import snapshot

CLOSE = {"status": "withdrawn", "note": "企业已撤回需求"}


def test_institutions_and_evaluators_cannot_close_or_edit(client: TestClient, world: World,
                                                         world_engine: tuple) -> None:  # fmt: skip
    engine = world_engine[0]
    logins = {user: login(client, user) for user in ("inst_a", "inst_b", "eva")}
    before = snapshot(engine)
    for user, headers in logins.items():
        for method, path, body in [
            ("POST", f"/demands/{world.demand}/close", CLOSE),
            ("POST", f"/demands/{world.demand}/pause", {"note": "暂停"}),
            ("PATCH", f"/demands/{world.demand}", {"amount_max_wan": 900, "note": "调整"}),
            ("POST", f"/deals/{world.deal_a}/reject-link", {"note": "非撮合"}),
            ("GET", "/unlinked-deals", None),
        ]:
            response = client.request(method, path, json=body, headers=headers)
            assert response.status_code == 403, (user, path, response.status_code)
    assert snapshot(engine) == before
    read = client.get(f"/demands/{world.demand}/lifecycle", headers=login(client, "eva"))
    assert read.status_code == 200 and read.json()["status"] == "pending"


def test_a_matchmaker_edits_closes_and_the_demand_leaves_teasers_and_recommendations(
    client: TestClient, world: World
) -> None:
    mm, inst = login(client, "mm"), login(client, "inst_b")
    teasers = client.get("/teasers", headers=inst).json()["data"]
    assert world.demand in {t["demand_id"] for t in teasers}
    edited = client.patch(f"/demands/{world.demand}", headers=mm,
                          json={"amount_max_wan": 900, "collateral_offered": ["ip_pledge"],
                                "note": "企业追加额度"})  # fmt: skip
    assert edited.status_code == 200, edited.text
    assert edited.json()["amount_max_wan"] == 900
    assert {h["field"] for h in edited.json()["history"]} == {
        "amount_max_wan",
        "collateral_offered",
    }
    bad = client.post(
        f"/demands/{world.demand}/close", headers=mm, json={"status": "funded", "note": "放款"}
    )
    assert bad.status_code == 400 and "融资金额" in bad.json()["detail"]
    closed = client.post(f"/demands/{world.demand}/close", headers=mm,
                         json={"status": "funded", "amount_wan": 350, "note": "部分融资后企业结案"})  # fmt: skip
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert (body["status"], body["status_label"], body["amount_raised_wan"]) == (
        "funded",
        "已融资",
        350,
    )
    assert body["history"][0] == body["history"][0] | {"field": "status", "new": "funded",
                                                       "actor": "mm", "note": "部分融资后企业结案"}  # fmt: skip
    teasers = client.get("/teasers", headers=inst).json()["data"]
    assert world.demand not in {t["demand_id"] for t in teasers}
    assert client.get(f"/teasers/{world.demand}", headers=inst).status_code == 404
    ranked = client.get(f"/demands/{world.demand}/recommendations", headers=mm)
    assert ranked.status_code == 409 and "已融资" in ranked.json()["detail"]
    again = client.post(f"/demands/{world.demand}/close", headers=mm, json=CLOSE)
    assert again.status_code == 409
    reopened = client.post(
        f"/demands/{world.demand}/reopen", headers=mm, json={"note": "资金未到位"}
    )
    assert reopened.status_code == 200 and reopened.json()["status"] == "open"  # introduced before


def test_the_queue_over_http(client: TestClient, world: World,
                             world_engine: tuple) -> None:  # fmt: skip
    with Session(world_engine[0]) as session:
        queued = factories.deal(session, None, None, amount_wan=120.0)
        session.commit()
        queued_id = queued.id
    mm = login(client, "mm")
    listed = client.get("/unlinked-deals", headers=mm).json()
    assert [r["deal"]["id"] for r in listed["data"]] == [queued_id]
    assert (
        listed["data"][0]["candidate_match_ids"] == []
        and listed["data"][0]["deal"]["link_status"] == "unlinked"
    )
    refused = client.post(f"/deals/{queued_id}/link", headers=mm, json={"match_id": world.match_a})
    assert refused.status_code == 400 and "候选" in refused.json()["detail"]
    rejected = client.post(
        f"/deals/{queued_id}/reject-link", headers=mm, json={"note": "机构自行放款"}
    )
    assert rejected.status_code == 200 and rejected.json()["link_status"] == "rejected"
    assert client.get("/unlinked-deals", headers=mm).json()["data"] == []
