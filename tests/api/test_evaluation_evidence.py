"""Evidence uploads through the API: staff only, kept with their SHA-256, a refused upload leaves
the database exactly as it was; the plan, the report's JSON and the self-assessment's sign-off."""

import hashlib

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.api.conftest import World, login
from tests.api.db_state import snapshot

PDF = "%PDF-1.7\n% 年度工作总结\n".encode()


def _upload(client: TestClient, world: World, user: str, name: str, data: bytes) -> object:
    return client.post(f"/evaluation/periods/{world.period}/evidence", headers=login(client, user),
                       data={"item_code": "b1_team"}, files={"file": (name, data)})  # fmt: skip


def test_staff_upload_evidence_kept_with_its_sha256(client: TestClient, world: World) -> None:
    response = _upload(client, world, "mm", "团队花名册.pdf", PDF)
    assert response.status_code == 201, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest() and body["size"] == len(PDF)
    got = client.get(f"/evaluation/evidence/{body['id']}", headers=login(client, "eva"))
    assert got.content == PDF and got.headers["digest"] == f"sha-256={body['sha256']}"


@pytest.mark.parametrize(
    ("user", "name", "data", "status"),
    [
        ("eva", "团队花名册.pdf", PDF, 403),  # evaluators read evidence, staff upload it
        ("inst_a", "团队花名册.pdf", PDF, 403),
        ("mm", "团队花名册.exe", b"MZ\x90\x00", 400),
        ("mm", "团队花名册.pdf", b"\x89PNG\r\n\x1a\n", 400),
    ],
)
def test_a_refused_upload_leaves_the_database_unchanged(
    client: TestClient, world: World, world_engine: tuple[Engine, World], user: str, name: str,
    data: bytes, status: int,
) -> None:  # fmt: skip
    headers = login(client, user)  # logging in writes; the snapshot comes after it
    before = snapshot(world_engine[0])
    response = client.post(f"/evaluation/periods/{world.period}/evidence", headers=headers,
                           data={"item_code": "b1_team"}, files={"file": (name, data)})  # fmt: skip
    assert response.status_code == status, response.text
    assert snapshot(world_engine[0]) == before


def test_plan_report_json_and_sign_off(client: TestClient, world: World) -> None:
    mm, eva = login(client, "mm"), login(client, "eva")
    assert (
        client.put(
            "/evaluation/plan/2025/credit_amount", json={"target": 100}, headers=eva
        ).status_code
        == 403
    )
    assert (
        client.put(
            "/evaluation/plan/2025/credit_amount", json={"target": 100}, headers=mm
        ).status_code
        == 200
    )
    unknown = client.put("/evaluation/plan/2025/loans", json={"target": 1}, headers=mm)
    assert unknown.status_code == 400 and "credit_amount" in unknown.text
    query = {"from": "2025-01-01", "to": "2025-12-31"}
    report = client.get("/evaluation/report", params=query | {"format": "json"}, headers=eva).json()
    assert report["targets"]["科技信贷"]["撮合贷款金额（万元）"] == 100.0
    assert "撮合贷款金额（万元）" in report["previous_year"]["科技信贷"]
    sheet = client.get(f"/evaluation/periods/{world.period}/self-assessment", headers=eva)
    assert sheet.status_code == 200 and sheet.content.startswith(b"PK")
    signed = client.post(f"/evaluation/periods/{world.period}/sign-offs", json={"role": "评价专家"},
                         headers=eva)  # fmt: skip
    assert signed.status_code == 201 and signed.json()["signed_by"] == "eva"
    assert len(signed.json()["report_sha256"]) == 64
