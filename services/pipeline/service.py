"""The pipeline: introductions, stage moves with optimistic concurrency, and recorded deals."""

from datetime import date, datetime

from sqlmodel import Session

from models import (
    Deal,
    FinancingDemand,
    Institution,
    InvestmentMandate,
    LoanProduct,
    Match,
    MatchTransition,
)
from models.base import utcnow
from models.crud import get_or_404
from models.errors import ConflictError, DomainError, ForbiddenError, NotFoundError
from models.reference import (
    ALLOWED_TRANSITIONS,
    DealLink,
    DealStatus,
    DealType,
    InstitutionKind,
    PipelineStage,
    UserRole,
)
from services.accounts.service import Principal
from services.audit.repository import append_audit
from services.disclosure.service import may_see_teaser
from services.pipeline import demands
from services.pipeline import repository as repo

ENTERED_AT_INTRODUCTION = frozenset(PipelineStage) - {PipelineStage.recommended}
# An institution may only decline (or withdraw from) its match: every other move is the
# matchmakers', so no institution can advance itself towards a disclosure.
INSTITUTION_MOVES = frozenset({PipelineStage.closed_lost})
# An institution may report the deal of a match the matchmakers brought this far.
CLAIMABLE_STAGES = frozenset({PipelineStage.term_sheet, PipelineStage.closed_won})
MAX_REASON = 300


def introduce(
    session: Session,
    *,
    demand_id: int,
    institution_id: int,
    actor: str,
    loan_product_id: int | None = None,
    mandate_id: int | None = None,
    at: datetime | None = None,
) -> Match:
    """Introduce a demand's enterprise to an institution: create or advance the match (a
    demand 待对接 becomes 对接中). Only a demand open for matching."""
    demands.check_open_for_matching(session, demand_id)
    get_or_404(session, Institution, institution_id)
    _check_offer(session, institution_id, loan_product_id, mandate_id)
    match = repo.match_of(session, demand_id, institution_id,
                          loan_product_id=loan_product_id, mandate_id=mandate_id)  # fmt: skip
    if match is None:
        match = Match(demand_id=demand_id, institution_id=institution_id,
                      loan_product_id=loan_product_id, mandate_id=mandate_id,
                      recommended_at=at or utcnow())  # fmt: skip
        session.add(match)
        session.flush()
    if match.stage == PipelineStage.recommended:
        match = move_match(session, match.id or 0, PipelineStage.introduced, match.version,
                           actor=actor, at=at)  # fmt: skip
    demands.mark_introduced(session, demand_id, actor)
    return match


def _check_offer(
    session: Session, institution_id: int, loan_product_id: int | None, mandate_id: int | None
) -> None:
    """The product or mandate named must exist and belong to the institution."""
    product = session.get(LoanProduct, loan_product_id) if loan_product_id else None
    if loan_product_id and (product is None or product.institution_id != institution_id):
        raise NotFoundError(
            f"该机构没有编号为 {loan_product_id} 的贷款产品", field="loan_product_id"
        )
    mandate = session.get(InvestmentMandate, mandate_id) if mandate_id else None
    if mandate_id and (mandate is None or mandate.institution_id != institution_id):
        raise NotFoundError(f"该机构没有编号为 {mandate_id} 的投资方向", field="mandate_id")


def move_match(
    session: Session,
    match_id: int,
    to_stage: PipelineStage,
    expected_version: int,
    *,
    actor: str,
    at: datetime | None = None,
    note: str | None = None,
) -> Match:
    """Move a match one or more stages; 409 when someone else moved it first."""
    match = get_or_404(session, Match, match_id)
    from_stage = PipelineStage(match.stage)  # read before the UPDATE refreshes `match`
    if to_stage not in ALLOWED_TRANSITIONS[from_stage]:
        raise DomainError(f"不能从“{from_stage.label}”转到“{to_stage.label}”", field="to_stage")
    moment = at or utcnow()
    values = _stage_values(match, to_stage, moment)
    if not repo.move_if_version(session, match_id, expected_version, stage=to_stage, **values):
        raise ConflictError("该撮合记录已被他人更新，请刷新后重试", field="expected_version")
    session.add(MatchTransition(match_id=match_id, from_stage=from_stage, to_stage=to_stage,
                                at=moment, actor=actor, note=note))  # fmt: skip
    append_audit(session, actor=actor, action="transition", entity="match", entity_id=match_id,
                 detail={"from": from_stage.value, "to": to_stage.value})  # fmt: skip
    session.flush()
    session.refresh(match)
    return match


