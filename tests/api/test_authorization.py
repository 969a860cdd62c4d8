"""Authorisation matrix generated from the route table, so a new route is covered automatically."""

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api.web import routes as web_routes
from tests.api.conftest import World, login

# Routes whose ids are not owned by any institution, with the reason and what is checked instead.
OPEN_TO_INSTITUTIONS = {
    ("GET", "/teasers/{demand_id}"): "open demands are offered to institutions as teasers "
    "(confidential ones only to institutions the enterprise chose; see test_institution_pipeline)",
    ("POST", "/introduction-requests"): "an institution may ask to be introduced to a demand it "
    "may see as a teaser",
    ("POST", "/complaints"): "anyone may complain; an institution's complaint is filed as its own",
}
PUBLIC = {("POST", "/auth/token"), ("GET", "/health"), ("POST", "/auth/invitation")}
# What an enterprise user may call beyond the portal: who it is.
ENTERPRISE_OUTSIDE_PORTAL = {("GET", "/auth/me")}
# Whose records each path id names in the seeded world, as an enterprise user the id is
# foreign to: the demand and match are ent_a's enterprise's, consent_a is ent_b's.
FOREIGN_TO = {"demand_id": "ent_b", "match_id": "ent_b", "consent_id": "ent_a"}


def _ids(world: World) -> dict[str, int]:
    return {
        "institution_id": world.inst_a, "match_id": world.match_a, "deal_id": world.deal_a,
        "consent_id": world.consent_a, "key_id": world.key_a, "enterprise_id": world.enterprise,
        "demand_id": world.demand, "product_id": world.product_a, "mandate_id": world.mandate_a,
        "subscription_id": world.subscription_a, "event_id": world.event,
        "complaint_id": world.complaint, "period_id": world.period, "batch_id": world.batch,
        "key": "credit_amount", "user_id": world.mm_user, "year": 2025, "evidence_id": 1,
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
        ("POST", "/institutions/{institution_id}/evaluations"): {"year": 2025, "decision": "exit",
                                                                 "note": "侵入评价"},
        ("POST", "/institutions/{institution_id}/renewals"): {"start": "2030-01-01"},
        ("PUT", "/staff/{user_id}/profile"): {"post": "侵入岗位"},
        ("POST", "/staff/{user_id}/qualifications"): {"name": "伪造证书", "obtained_on": "2020-01-01"},
        ("POST", "/staff/{user_id}/trainings"): {"day": "2025-01-01", "topic": "伪造", "hours": 1},
        ("POST", "/portal/demands"): {"financing_type": "loan", "amount_min_wan": 100,
                                      "amount_max_wan": 200},
        ("PATCH", "/portal/demands/{demand_id}"): {"amount_max_wan": 900, "note": "企业调整"},
        ("POST", "/portal/introductions/{match_id}/consent"): {"scopes": ["details"]},
        ("POST", "/portal/introductions/{match_id}/survey"): {"satisfaction": 5},
        ("POST", "/portal/consents"): {"institution_id": world.inst_a, "scopes": ["details"]},
        ("POST", "/portal/complaints"): {"kind": "complaint", "content": "对接太慢"},
        ("POST", "/enterprises/{enterprise_id}/invitations"): {"hours": 24},
        ("POST", "/auth/invitation"): {"token": "tfi_guessed-token", "username": "x",
                                       "password": "y"},
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
    for user in ("eva", "inst_a", "inst_b", "ent_b"):
        for method, path in routes(client):
            if method != "GET" or (method, path) in PUBLIC:
                continue
            text = client.get(_fill(path, _ids(world)), headers=login(client, user)).text
            leaked = [s for s in secrets if s in text]
            assert leaked == [], f"{user} GET {path} leaked {leaked}"
    staff = client.get(f"/enterprises/{world.enterprise}", headers=login(client, "mm")).text
    assert all(s in staff for s in secrets)  # the check above can fail: staff do see them


# --- console pages (not in the OpenAPI table): the route table of the app itself ---------------

# Pages outside `/console/` open without a session, each with the reason it is safe.
PUBLIC_PAGES = {
    ("GET", "/"): "redirects to the console",
    ("GET", "/signin/{event_id}/{token}"): "an event's QR sign-in page: the per-event secret token "
    "in the URL is the credential, it expires after the event (see test_event_signin)",
    ("POST", "/signin/{event_id}/{token}"): "the sign-in itself: token, CSRF cookie, per-source "
    "throttle, checked fields; it reveals nothing but the event's title",
}
STAFF_ONLY_MODULES = ("api.web.listing", "api.web.policies", "api.web.events")


def _page_routes() -> list[tuple[str, str, str]]:
    """(method, path, module) of every page the console router serves (outside the OpenAPI table):
    the console modules under `/console`, and what `api.web.routes` adds outside it."""
    console = [("/console", route) for module in web_routes.PAGES for route in module.router.routes]
    outside = [("", r) for r in [*web_routes.router.routes, *web_routes.signin.router.routes]]
    return [
        (method, prefix + route.path, route.endpoint.__module__)
        for prefix, route in [*console, *outside]
        if isinstance(route, APIRoute)
        for method in sorted(route.methods - {"HEAD"})
    ]


def _page_csrf(client: TestClient, username: str) -> str:
    page = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    client.post("/console/login", data={"username": username, "password": "correct-horse-battery",
                                        "csrf_token": token[1]})  # fmt: skip
    home = client.get("/console/")
    session_token = re.search(r'name="csrf_token" value="([^"]+)"', home.text)
    assert session_token is not None, home.text
    return session_token[1]


def test_pages_outside_the_console_are_exactly_the_listed_public_ones(client: TestClient) -> None:
    outside = {(m, p) for m, p, _ in _page_routes() if not p.startswith("/console/")}
    for method, path in PUBLIC_PAGES:
        filled = path.replace("{event_id}", str(1)).replace("{token}", "t")
        answer = client.request(method, filled, follow_redirects=False)
        assert answer.status_code not in (401, 403), f"{method} {path} is public"
    assert outside == set(PUBLIC_PAGES)


def test_listing_policy_and_event_pages_are_for_staff_only(client: TestClient) -> None:
    pages = [(m, p) for m, p, module in _page_routes() if module in STAFF_ONLY_MODULES]
    assert len(pages) >= 15
    fill = lambda path: re.sub(r"\{\w+\}", "1", path)  # noqa: E731
    for method, path in pages:
        anonymous = client.request(method, fill(path), data={"x": "1"} if method == "POST" else None,
                                   follow_redirects=False)  # fmt: skip
        expected = (401,) if method == "POST" else (303,)
        assert anonymous.status_code in expected, f"anonymous {method} {path}"
    for user in ("eva", "inst_b"):
        with TestClient(client.app) as other:  # type: ignore[arg-type]
            token = _page_csrf(other, user)
            for method, path in pages:
                data = {"csrf_token": token} if method == "POST" else None
                response = other.request(method, fill(path), data=data, follow_redirects=False)
                assert response.status_code == 403, (
                    f"{user} {method} {path}: {response.status_code}"
                )


def test_enterprise_users_reach_nothing_outside_the_portal(
    client: TestClient, world: World
) -> None:
    checked = []
    for method, path in routes(client):
        if (method, path) in PUBLIC | ENTERPRISE_OUTSIDE_PORTAL or path.startswith("/portal/"):
            continue
        response = _call(client, method, path, world, "ent_a")
        assert response.status_code in (403, 404), f"{method} {path}: {response.status_code}"
        checked.append(path)
    assert len(checked) >= 60
    assert client.get("/auth/me", headers=login(client, "ent_a")).json()["enterprise_id"] == (
        world.enterprise
    )


def test_an_enterprise_user_cannot_use_another_enterprises_ids(
    client: TestClient, world: World
) -> None:
    checked = []
    for method, path in routes(client):
        names = re.findall(r"\{(\w+)\}", path)
        if not path.startswith("/portal/") or not names:
            continue
        response = _call(client, method, path, world, FOREIGN_TO[names[0]])
        assert response.status_code == 404, f"{method} {path}: {response.status_code}"
        checked.append((method, path))
    assert len(checked) >= 5
    # The same ids work for their owners: the refusals above are about ownership.
    own = client.get(f"/portal/demands/{world.demand}", headers=login(client, "ent_a"))
    assert own.status_code == 200
    intros = client.get("/portal/introductions", headers=login(client, "ent_a")).json()["data"]
    assert [i["match_id"] for i in intros] == [world.match_a]
    assert client.get("/portal/introductions", headers=login(client, "ent_b")).json()["count"] == 0


def test_portal_writes_without_ids_act_on_the_callers_enterprise(
    client: TestClient, world: World
) -> None:
    headers = login(client, "ent_b")
    for method, path in [("POST", "/portal/demands"), ("POST", "/portal/consents"),
                         ("POST", "/portal/complaints")]:  # fmt: skip
        assert _call(client, method, path, world, "ent_b").status_code == 201, path
    demands = client.get("/portal/demands", headers=headers).json()["data"]
    assert [d["status"] for d in demands] == ["pending"]
    ent_b = demands[0]["enterprise_id"]
    assert ent_b != world.enterprise
    consents = client.get("/portal/consents", headers=headers).json()["data"]
    assert {c["enterprise_id"] for c in consents} == {ent_b}
    assert client.get("/portal/demands", headers=login(client, "ent_a")).json()["count"] == 1
    smuggled = {"financing_type": "loan", "amount_min_wan": 1, "amount_max_wan": 2,
                "enterprise_id": world.enterprise}  # fmt: skip
    assert client.post("/portal/demands", json=smuggled, headers=headers).status_code == 422


def test_an_enterprise_never_sees_an_institutions_notes_or_unconsented_name(
    client: TestClient, world: World
) -> None:
    note = "内部备注：该企业现金流紧张，谨慎"
    moved = client.post(f"/matches/{world.match_a}/transitions",
                        json={"to_stage": "meeting", "expected_version": 1, "note": note},
                        headers=login(client, "mm"))  # fmt: skip
    assert moved.status_code == 200, moved.text
    headers = login(client, "ent_a")
    texts = [client.get(p, headers=headers).text for p in
             ("/portal/introductions", "/portal/demands", f"/portal/demands/{world.demand}")]  # fmt: skip
    assert all(note not in t and "甲科创银行" not in t for t in texts)
    granted = client.post(f"/portal/introductions/{world.match_a}/consent",
                          json={"scopes": ["details"]}, headers=headers)  # fmt: skip
    assert granted.status_code == 201, granted.text
    after = client.get("/portal/introductions", headers=headers).text
    assert "甲科创银行" in after and note not in after
