"""Institutions' commitments, evaluations and renewals, and staff records over the API:
institutions and evaluators read what they may but change nothing; matchmakers evaluate; only
admins renew agreements and record staff files."""

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from models import (
    AgreementPeriod,
    InstitutionEvaluation,
    StaffProfile,
    StaffQualification,
    TrainingRecord,
)
from tests.api.conftest import World, login


def _count(engine: Engine) -> tuple[int, ...]:
    with Session(engine) as session:
        return tuple(int(session.exec(select(func.count()).select_from(m)).one())
                     for m in (AgreementPeriod, InstitutionEvaluation, StaffProfile,
                               StaffQualification, TrainingRecord))  # fmt: skip


def _writes(world: World) -> list[tuple[str, str, dict[str, object]]]:
    inst, user = world.inst_a, world.mm_user
    return [
        ("POST", f"/institutions/{inst}/evaluations", {"year": 2025, "decision": "exit", "note": "x"}),
        ("POST", f"/institutions/{inst}/renewals", {"start": "2030-01-01"}),
        ("PUT", f"/staff/{user}/profile", {"post": "撮合专员"}),
        ("POST", f"/staff/{user}/qualifications", {"name": "证券从业资格", "obtained_on": "2020-01-01"}),
        ("POST", f"/staff/{user}/trainings", {"day": "2025-01-01", "topic": "股改", "hours": 2}),
    ]  # fmt: skip


def test_institutions_and_evaluators_change_nothing(
    client: TestClient, world: World, world_engine: tuple[Engine, World]
) -> None:
    engine, _ = world_engine
    before = _count(engine)
    for user in ("inst_a", "eva"):
        for method, path, body in _writes(world):
            response = client.request(method, path, json=body, headers=login(client, user))
            assert response.status_code == 403, f"{user} {method} {path}: {response.status_code}"
    for method, path, body in _writes(world)[1:]:  # admin-only: a matchmaker neither
        response = client.request(method, path, json=body, headers=login(client, "mm"))
        assert response.status_code == 403, f"mm {method} {path}"
    assert _count(engine) == before


def test_reads_follow_the_roles(client: TestClient, world: World) -> None:
    path = f"/institutions/{world.inst_a}/commitments?year=2025"
    for user in ("admin", "mm", "eva", "inst_a"):
        response = client.get(path, headers=login(client, user))
        assert response.status_code == 200 and response.json()["year"] == 2025, user
    assert client.get(path, headers=login(client, "inst_b")).status_code == 404
    for user in ("eva", "inst_a"):
        assert (
            client.get("/staff/workload?period=2025", headers=login(client, user)).status_code
            == 403
        )


def test_staff_record_and_read(client: TestClient, world: World) -> None:
    mm, admin = login(client, "mm"), login(client, "admin")
    made = client.post(f"/institutions/{world.inst_a}/evaluations", headers=mm,
                       json={"year": 2025, "decision": "keep", "note": "履约良好"})  # fmt: skip
    assert made.status_code == 201 and made.json()["evaluated_by"] == "mm"
    again = client.post(f"/institutions/{world.inst_a}/evaluations", headers=mm,
                        json={"year": 2025, "decision": "warn", "note": "重复"})  # fmt: skip
    assert again.status_code == 409
    listed = client.get(
        f"/institutions/{world.inst_a}/evaluations", headers=login(client, "inst_a")
    )
    assert [e["decision"] for e in listed.json()["data"]] == ["keep"]
    renewed = client.post(f"/institutions/{world.inst_a}/renewals", headers=admin,
                          json={"start": "2030-01-01", "end": "2032-12-31"})  # fmt: skip
    assert renewed.status_code == 200 and renewed.json()["agreement_end"] == "2032-12-31"
    client.put(f"/staff/{world.mm_user}/profile", headers=admin, json={"post": "撮合主管"})
    trained = client.post(f"/staff/{world.mm_user}/trainings", headers=admin,
                          json={"day": "2025-03-01", "topic": "投贷联动", "hours": 3})  # fmt: skip
    assert trained.status_code == 201 and trained.json()["training_hours"] == 3
    roster = client.get("/staff?year=2025", headers=mm).json()["data"]
    assert {r["username"]: r["post"] for r in roster}["mm"] == "撮合主管"
    assert "inst_a" not in {r["username"] for r in roster}
    load = client.get("/staff/workload?period=2025Q1", headers=mm)
    assert load.status_code == 200 and load.json()["period"] == "2025年第1季度"
    assert client.get("/staff/workload?period=x", headers=mm).status_code == 400
