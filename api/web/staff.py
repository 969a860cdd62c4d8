"""Staff in the console (standard 5.3.2, 6.2.2): the roster with posts and training hours, each
matchmaker's workload for a period, and a staff member's file (post, certificates, trainings),
recorded by admins. Disabling accounts and changing roles stay on 用户管理 (/console/users)."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request, Response

from api.deps import PathId, SessionDep
from api.web.auth import ConsoleUser, Posted, StaffUser
from api.web.render import ConsoleRoute, redirect, render
from models.clock import center_today
from models.reference import UserRole
from services.staff import service as staff

router = APIRouter(route_class=ConsoleRoute)


def _admin(user: ConsoleUser) -> str:
    if user.role != UserRole.admin:
        raise HTTPException(status_code=403, detail="仅限管理员")
    return user.principal.username


@router.get("/staff")
def staff_page(
    request: Request, _: StaffUser, session: SessionDep,
    period: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:  # fmt: skip
    """Roster and workload for a year or quarter (default: this year)."""
    p = staff.parse_period(period or str(center_today().year))
    return render(request, "staff.html", title="工作人员", period=p, period_text=period or "",
                  roster=staff.roster(session, p.start.year),
                  workload=staff.workload(session, p))  # fmt: skip


@router.get("/staff/{user_id}")
def staff_file_page(
    request: Request, user_id: PathId, user: StaffUser, session: SessionDep
) -> Response:
    """One staff member's post, certificates and trainings."""
    file = staff.staff_file(session, user_id)
    return render(request, "staff_file.html", title=f"工作人员 · {file.user.username}", file=file,
                  can_edit=user.role == UserRole.admin)  # fmt: skip


@router.post("/staff/{user_id}/post")
def set_post(
    user_id: PathId, user: Posted, session: SessionDep,
    post: Annotated[str, Form(max_length=60)], duties: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:  # fmt: skip
    """Set the post and duties (admins)."""
    staff.set_post(session, user_id, post, duties, _admin(user))
    return redirect(f"/console/staff/{user_id}", f"岗位已设为“{post.strip()}”")


@router.post("/staff/{user_id}/qualifications")
def add_qualification(
    user_id: PathId, user: Posted, session: SessionDep,
    name: Annotated[str, Form(max_length=100)], obtained_on: Annotated[date, Form()],
    certificate_no: Annotated[str | None, Form(max_length=60)] = None,
    expires_on: Annotated[date | None, Form()] = None,
) -> Response:  # fmt: skip
    """Record a certificate (admins)."""
    data = {"name": name, "obtained_on": obtained_on, "certificate_no": certificate_no,
            "expires_on": expires_on}  # fmt: skip
    staff.add_qualification(session, user_id, data, _admin(user))
    return redirect(f"/console/staff/{user_id}", f"已登记资格证书“{name}”")


@router.post("/staff/{user_id}/trainings")
def add_training(
    user_id: PathId, user: Posted, session: SessionDep,
    day: Annotated[date, Form()], topic: Annotated[str, Form(max_length=120)],
    hours: Annotated[float, Form(gt=0, le=1000)],
    provider: Annotated[str | None, Form(max_length=120)] = None,
) -> Response:  # fmt: skip
    """Record a training (admins)."""
    data = {"day": day, "topic": topic, "hours": hours, "provider": provider}
    staff.add_training(session, user_id, data, _admin(user))
    return redirect(f"/console/staff/{user_id}", f"已登记培训“{topic}”")