def _stage_values(match: Match, to_stage: PipelineStage, moment: datetime) -> dict[str, object]:
    values: dict[str, object] = {}
    if match.introduced_at is None and to_stage in ENTERED_AT_INTRODUCTION - {
        PipelineStage.closed_lost
    }:
        values["introduced_at"] = moment
    if to_stage in (PipelineStage.closed_won, PipelineStage.closed_lost):
        values["closed_at"] = moment
    return values


def check_move(principal: Principal, to_stage: PipelineStage) -> None:
    """Staff move matches; an institution may only decline its own (403 otherwise)."""
    if principal.role == UserRole.institution and to_stage not in INSTITUTION_MOVES:
        raise ForbiddenError(
            "入驻机构只能谢绝撮合（转为“未成交”），其余阶段由撮合专员推进", field="to_stage"
        )


def record_deal(
    session: Session,
    *,
    match_id: int,
    amount_wan: float,
    closed_on: date,
    actor: str,
    note: str | None = None,
    split: bool = False,
    confirm_out_of_range: bool = False,
) -> Deal:
    """Staff record the loan or investment a match produced: confirmed at once, and the match
    is closed as won. A second deal on the match only with `split`; an amount above the
    demand's upper bound only with `confirm_out_of_range`."""
    match = get_or_404(session, Match, match_id)
    _check_amount(amount_wan)
    if not split:
        _check_single(session, match_id)
    demand = get_or_404(session, FinancingDemand, match.demand_id)
    _check_range(demand, amount_wan, confirm_out_of_range)
    if match.stage != PipelineStage.closed_won:
        match = move_match(session, match_id, PipelineStage.closed_won, match.version, actor=actor)
    deal = _new_deal(session, match, demand, amount_wan, closed_on, note,
                     status=DealStatus.confirmed, decided_by=actor)  # fmt: skip
    append_audit(session, actor=actor, action="create", entity="deal", entity_id=deal.id,
                 detail={"match_id": match_id, "amount_wan": amount_wan, "split": split,
                         "status": DealStatus.confirmed.value})  # fmt: skip
    demands.apply_deals(session, demand.id or 0, actor, _deal_note(deal))
    return deal


def _deal_note(deal: Deal) -> str:
    return f"成交 #{deal.id}（{deal.amount_wan:g} 万元）"


def claim_deal(
    session: Session,
    *,
    match_id: int,
    amount_wan: float,
    closed_on: date,
    actor: str,
    note: str | None = None,
) -> Deal:
    """An institution reports the deal of its match: a claim that counts nowhere until a
    matchmaker confirms it. Only for a match the matchmakers brought to term sheet or won, and
    only while the match has no other claimed or confirmed deal. The match does not move."""
    match = get_or_404(session, Match, match_id)
    _check_amount(amount_wan)
    if match.stage not in CLAIMABLE_STAGES:
        raise DomainError(
            f"撮合记录 {match_id} 处于“{PipelineStage(match.stage).label}”阶段，"
            "到“投资意向/授信审批”或“成交”后方可申报成交", field="match_id",
        )  # fmt: skip
    _check_single(session, match_id)
    demand = get_or_404(session, FinancingDemand, match.demand_id)
    deal = _new_deal(session, match, demand, amount_wan, closed_on, note,
                     status=DealStatus.claimed, decided_by=None)  # fmt: skip
    append_audit(session, actor=actor, action="claim", entity="deal", entity_id=deal.id,
                 detail={"match_id": match_id, "amount_wan": amount_wan})  # fmt: skip
    return deal


