"""The enterprise portal in the console (Chinese): an enterprise user's demands, introductions,
consents, surveys and complaints, with the role's own navigation; and the page that accepts an
invitation link. Every page calls `services.portal`, which confines the user to its enterprise."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from pydantic import ValidationError

from api.deps import PathId, SessionDep
from api.routers.portal import PortalDemandIn
from api.web import auth
from api.web.auth import ConsoleUser, Posted
from api.web.render import ConsoleRoute, redirect, render
from models.base import utcnow
from models.errors import DomainError, NotFoundError, translate_validation_error
from models.reference import (
    Collateral,
    ComplaintKind,
    Confidentiality,
    ConsentScope,
    FinancingType,
    Stage,
    UserRole,
)
from services.accounts import service as accounts
from services.portal import repository as portal_repo
from services.portal import service as portal

router = APIRouter(route_class=ConsoleRoute)
EnterpriseSide = Annotated[ConsoleUser, Depends(auth.require_roles(UserRole.enterprise))]
HOME = "/console/portal"
CHOICES: dict[str, Any] = {"financing_types": FinancingType, "stages": Stage, "collaterals": Collateral,
           "confidentialities": Confidentiality, "scopes": ConsentScope}  # fmt: skip
AMOUNTS = {"amount_min_wan": "拟融资金额下限（万元）", "amount_max_wan": "拟融资金额上限（万元）"}


@router.get("/portal")
def home(request: Request, session: SessionDep, user: EnterpriseSide) -> Response:
    """The enterprise's demands and introductions, and the mails it was sent."""
    principal = user.principal
    return render(request, "portal_home.html", title="企业门户",
                  demands=portal.demands(session, principal),
                  introductions=portal.introductions(session, principal),
                  notices=portal_repo.notices_of(session, principal.user_id or 0),
                  scopes=ConsentScope)  # fmt: skip


def _number(text: str, field: str) -> float | None:
    value = text.strip().replace(",", "")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise DomainError(f"{AMOUNTS[field]}应为数字，收到“{text}”", field=field) from None


def _demand_fields(form: dict[str, Any]) -> dict[str, Any]:
    """The demand form, checked by the API's strict schema (Chinese errors naming the field)."""
    data: dict[str, Any] = {k: v for k, v in form.items() if v not in ("", None, [])}
    for field in AMOUNTS:
        if field in data:
            data[field] = _number(str(data[field]), field)
    if "term_months" in data:
        if not str(data["term_months"]).isdigit():
            raise DomainError("期限（月）应为整数", field="term_months")
        data["term_months"] = int(data["term_months"])
    try:
        return PortalDemandIn.model_validate(data).model_dump()
    except ValidationError as exc:
        raise translate_validation_error("融资需求", exc) from exc


@router.get("/portal/demands/new")
def new_demand(request: Request, user: EnterpriseSide) -> Response:
    """The form of a new demand."""
    return render(request, "portal_demand.html", title="提交融资需求", demand=None, **CHOICES)


@router.post("/portal/demands")
def submit_demand(session: SessionDep, user: EnterpriseSide, _: Posted,
                  financing_type: Annotated[str, Form(max_length=20)],
                  amount_min_wan: Annotated[str, Form(max_length=20)],
                  amount_max_wan: Annotated[str, Form(max_length=20)],
                  round_stage: Annotated[str, Form(max_length=20)] = "",
                  purpose: Annotated[str, Form(max_length=500)] = "",
                  term_months: Annotated[str, Form(max_length=5)] = "",
                  deadline: Annotated[str, Form(max_length=10)] = "",
                  confidentiality: Annotated[str, Form(max_length=20)] = "teaser",
                  collateral_offered: Annotated[list[str], Form()] = []) -> Response:  # noqa: B006  # fmt: skip
    """Submit a demand of the enterprise; it starts 待对接."""
    fields = _demand_fields({"financing_type": financing_type, "amount_min_wan": amount_min_wan,
                             "amount_max_wan": amount_max_wan, "round_stage": round_stage,
                             "purpose": purpose, "term_months": term_months, "deadline": deadline,
                             "confidentiality": confidentiality,
                             "collateral_offered": collateral_offered})  # fmt: skip
    demand = portal.submit_demand(session, user.principal, fields)
    return redirect(f"{HOME}/demands/{demand.id}", f"已提交融资需求 #{demand.id}，状态：待对接")


@router.get("/portal/demands/{demand_id}")
def demand(request: Request, demand_id: PathId, session: SessionDep,
           user: EnterpriseSide) -> Response:  # fmt: skip
    """One of the enterprise's demands, with the form to change it."""
    row = portal.own_demand(session, user.principal, demand_id)
    return render(request, "portal_demand.html", title=f"融资需求 #{demand_id}", demand=row,
                  **CHOICES)  # fmt: skip


