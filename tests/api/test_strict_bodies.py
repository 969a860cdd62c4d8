"""Request bodies take JSON types as declared (pydantic's strict mode, `api.schemas.StrictIn`): no
"5" for 5, no true for 1, no unknown field; dates and enums arrive as text; well-typed but
implausible values (an id past 32 bits, a year outside 1900–2199) are a 400 naming the field."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import World, login


def _problem(response: Any, status: int, field: str) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert response.status_code == status, body
    assert body["field"] == field and body["title"], body
    return body


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"demand_id": "5"}, "demand_id"),  # text for a number
        ({"institution_id": True}, "institution_id"),  # a boolean for a number
        ({"demand_id": 5.5}, "demand_id"),  # 5.0 would be 5 (JSON Schema's integer)
        ({"stage": "intro"}, "stage"),  # no such field: no mass assignment
    ],
)
def test_a_body_of_the_wrong_json_type_or_with_unknown_fields_is_a_422(
    client: TestClient, world: World, change: dict[str, Any], field: str
) -> None:
    body = {"demand_id": world.demand, "institution_id": world.inst_b} | change
    problem = _problem(client.post("/matches", json=body, headers=login(client, "mm")), 422, field)
    assert problem["detail"].startswith("请求数据无效")
    reason = problem["errors"][0]["reason"]
    assert reason in ("应为整数", "不允许的字段"), reason  # Chinese, not pydantic's English


def test_dates_and_enums_arrive_as_text(client: TestClient, world: World) -> None:
    staff = login(client, "mm")
    stamp = client.post("/deals", headers=staff, json={"match_id": world.match_a,
                        "amount_wan": 400, "closed_on": 0})  # fmt: skip
    _problem(stamp, 422, "closed_on")  # a number is no date (lax mode: a timestamp)
    intro = client.post("/matches", json={"demand_id": world.demand, "institution_id": world.inst_b},
                        headers=staff)  # fmt: skip
    assert intro.status_code == 201, intro.text
    moved = client.post(f"/matches/{intro.json()['id']}/transitions", headers=staff,
                        json={"to_stage": "meeting", "expected_version": intro.json()["version"] * 1.0})  # fmt: skip
    assert moved.status_code == 200 and moved.json()["stage"] == "meeting", moved.text
    deal = client.post("/deals", headers=staff, json={"match_id": intro.json()["id"],
                       "amount_wan": 400, "closed_on": "2026-01-15"})  # fmt: skip
    assert deal.status_code == 201, deal.text
    assert deal.json()["closed_on"] == "2026-01-15" and deal.json()["amount_wan"] == 400.0


def test_implausible_values_of_the_right_type_are_a_400(client: TestClient, world: World) -> None:
    staff = login(client, "mm")
    late = client.post("/deals", headers=staff, json={"match_id": world.match_a,
                       "amount_wan": 400, "closed_on": "1800-01-01"})  # fmt: skip
    assert "1900–2199" in _problem(late, 400, "closed_on")["detail"]
    big = client.post(f"/institutions/{world.inst_a}/products", headers=staff,
                      json={"name": "科技贷", "max_amount_wan": 500, "max_term_months": 2**40})  # fmt: skip
    assert "超出范围" in _problem(big, 400, "max_term_months")["detail"]
