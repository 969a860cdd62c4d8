"""The pipeline: introductions, stage moves with optimistic concurrency, and recorded deals."""

from datetime import date, datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

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
from models.errors import ConflictError, DomainError, NotFoundError
from models.reference import (
    ALLOWED_TRANSITIONS,
    DealType,
    InstitutionKind,
    PipelineStage,
    UserRole,
)
from models.repositories.audit import append_audit
from models.repositories.base import get_or_404
from models.services.accounts import Principal

ENTERED_AT_INTRODUCTION = frozenset(PipelineStage) - {PipelineStage.recommended}


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
    """Introduce a demand's enterprise to an institution: create or advance the match."""
    get_or_404(session, FinancingDemand, demand_id)
    get_or_404(session, Institution, institution_id)
    _check_offer(session, institution_id, loan_product_id, mandate_id)
    match = session.exec(
        select(Match).where(
            Match.demand_id == demand_id, Match.institution_id == institution_id,
            Match.loan_product_id == loan_product_id, Match.mandate_id == mandate_id,
        )
    ).first()  # fmt: skip
    if match is None:
        match = Match(demand_id=demand_id, institution_id=institution_id,
                      loan_product_id=loan_product_id, mandate_id=mandate_id,
                      recommended_at=at or utcnow())  # fmt: skip
        session.add(match)
        session.flush()
    if match.stage == PipelineStage.recommended:
        return move_match(session, match.id or 0, PipelineStage.introduced, match.version,
                          actor=actor, at=at)  # fmt: skip
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
    if to_stage not in ALLOWED_TRANSITIONS[PipelineStage(match.stage)]:
        raise DomainError(
            f"不能从“{PipelineStage(match.stage).label}”转到“{to_stage.label}”", field="to_stage"
        )
    moment = at or utcnow()
    values = _stage_values(match, to_stage, moment)
    result = session.execute(
        update(Match)
        .where(col(Match.id) == match_id, col(Match.version) == expected_version)
        .values(stage=to_stage, version=expected_version + 1, **values)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ConflictError("该撮合记录已被他人更新，请刷新后重试", field="expected_version")
    session.add(MatchTransition(match_id=match_id, from_stage=match.stage, to_stage=to_stage,
                                at=moment, actor=actor, note=note))  # fmt: skip
    append_audit(session, actor=actor, action="transition", entity="match", entity_id=match_id,
                 detail={"from": str(match.stage), "to": to_stage.value})  # fmt: skip
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


def record_deal(
    session: Session,
    *,
    match_id: int,
    amount_wan: float,
    closed_on: date,
    actor: str,
    note: str | None = None,
) -> Deal:
    """Record the loan or investment a won match produced (the match is closed as won)."""
    match = get_or_404(session, Match, match_id)
    if amount_wan <= 0:
        raise DomainError(f"成交金额必须大于 0（实际为 {amount_wan}）", field="amount_wan")
    if match.stage != PipelineStage.closed_won:
        match = move_match(session, match_id, PipelineStage.closed_won, match.version, actor=actor)
    demand = get_or_404(session, FinancingDemand, match.demand_id)
    institution = get_or_404(session, Institution, match.institution_id)
    deal = Deal(deal_type=deal_type_for(institution), amount_wan=amount_wan, closed_on=closed_on,
                enterprise_id=demand.enterprise_id, institution_id=institution.id or 0,
                match_id=match_id, note=note)  # fmt: skip
    session.add(deal)
    session.flush()
    append_audit(session, actor=actor, action="create", entity="deal", entity_id=deal.id,
                 detail={"match_id": match_id, "amount_wan": amount_wan})  # fmt: skip
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
    get_or_404(session, FinancingDemand, demand_id)
    query = select(Match).where(
        Match.demand_id == demand_id, Match.institution_id == principal.institution_id
    )
    match = session.exec(query).first()
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
