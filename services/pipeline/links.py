"""Deals tied to introductions: a deal imported or reported for an enterprise and an institution
links to their match introduced (已引荐 or later) on or before the deal's date; with several
candidates or none it waits in the 待关联成交 queue, where a matchmaker links or rejects it.

Only a linked, confirmed deal counts as 撮合 (表A.1, learning); linking one raises its demand's
amount raised and may close the demand as 已融资 (`demands.apply_deals`).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlmodel import Session

from models import Deal, Match
from models.clock import center_zone
from models.errors import ConflictError, DomainError, NotFoundError
from models.reference import DealLink, DealStatus, PipelineStage
from services.audit.repository import append_audit
from services.pipeline import demands
from services.pipeline import repository as repo
from services.pipeline.service import move_match

MAX_NOTE = 300


@dataclass(frozen=True)
class LinkSummary:
    """What linking a set of deals did: deals linked, deals left in the queue."""

    linked: list[int]
    queued: list[int]


def candidates(session: Session, deal: Deal) -> list[Match]:
    """The matches the deal may be tied to (see the module's rule)."""
    day_after = datetime.combine(deal.closed_on + timedelta(days=1), time(), center_zone())
    return repo.link_candidates(session, deal, day_after)


def link_new_deals(session: Session, deal_ids: Sequence[int], actor: str) -> LinkSummary:
    """Tie each unlinked deal of `deal_ids` to its only candidate; the others wait in the queue."""
    linked, queued = [], []
    for deal in repo.deals_of_ids(session, deal_ids):
        found = candidates(session, deal)
        if len(found) == 1:
            _link(session, deal, found[0], actor, "唯一的已引荐撮合，自动关联")
            linked.append(deal.id or 0)
        else:
            queued.append(deal.id or 0)
    return LinkSummary(linked, queued)


def recount(session: Session, deal_ids: Sequence[int], actor: str, note: str) -> list[int]:
    """Linked deals among `deal_ids` changed (an amount corrected by a later import): their
    demands' amount raised is their linked deals' total again. The demands recounted."""
    demand_ids = repo.demands_of_linked_deals(session, deal_ids)
    for demand_id in demand_ids:
        demands.apply_deals(session, demand_id, actor, note, corrected=True)
    return demand_ids


def link(session: Session, deal_id: int, match_id: int, *, actor: str, note: str | None) -> Deal:
    """A matchmaker ties a queued deal to one of its candidate matches."""
    deal = _queued(session, deal_id)
    match = next((m for m in candidates(session, deal) if m.id == match_id), None)
    if match is None:
        raise DomainError(f"撮合记录 {match_id} 不是成交 #{deal_id} 的候选：须为同一企业与机构、"
                          "成交日当天或之前已引荐且未谢绝的撮合", field="match_id")  # fmt: skip
    return _link(session, deal, match, actor, _note(note) or "撮合专员手动关联")


def reject(session: Session, deal_id: int, *, actor: str, note: str | None) -> Deal:
    """A matchmaker decides a queued deal was not brokered by the center: it leaves the queue
    and never counts as 撮合."""
    text = _note(note)
    if not text:
        raise DomainError("请填写不予关联的原因", field="note")
    deal = _queued(session, deal_id)
    deal.link_status = DealLink.rejected
    session.add(deal)
    append_audit(session, actor=actor, action="reject_link", entity="deal", entity_id=deal_id,
                 detail={"note": text})  # fmt: skip
    session.flush()
    return deal


def queue(session: Session, limit: int = 200) -> list[tuple[Deal, list[Match]]]:
    """The 待关联成交 queue, oldest first, each deal with its candidate matches."""
    return [(d, candidates(session, d)) for d in repo.unlinked_deals(session, limit)]


def queue_json(session: Session, limit: int = 200) -> list[dict[str, Any]]:
    """The queue as `matchmaker deals unlinked --json` prints it."""
    return [
        {"deal_id": d.id, "enterprise_id": d.enterprise_id, "institution_id": d.institution_id,
         "deal_type": str(d.deal_type), "amount_wan": d.amount_wan,
         "closed_on": d.closed_on.isoformat(), "status": str(d.status),
         "candidate_match_ids": [m.id for m in found]}
        for d, found in queue(session, limit)
    ]  # fmt: skip


def _note(note: str | None) -> str:
    text = (note or "").strip()
    if len(text) > MAX_NOTE:
        raise DomainError(f"备注不能超过 {MAX_NOTE} 个字符", field="note")
    return text


def _queued(session: Session, deal_id: int) -> Deal:
    deal = session.get(Deal, deal_id)
    if deal is None:
        raise NotFoundError(f"成交记录 {deal_id} 不存在", field="deal_id")
    if deal.link_status != DealLink.unlinked or deal.status == DealStatus.rejected:
        state = DealLink(deal.link_status).label
        raise ConflictError(f"成交记录 {deal_id} {state}，不在待关联成交队列中", field="deal_id")
    return deal


def _link(session: Session, deal: Deal, match: Match, actor: str, note: str) -> Deal:
    deal.match_id, deal.link_status = match.id, DealLink.linked
    session.add(deal)
    session.flush()
    append_audit(session, actor=actor, action="link", entity="deal", entity_id=deal.id,
                 detail={"match_id": match.id, "note": note})  # fmt: skip
    if deal.status == DealStatus.confirmed:
        settle(session, match, actor, f"成交 #{deal.id}（{deal.amount_wan:g} 万元）：{note}")
    return deal


def settle(session: Session, match: Match, actor: str, note: str) -> None:
    """A confirmed deal now counts on `match`: the match is won and its demand's amount raised
    updated (closed as 已融资 when covered)."""
    if match.stage != PipelineStage.closed_won:
        move_match(session, match.id or 0, PipelineStage.closed_won, match.version, actor=actor,
                   note=note[:300])  # fmt: skip
    demands.apply_deals(session, match.demand_id, actor, note[:300])