def confirm_deal(
    session: Session, deal_id: int, *, actor: str, confirm_out_of_range: bool = False
) -> Deal:
    """A matchmaker confirms a claimed deal: it counts from now on, and its match is closed as
    won. An amount above the demand's upper bound needs `confirm_out_of_range`."""
    deal = _claimed(session, deal_id)
    match = get_or_404(session, Match, deal.match_id or 0)
    demand = get_or_404(session, FinancingDemand, match.demand_id)
    _check_range(demand, deal.amount_wan, confirm_out_of_range)
    if match.stage != PipelineStage.closed_won:
        move_match(session, match.id or 0, PipelineStage.closed_won, match.version, actor=actor)
    deal = _decide(session, deal, DealStatus.confirmed, actor, None)
    demands.apply_deals(session, demand.id or 0, actor, _deal_note(deal))
    return deal


def reject_deal(session: Session, deal_id: int, *, actor: str, reason: str | None = None) -> Deal:
    """A matchmaker rejects a claimed deal: it never counts, and the match may be claimed anew."""
    if reason is not None and len(reason) > MAX_REASON:
        raise DomainError(f"驳回原因不能超过 {MAX_REASON} 个字符", field="reason")
    return _decide(session, _claimed(session, deal_id), DealStatus.rejected, actor, reason)


def claimed_deals(session: Session, limit: int = 100) -> list[Deal]:
    """Claimed deals awaiting a matchmaker, oldest first."""
    return repo.claimed_deals(session, limit)


def _claimed(session: Session, deal_id: int) -> Deal:
    deal = session.get(Deal, deal_id)
    if deal is None:
        raise NotFoundError(f"成交记录 {deal_id} 不存在")
    if deal.status != DealStatus.claimed:
        raise ConflictError(
            f"成交记录 {deal_id} {DealStatus(deal.status).label}，不能再确认或驳回", field="deal_id"
        )
    return deal


def _decide(
    session: Session, deal: Deal, status: DealStatus, actor: str, reason: str | None
) -> Deal:
    deal.status, deal.decided_by, deal.decided_at = status, actor, utcnow()
    session.add(deal)
    session.flush()
    detail: dict[str, object] = {"match_id": deal.match_id, "amount_wan": deal.amount_wan}
    if reason:
        detail["reason"] = reason
    action = "confirm" if status == DealStatus.confirmed else "reject"
    append_audit(session, actor=actor, action=action, entity="deal", entity_id=deal.id,
                 detail=detail)  # fmt: skip
    return deal


def _check_amount(amount_wan: float) -> None:
    if amount_wan <= 0:
        raise DomainError(f"成交金额必须大于 0（实际为 {amount_wan}）", field="amount_wan")


def _check_single(session: Session, match_id: int) -> None:
    """One match, one deal (rejected claims aside) unless a matchmaker splits it."""
    existing = repo.live_deal_of(session, match_id)
    if existing is not None:
        raise ConflictError(
            f"撮合记录 {match_id} 已登记成交 #{existing}；一笔撮合只记一笔成交，"
            "确需拆分的由撮合专员登记（split）", field="match_id",
        )  # fmt: skip


def _check_range(demand: FinancingDemand, amount_wan: float, confirmed: bool) -> None:
    if amount_wan > demand.amount_max_wan and not confirmed:
        raise DomainError(
            f"成交金额 {amount_wan:g} 万元超出需求金额上限 {demand.amount_max_wan:g} 万元，"
            "核实无误后请明确确认（confirm_out_of_range）", field="amount_wan",
        )  # fmt: skip


