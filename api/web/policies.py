"""Policy work in the console (standard 6.1.1 a): the catalogue and its import, an enterprise's
policy match, a policy's reach list and the outreach record (宣贯)."""

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile

from api.deps import PathId, SessionDep, SettingsDep
from api.uploads import upload_folder
from api.web.auth import Posted, StaffUser
from api.web.imports import _saved
from api.web.render import ConsoleRoute, redirect, render
from models.clock import center_today
from models.policy import OutreachChannel, OutreachOutcome
from services.imports.catalogue import CatalogueRefused, import_catalogue, load_starter
from services.policy import repository as policy_repo
from services.policy.service import match_enterprise, reach, record_outreach

router = APIRouter(route_class=ConsoleRoute)


def _catalogue(request: Request, session: SessionDep, status: int = 200,
               reasons: list[str] | None = None) -> Response:  # fmt: skip
    rows = policy_repo.policies(session)
    return render(request, "policies.html", status_code=status, title="政策目录", policies=rows,
                  today=center_today(), reasons=reasons or [])  # fmt: skip


@router.get("/policies")
def catalogue(request: Request, session: SessionDep, _: StaffUser) -> Response:
    """The catalogue with validity and the 待核实 flag, and the import form."""
    return _catalogue(request, session)


@router.post("/policies/import")
def upload(request: Request, session: SessionDep, settings: SettingsDep, user: StaffUser,
           _: Posted, file: Annotated[UploadFile, File()]) -> Response:  # fmt: skip
    """Import a catalogue spreadsheet whole; one bad row refuses the file, naming every row."""
    with upload_folder(settings) as folder:
        path = _saved(file, folder)
        try:
            s = import_catalogue(session, path, user.principal.username)
        except CatalogueRefused as refused:
            return _catalogue(request, session, 422, refused.reasons)
    return redirect("/console/policies", f"已导入“{path.name}”：读取 {s.rows_read} 行，新增 "
                    f"{s.inserted}，更新 {s.updated}，未变 {s.unchanged}")  # fmt: skip


@router.post("/policies/starter")
def starter(session: SessionDep, user: StaffUser, _: Posted) -> Response:
    """Load (or refresh) the starter catalogue of real national and provincial measures."""
    s = load_starter(session, user.principal.username)
    return redirect("/console/policies", f"已载入起步政策目录：新增 {s.inserted}，更新 {s.updated}，"
                    f"未变 {s.unchanged}（均标记为待核实）")  # fmt: skip


@router.get("/policies/{policy_id}")
def policy_reach(
    request: Request, policy_id: PathId, session: SessionDep, _: StaffUser
) -> Response:
    """Who qualifies for the policy, and who is one condition short, with the outreach form."""
    result = reach(session, policy_id, limit=100)
    return render(request, "policy_reach.html", title=f"精准宣贯 · {result.title}", reach=result,
                  channels=list(OutreachChannel), outcomes=list(OutreachOutcome))  # fmt: skip


@router.post("/policies/{policy_id}/outreach")
def outreach(policy_id: PathId, session: SessionDep, user: StaffUser, _: Posted,
             enterprise_id: Annotated[int, Form(ge=1, le=2_147_483_647)],
             channel: Annotated[OutreachChannel, Form()],
             outcome: Annotated[OutreachOutcome, Form()] = OutreachOutcome.informed,
             note: Annotated[str | None, Form(max_length=300)] = None) -> Response:  # fmt: skip
    """Record that the enterprise was told about the policy (audited)."""
    record_outreach(session, policy_id, enterprise_id, user.principal.username, channel=channel,
                    outcome=outcome, note=note or None)  # fmt: skip
    return redirect(f"/console/policies/{policy_id}",
                    f"已记录宣贯：企业 #{enterprise_id}，{channel.label}，{outcome.label}")  # fmt: skip


@router.get("/enterprises/{enterprise_id}/policies")
def enterprise_policies(request: Request, enterprise_id: PathId, session: SessionDep,
                        _: StaffUser) -> Response:  # fmt: skip
    """The policy calculator for one enterprise: each condition met or not, expected benefit."""
    result = match_enterprise(session, enterprise_id)
    return render(request, "policy_match.html", title=f"政策匹配 · {result.enterprise_name}",
                  result=result)  # fmt: skip
