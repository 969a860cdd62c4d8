"""Console: a demand's lifecycle (close, pause, reopen, edit) and the 待关联成交 queue."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response

from api.deps import PathId, SessionDep
from api.web.auth import Posted, StaffUser
from api.web.render import ConsoleRoute, redirect, render
from models.paging import enterprise_names, institution_names
from models.reference import Collateral, DemandStatus
from services.pipeline import demands, links

router = APIRouter(route_class=ConsoleRoute)
Note = Annotated[str, Form(max_length=300)]
Amount = Annotated[float | None, Form(gt=0, le=10_000_000)]


def _back(demand_id: int, message: str) -> Response:
    return redirect(f"/console/demands/{demand_id}#lifecycle", message)


@router.post("/demands/{demand_id}/close")
def close(demand_id: PathId, session: SessionDep, user: StaffUser, _: Posted,
          as_status: Annotated[DemandStatus, Form()], note: Note,
          amount_wan: Amount = None) -> Response:  # fmt: skip
    """结案: 已融资 (with the amount raised), 已撤回 or 已过期."""
    demand = demands.close(session, demand_id, as_status=as_status, note=note,
                           actor=user.principal.username, amount_wan=amount_wan)  # fmt: skip
    label = DemandStatus(demand.status).label
    return _back(demand_id, f"融资需求 #{demand_id} 已结案：{label}")


@router.post("/demands/{demand_id}/pause")
def pause(demand_id: PathId, session: SessionDep, user: StaffUser, _: Posted,
          note: Note) -> Response:  # fmt: skip
    """暂停."""
    demands.pause(session, demand_id, note=note, actor=user.principal.username)
    return _back(demand_id, f"融资需求 #{demand_id} 已暂停")


@router.post("/demands/{demand_id}/reopen")
def reopen(demand_id: PathId, session: SessionDep, user: StaffUser, _: Posted,
           note: Note) -> Response:  # fmt: skip
    """重新开放."""
    demand = demands.reopen(session, demand_id, note=note, actor=user.principal.username)
    return _back(
        demand_id, f"融资需求 #{demand_id} 已重新开放：{DemandStatus(demand.status).label}"
    )


@router.post("/demands/{demand_id}/edit")
def edit(demand_id: PathId, session: SessionDep, user: StaffUser, _: Posted, note: Note,
         amount_min_wan: Amount = None, amount_max_wan: Amount = None,
         financing_type: Annotated[str | None, Form(max_length=20)] = None,
         collateral_offered: Annotated[list[Collateral] | None, Form()] = None,
         deadline: Annotated[date | None, Form()] = None,
         confidentiality: Annotated[str | None, Form(max_length=20)] = None) -> Response:  # fmt: skip
    """Edit the fields the form changed (each a history row)."""
    demand = demands.demand_state(session, demand_id).demand
    given: dict[str, Any] = {
        "amount_min_wan": amount_min_wan, "amount_max_wan": amount_max_wan,
        "financing_type": financing_type, "confidentiality": confidentiality,
        "collateral_offered": [c.value for c in collateral_offered or []], "deadline": deadline,
    }  # fmt: skip
    changes = {k: v for k, v in given.items() if v is not None and v != _current(demand, k)}
    demands.edit(session, demand_id, changes, note=note, actor=user.principal.username)
    names = "、".join(demands.EDITABLE[k] for k in changes)
    return _back(demand_id, f"融资需求 #{demand_id} 已修改：{names}")


def _current(demand: Any, name: str) -> Any:
    value = getattr(demand, name)
    return [str(v) for v in value] if isinstance(value, list) else value


@router.get("/deals/unlinked")
def unlinked(request: Request, session: SessionDep, _: StaffUser) -> Response:
    """The 待关联成交 queue: each deal with its candidate matches, to link or reject."""
    rows = links.queue(session)
    ents = enterprise_names(session, {d.enterprise_id for d, _ in rows})
    insts = institution_names(session, {d.institution_id for d, _ in rows})
    return render(request, "deals_unlinked.html", title="待关联成交", rows=rows, ents=ents,
                  insts=insts)  # fmt: skip


@router.post("/deals/{deal_id}/link")
def link(deal_id: PathId, session: SessionDep, user: StaffUser, _: Posted,
         match_id: Annotated[int, Form(ge=1)],
         note: Annotated[str | None, Form(max_length=300)] = None) -> Response:  # fmt: skip
    """Tie the deal to the chosen candidate match."""
    links.link(session, deal_id, match_id, actor=user.principal.username, note=note)
    return redirect("/console/deals/unlinked", f"成交 #{deal_id} 已关联撮合记录 #{match_id}")


@router.post("/deals/{deal_id}/reject-link")
def reject_link(deal_id: PathId, session: SessionDep, user: StaffUser, _: Posted,
                note: Note) -> Response:  # fmt: skip
    """The deal was not brokered by the center."""
    links.reject(session, deal_id, actor=user.principal.username, note=note)
    return redirect("/console/deals/unlinked", f"成交 #{deal_id} 不予关联，不计入撮合")