def _new_deal(
    session: Session,
    match: Match,
    demand: FinancingDemand,
    amount_wan: float,
    closed_on: date,
    note: str | None,
    *,
    status: DealStatus,
    decided_by: str | None,
) -> Deal:
    institution = get_or_404(session, Institution, match.institution_id)
    deal = Deal(deal_type=deal_type_for(institution), amount_wan=amount_wan, closed_on=closed_on,
                enterprise_id=demand.enterprise_id, institution_id=institution.id or 0,
                match_id=match.id, note=note, status=status, decided_by=decided_by,
                decided_at=utcnow() if decided_by else None,
                link_status=DealLink.linked)  # fmt: skip
    session.add(deal)
    session.flush()
    return deal


def deal_type_for(institution: Institution) -> DealType:
    """Banks and guarantors lend; everyone else invests."""
    lenders = (InstitutionKind.bank, InstitutionKind.guarantee)
    return DealType.loan if institution.kind in lenders else DealType.equity


def match_for_institution(session: Session, match_id: int, institution_id: int | None) -> Match:
    """A match, hidden (404) from an institution that is not its counterpart."""
    match = session.get(Match, match_id)
    if match is None or (institution_id is not None and match.institution_id != institution_id):
        raise NotFoundError(f"撮合记录 {match_id} 不存在")
    return match


def request_introduction(
    session: Session, *, demand_id: int, principal: Principal, message: str | None
) -> Match:
    """An institution asks for an introduction: a recommended match the matchmakers will see."""
    if principal.role != UserRole.institution or principal.institution_id is None:
        raise DomainError("仅入驻机构可以申请引荐", field="demand_id")
    demand = session.get(FinancingDemand, demand_id)
    if demand is None or not may_see_teaser(session, demand, principal.institution_id, utcnow()):
        raise NotFoundError(f"融资需求 {demand_id} 不存在", field="demand_id")
    match = repo.match_of(session, demand_id, principal.institution_id)
    if match is None:
        match = Match(demand_id=demand_id, institution_id=principal.institution_id,
                      recommended_at=utcnow())  # fmt: skip
        session.add(match)
        session.flush()
        session.add(MatchTransition(match_id=match.id or 0, to_stage=PipelineStage.recommended,
                                    at=utcnow(), actor=principal.username,
                                    note=f"机构申请引荐：{message or ''}"[:300]))  # fmt: skip
    append_audit(session, actor=principal.username, action="request_introduction",
                 entity="demand", entity_id=demand_id)  # fmt: skip
    return match


# --- what a principal may do with a match (staff any; an institution only its own)


def own_match(session: Session, principal: Principal, match_id: int) -> Match:
    """The match, if the principal may act on it: staff any, an institution its own (404)."""
    mine = principal.institution_id if principal.role == UserRole.institution else None
    return match_for_institution(session, match_id, mine)


def move_as(
    session: Session,
    principal: Principal,
    match_id: int,
    to_stage: PipelineStage,
    expected_version: int,
    note: str | None = None,
) -> Match:
    """Move a match (staff; an institution may only decline its own)."""
    own_match(session, principal, match_id)
    check_move(principal, to_stage)
    return move_match(session, match_id, to_stage, expected_version, actor=principal.username,
                      note=note)  # fmt: skip


def deal_as(
    session: Session,
    principal: Principal,
    *,
    match_id: int,
    amount_wan: float,
    closed_on: date,
    note: str | None = None,
    split: bool = False,
    confirm_out_of_range: bool = False,
) -> Deal:
    """Staff record a confirmed deal (`record_deal`); an institution files a claim a
    matchmaker must confirm (`claim_deal`), never split nor out of range."""
    own_match(session, principal, match_id)
    actor = principal.username
    if principal.role != UserRole.institution:
        return record_deal(session, match_id=match_id, amount_wan=amount_wan, closed_on=closed_on,
                           actor=actor, note=note, split=split,
                           confirm_out_of_range=confirm_out_of_range)  # fmt: skip
    if split or confirm_out_of_range:
        raise ForbiddenError("拆分成交或确认超额金额仅限撮合专员", field="split")
    return claim_deal(session, match_id=match_id, amount_wan=amount_wan, closed_on=closed_on,
                      actor=actor, note=note)  # fmt: skip
