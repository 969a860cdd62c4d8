"""Retest #21 item 9: text with a NUL byte or another C0 control character (tab, line feed and
carriage return excepted) is refused by every input schema with a 422 naming the field, and
the database is left as it was (SQLite stored the NUL; PostgreSQL refuses it with a 500)."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from api.schemas import NO_CONTROL_PATTERN
from models import Complaint, Deal, Match
from tests.api.conftest import World, login


def _snapshot(engine: Engine) -> tuple[int, int, list[tuple[int, str, int]]]:
    with Session(engine) as session:
        complaints = session.exec(select(func.count()).select_from(Complaint)).one()
        deals = session.exec(select(func.count()).select_from(Deal)).one()
        matches = session.exec(select(Match.id, Match.stage, Match.version))
        return complaints, deals, sorted((m[0] or 0, str(m[1]), m[2]) for m in matches)


def _refused(response: object, field: str) -> None:
    problem = response.json()  # type: ignore[attr-defined]
    assert response.status_code == 422, problem  # type: ignore[attr-defined]
    assert problem["field"] == field and "控制字符" in problem["detail"], problem


@pytest.mark.parametrize("control", ["\u0000", "\u0001", "\u000b", "\u001f"])
def test_a_complaint_with_a_control_character_is_refused(
    client: TestClient, world_engine: tuple[Engine, World], control: str
) -> None:
    engine, _world = world_engine
    before = _snapshot(engine)
    body = {"kind": "complaint", "content": f"对接{control}反馈不及时"}
    _refused(client.post("/complaints", json=body, headers=login(client, "inst_a")), "content")
    assert _snapshot(engine) == before
    ok = client.post("/complaints", headers=login(client, "inst_a"),
                     json={"kind": "complaint", "content": "第一行\t制表\r\n第二行"})  # fmt: skip
    assert ok.status_code == 201, ok.text  # tab, line feed and carriage return stay allowed


def test_a_deal_note_with_a_nul_byte_is_refused(
    client: TestClient, world_engine: tuple[Engine, World]
) -> None:
    engine, world = world_engine
    staff = login(client, "mm")
    intro = client.post("/matches", json={"demand_id": world.demand, "institution_id": world.inst_b},
                        headers=staff)  # fmt: skip
    assert intro.status_code == 201, intro.text
    before = _snapshot(engine)
    body = {"match_id": intro.json()["id"], "amount_wan": 400, "closed_on": "2026-01-15",
            "note": "放款\u0000完成"}  # fmt: skip
    _refused(client.post("/deals", json=body, headers=staff), "note")
    assert _snapshot(engine) == before


def test_the_schema_states_the_rule_for_free_text(client: TestClient) -> None:
    schemas = client.app.openapi()["components"]["schemas"]  # type: ignore[attr-defined]
    assert schemas["ComplaintIn"]["properties"]["content"]["pattern"] == NO_CONTROL_PATTERN
    note = schemas["DealIn"]["properties"]["note"]["anyOf"][0]
    assert note["pattern"] == NO_CONTROL_PATTERN
    assert "pattern" not in schemas["DealIn"]["properties"]["closed_on"]  # a date keeps its format
