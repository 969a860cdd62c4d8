"""Authorisation matrix generated from the route table, so a new route is covered automatically."""

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import World, login

# Routes whose ids are not owned by any institution, with the reason and what is checked instead.
OPEN_TO_INSTITUTIONS = {
    ("GET", "/teasers/{demand_id}"): "open demands are offered to institutions as teasers "
    "(confidential ones only to institutions the enterprise chose; see test_institution_pipeline)",
    ("POST", "/introduction-requests"): "an institution may ask to be introduced to a demand it "
    "may see as a teaser",
    ("POST", "/complaints"): "anyone may complain; an institution's complaint is filed as its own",
}
PUBLIC = {("POST", "/auth/token"), ("GET", "/health")}


def _ids(world: World) -> dict[str, int]:
    return {
        "institution_id": world.inst_a, "match_id": world.match_a, "deal_id": world.deal_a,
        "consent_id": world.consent_a, "key_id": world.key_a, "enterprise_id": world.enterprise,
        "demand_id": world.demand, "product_id": world.product_a, "mandate_id": world.mandate_a,
        "subscription_id": world.subscription_a, "event_id": world.event,
        "complaint_id": world.complaint, "period_id": world.period, "batch_id": world.batch,
        "key": "credit_amount", "year": 2025, "evidence_id": 1,
    }  # fmt: skip


def _bodies(world: World) -> dict[tuple[str, str], dict[str, Any]]:
    """A valid body per mutating route, naming institution A's records."""
    return {
        ("POST", "/matches"): {"demand_id": world.demand, "institution_id": world.inst_a},
        ("POST", "/matches/{match_id}/transitions"): {"to_stage": "meeting", "expected_version": 1},
        ("POST", "/deals"): {"match_id": world.match_a, "amount_wan": 10, "closed_on": "2025-05-01"},
        ("POST", "/deals/{deal_id}/confirm"): {},
        ("POST", "/deals/{deal_id}/reject"): {"reason": "金额不实"},
        ("POST", "/deals/{deal_id}/link"): {"match_id": world.match_a},
        ("POST", "/deals/{deal_id}/reject-link"): {"note": "非中心撮合"},
        ("POST", "/demands/{demand_id}/close"): {"status": "funded", "amount_wan": 10, "note": "已放款"},
        ("POST", "/demands/{demand_id}/pause"): {"note": "企业暂缓"},
        ("POST", "/demands/{demand_id}/reopen"): {"note": "企业恢复"},
        ("PATCH", "/demands/{demand_id}"): {"amount_max_wan": 900, "note": "企业调整"},
        ("POST", "/consents"): {"enterprise_id": world.enterprise, "institution_id": world.inst_a,
                                "scopes": ["details"]},
        ("POST", "/introduction-requests"): {"demand_id": world.demand},
        ("POST", "/institutions/{institution_id}/products"): {"name": "侵入产品", "max_amount_wan": 100},
        ("POST", "/institutions/{institution_id}/mandates"): {"name": "侵入基金", "max_ticket_wan": 100},
        ("POST", "/institutions"): {"name": "伪造机构", "kind": "vc"},
        ("POST", "/enterprises"): {"legal_name": "深圳市伪造科技有限公司"},
        ("POST", "/demands"): {"enterprise_id": world.enterprise, "financing_type": "loan",
                               "amount_min_wan": 1, "amount_max_wan": 2},
        ("POST", "/subscriptions"): {"institution_id": world.inst_a, "name": "侵入订阅"},
        ("POST", "/subscriptions/{subscription_id}/confirm-email"): {"token": "guess"},
        ("POST", "/events"): {"kind": "training", "title": "培训", "starts_at": "2025-01-01T01:00:00Z",
                              "ends_at": "2025-01-01T02:00:00Z"},
        ("POST", "/events/{event_id}/attendance"): {"person_key": "张三|甲行"},
        ("POST", "/complaints"): {"kind": "feedback", "content": "建议"},
        ("POST", "/complaints/{complaint_id}/moves"): {"to": "handling"},
        ("POST", "/complaints/{complaint_id}/measures"): {"description": "改进", "owner": "李四",
                                                          "due_on": "2026-01-01"},
        ("POST", "/evaluation/periods"): {"name": "侵入期间", "starts_on": "2025-01-01",
                                          "ends_on": "2025-12-31"},
        ("PUT", "/evaluation/periods/{period_id}/scores"): {"item_code": "b1_positioning", "score": 1},
        ("PUT", "/evaluation/plan/{year}/{key}"): {"target": 10},
        ("POST", "/evaluation/periods/{period_id}/sign-offs"): {"role": "中心负责人"},
    }  # fmt: skip


def routes(client: TestClient) -> list[tuple[str, str]]:
    """Every (method, path) operation the app publishes in its OpenAPI route table."""
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return [(m.upper(), p) for p, ops in paths.items() for m in ops]


def _has_body(client: TestClient, method: str, path: str) -> bool:
    operation = client.app.openapi()["paths"][path][method.lower()]  # type: ignore[attr-defined]
    content = operation.get("requestBody", {}).get("content", {})
    return "application/json" in content


def _fill(path: str, ids: dict[str, int]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)


def _call(client: TestClient, method: str, path: str, world: World, user: str) -> Any:
    body = _bodies(world).get((method, path))
    if _has_body(client, method, path) and body is None:
        pytest.fail(f"{method} {path}: add an example body to the authorisation matrix")
    return client.request(method, _fill(path, _ids(world)), json=body, headers=login(client, user))


def test_institution_b_cannot_use_institution_a_ids_anywhere(
    client: TestClient, world: World
) -> None:
    checked = []
    for method, path in routes(client):
        if (method, path) in PUBLIC or (method, path) in OPEN_TO_INSTITUTIONS:
            continue
        uses_ids = "{" in path or (method, path) in _bodies(world) or path.startswith("/imports")
        if not uses_ids:
            continue
        response = _call(client, method, path, world, "inst_b")
        assert response.status_code in (403, 404), f"{method} {path}: {response.status_code}"
        checked.append((method, path))
    assert len(checked) >= 15


def test_open_routes_give_institution_b_only_the_teaser(client: TestClient, world: World) -> None:
    response = _call(client, "GET", "/teasers/{demand_id}", world, "inst_b")
    assert response.status_code == 200
    assert response.json()["demand"] is None and response.json()["enterprise"] is None
    request = _call(client, "POST", "/introduction-requests", world, "inst_b")
    assert request.status_code == 201 and request.json()["institution_id"] == world.inst_b


def test_every_route_but_login_requires_authentication(client: TestClient, world: World) -> None:
    for method, path in routes(client):
        if (method, path) in PUBLIC:
            continue
        response = client.request(
            method, _fill(path, _ids(world)), json=_bodies(world).get((method, path))
        )
        assert response.status_code == 401, f"{method} {path}"


def test_no_personal_information_reaches_evaluators_or_institutions(
    client: TestClient, world: World
) -> None:
    secrets = (world.contact_name, world.contact_phone, world.contact_email)
    for user in ("eva", "inst_a", "inst_b"):
        for method, path in routes(client):
            if method != "GET" or (method, path) in PUBLIC:
                continue
            text = client.get(_fill(path, _ids(world)), headers=login(client, user)).text
            leaked = [s for s in secrets if s in text]
            assert leaked == [], f"{user} GET {path} leaked {leaked}"
    staff = client.get(f"/enterprises/{world.enterprise}", headers=login(client, "mm")).text
    assert all(s in staff for s in secrets)  # the check above can fail: staff do see them
