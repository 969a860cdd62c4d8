"""Staff (standard 5.3.2, 6.2.2): roster, profile with post, qualifications and training
records, and workload per matchmaker. Staff read; only admins record. Accounts themselves are
managed under /auth (users)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import Admin, PathId, SessionDep, Staff
from api.schemas import QualificationIn, StaffProfileIn, TrainingIn
from models.clock import center_today
from services.staff import service as staff

router = APIRouter(prefix="/staff", tags=["staff"])


def _file(session: SessionDep, user_id: int) -> dict[str, Any]:
    file = staff.staff_file(session, user_id)
    return {
        "user_id": file.user.id, "username": file.user.username, "role": file.user.role.value,
        "active": file.user.active, "post": file.profile.post if file.profile else None,
        "duties": file.profile.duties if file.profile else None,
        "qualifications": [q.model_dump(exclude={"user_id", "created_at"}, mode="json")
                           for q in file.qualifications],
        "trainings": [t.model_dump(exclude={"user_id", "created_at"}, mode="json")
                      for t in file.trainings],
        "training_hours": file.training_hours,
    }  # fmt: skip


@router.get("")
def roster(
    session: SessionDep,
    principal: Staff,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> dict[str, Any]:
    """Staff users with post, status and training hours in `year` (default: this year)."""
    year = year or center_today().year
    rows = [{"user_id": r.user.id, "username": r.user.username, "role": r.user.role.value,
             "active": r.user.active, "post": r.profile.post if r.profile else None,
             "training_hours": r.training_hours} for r in staff.roster(session, year)]  # fmt: skip
    return {"year": year, "data": rows, "count": len(rows)}


@router.get("/workload")
def workload(
    session: SessionDep, principal: Staff, period: Annotated[str, Query(max_length=10)]
) -> dict[str, Any]:
    """Introductions, meetings, deals and amounts per matchmaker for a year or quarter."""
    p = staff.parse_period(period)
    return {"period": p.label, "start": p.start.isoformat(), "end": p.end.isoformat(),
            "staff": [w.as_json() for w in staff.workload(session, p)]}  # fmt: skip


@router.get("/{user_id}")
def staff_file(user_id: PathId, session: SessionDep, principal: Staff) -> dict[str, Any]:
    """A staff member's profile, certificates and trainings."""
    return _file(session, user_id)


@router.put("/{user_id}/profile")
def set_profile(
    user_id: PathId, body: StaffProfileIn, session: SessionDep, principal: Admin
) -> dict[str, Any]:
    """Set the post and duties (admins only)."""
    staff.set_post(session, user_id, body.post, body.duties, principal.username)
    return _file(session, user_id)


@router.post("/{user_id}/qualifications", status_code=201)
def add_qualification(
    user_id: PathId, body: QualificationIn, session: SessionDep, principal: Admin
) -> dict[str, Any]:
    """Record a qualification certificate (admins only)."""
    staff.add_qualification(session, user_id, body.model_dump(), principal.username)
    return _file(session, user_id)


@router.post("/{user_id}/trainings", status_code=201)
def add_training(
    user_id: PathId, body: TrainingIn, session: SessionDep, principal: Admin
) -> dict[str, Any]:
    """Record a training (admins only)."""
    staff.add_training(session, user_id, body.model_dump(), principal.username)
    return _file(session, user_id)