@router.post("/portal/demands/{demand_id}")
def edit_demand(demand_id: PathId, session: SessionDep, user: EnterpriseSide, _: Posted,
                amount_min_wan: Annotated[str, Form(max_length=20)] = "",
                amount_max_wan: Annotated[str, Form(max_length=20)] = "",
                deadline: Annotated[str, Form(max_length=10)] = "",
                note: Annotated[str, Form(max_length=300)] = "") -> Response:  # fmt: skip
    """Change the amount or deadline of one of the enterprise's open demands."""
    current = portal.own_demand(session, user.principal, demand_id)
    changes: dict[str, Any] = {k: _number(v, k) for k, v in
                               (("amount_min_wan", amount_min_wan),
                                ("amount_max_wan", amount_max_wan)) if v.strip()}  # fmt: skip
    if deadline.strip() != (current.deadline.isoformat() if current.deadline else ""):
        changes["deadline"] = deadline.strip()
    portal.edit_demand(session, user.principal, demand_id, changes, note.strip() or None)
    return redirect(f"{HOME}/demands/{demand_id}", "已保存修改")


@router.get("/portal/consents")
def consents(request: Request, session: SessionDep, user: EnterpriseSide) -> Response:
    """The enterprise's consents, and the form to grant one."""
    return render(request, "portal_consents.html", title="信息授权",
                  rows=portal.consents(session, user.principal),
                  institutions=portal.institutions(session), scopes=ConsentScope,
                  now=utcnow())  # fmt: skip


def _scopes(values: list[str]) -> list[ConsentScope]:
    try:
        return [ConsentScope(v) for v in values]
    except ValueError:
        raise DomainError("授权范围无效", field="scopes") from None


@router.post("/portal/consents")
def grant(session: SessionDep, user: EnterpriseSide, _: Posted,
          institution_id: Annotated[int, Form(ge=1, le=2_147_483_647)],
          scopes: Annotated[list[str], Form()] = []) -> Response:  # noqa: B006  # fmt: skip
    """Consent to disclose some scopes to one institution."""
    consent = portal.grant(session, user.principal, institution_id, _scopes(scopes))
    return redirect(f"{HOME}/consents", f"已授权（#{consent.id}）")


@router.post("/portal/consents/{consent_id}/revoke")
def revoke(consent_id: PathId, session: SessionDep, user: EnterpriseSide, _: Posted) -> Response:
    """Revoke one of the enterprise's consents."""
    portal.revoke(session, user.principal, consent_id)
    return redirect(f"{HOME}/consents", f"已撤回授权 #{consent_id}")


@router.post("/portal/introductions/{match_id}/consent")
def grant_for_introduction(match_id: PathId, session: SessionDep, user: EnterpriseSide,
                           _: Posted, scopes: Annotated[list[str], Form()] = []) -> Response:  # noqa: B006  # fmt: skip
    """Consent to the institution of one introduction or request."""
    portal.grant_for_match(session, user.principal, match_id, _scopes(scopes))
    return redirect(HOME, f"已向对接 #{match_id} 的机构授权")


@router.get("/portal/introductions/{match_id}/survey")
def survey(request: Request, match_id: PathId, session: SessionDep,
           user: EnterpriseSide) -> Response:  # fmt: skip
    """The satisfaction survey of a closed introduction."""
    intro = next((i for i in portal.introductions(session, user.principal)
                  if i.match_id == match_id), None)  # fmt: skip
    if intro is None:
        raise NotFoundError(f"对接记录 {match_id} 不存在")
    return render(request, "portal_survey.html", title="满意度调查", intro=intro)


@router.post("/portal/introductions/{match_id}/survey")
def answer_survey(match_id: PathId, session: SessionDep, user: EnterpriseSide, _: Posted,
                  satisfaction: Annotated[int, Form(ge=1, le=5)],
                  comment: Annotated[str, Form(max_length=2000)] = "") -> Response:  # fmt: skip
    """Answer the survey (once)."""
    portal.answer_survey(session, user.principal, match_id, satisfaction, comment)
    return redirect(HOME, "感谢您的评价，满意度调查已提交")


@router.get("/portal/complaints")
def complaints(request: Request, session: SessionDep, user: EnterpriseSide) -> Response:
    """The enterprise's complaints and suggestions with their handling, and the form."""
    return render(request, "portal_complaints.html", title="投诉与建议",
                  rows=portal.complaints_of(session, user.principal))  # fmt: skip


@router.post("/portal/complaints")
def file_complaint(session: SessionDep, user: EnterpriseSide, _: Posted,
                   kind: Annotated[ComplaintKind, Form()],
                   content: Annotated[str, Form(max_length=5000)]) -> Response:  # fmt: skip
    """File a complaint or suggestion."""
    row = portal.file_complaint(session, user.principal, kind, content)
    return redirect(f"{HOME}/complaints", f"已提交（编号 {row.id}），中心将尽快处理")


@router.get("/invitation")
def invitation(request: Request, token: Annotated[str, Query(max_length=100)] = "") -> Response:
    """The form that creates an enterprise user from an invitation link."""
    return render(request, "invitation.html", title="开通企业账号", token=token)


@router.post("/invitation")
def accept(session: SessionDep, token: Annotated[str, Form(max_length=100)],
           username: Annotated[str, Form(max_length=60)],
           password: Annotated[str, Form(max_length=200)],
           email: Annotated[str, Form(max_length=120)] = "") -> Response:  # fmt: skip
    """Create the account (the link is used up) and go to the sign-in form."""
    user = accounts.accept_invitation(session, token, username, password, email or None)
    return redirect("/console/login", f"账号“{user.username}”已开通，请登录")
