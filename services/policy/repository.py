"""Every query of the policy calculator (services never commit; the caller does)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlmodel import Session, col, select

from matching.policy import LoanRecord
from models import (
    Deal,
    Enterprise,
    FinancingDemand,
    Institution,
    ListingMilestone,
    ListingRecord,
    LoanProduct,
)
from models.demand import open_for_matching
from models.policy import Policy, PolicyOutreach
from models.reference import DealStatus, DealType, FinancingType, InstitutionKind


def policies(session: Session, ids: Iterable[int] | None = None) -> Sequence[Policy]:
    """Every policy (or those with ``ids``), in id order."""
    query = select(Policy).order_by(col(Policy.id))
    if ids is not None:
        query = query.where(col(Policy.id).in_(list(ids)))
    return session.exec(query).all()


def enterprises(session: Session, ids: set[int] | None) -> Sequence[Enterprise]:
    """Every enterprise (or those with ``ids``), in id order."""
    query = select(Enterprise).order_by(col(Enterprise.id))
    if ids is not None:
        query = query.where(col(Enterprise.id).in_(ids))
    return session.exec(query).all()


def loans(session: Session, ids: set[int] | None) -> dict[int, list[LoanRecord]]:
    query = select(Deal, Institution).join(Institution, col(Deal.institution_id) == Institution.id)
    query = query.where(Deal.deal_type == DealType.loan, Deal.status == DealStatus.confirmed)
    if ids is not None:
        query = query.where(col(Deal.enterprise_id).in_(ids))
    loans: dict[int, list[LoanRecord]] = defaultdict(list)
    for deal, inst in session.exec(query).all():
        resident = inst.kind == InstitutionKind.bank and inst.is_resident_on(deal.closed_on)
        name = inst.short_name or inst.name
        loans[deal.enterprise_id].append(
            LoanRecord(deal.closed_on, deal.amount_wan, name, resident)
        )
    return loans


def milestones(session: Session, ids: set[int] | None) -> dict[int, dict[str, date]]:
    query = select(  # type: ignore[call-overload]
        ListingRecord.enterprise_id, ListingMilestone.kind, ListingMilestone.occurred_on
    )
    query = query.join(
        ListingMilestone, col(ListingMilestone.listing_record_id) == ListingRecord.id
    )
    records = select(ListingRecord)
    if ids is not None:
        query = query.where(col(ListingRecord.enterprise_id).in_(ids))
        records = records.where(col(ListingRecord.enterprise_id).in_(ids))
    found: dict[int, dict[str, date]] = {}
    for rec in session.exec(records).all():
        found[rec.enterprise_id] = {"listed": rec.listed_on} if rec.listed_on else {}
    for ent_id, kind, day in session.exec(query).all():
        found[ent_id].setdefault(str(kind), day)
    return found


def loan_needs(session: Session, ids: set[int] | None) -> dict[int, tuple[float, int | None]]:
    kinds = [FinancingType.loan, FinancingType.mixed]
    query = select(FinancingDemand).where(col(FinancingDemand.financing_type).in_(kinds))
    query = query.where(open_for_matching())
    if ids is not None:
        query = query.where(col(FinancingDemand.enterprise_id).in_(ids))
    needs: dict[int, tuple[float, int | None]] = {}
    for d in session.exec(query.order_by(col(FinancingDemand.id))).all():
        needs[d.enterprise_id] = (d.amount_max_wan, d.term_months)
    return needs


def last_informed(session: Session, policy_id: int) -> dict[int, datetime]:
    query = select(PolicyOutreach.enterprise_id, PolicyOutreach.informed_at)
    rows = session.exec(query.where(PolicyOutreach.policy_id == policy_id)).all()
    latest: dict[int, datetime] = {}
    for ent_id, at in rows:
        if ent_id not in latest or at > latest[ent_id]:
            latest[ent_id] = at
    return latest


# --- console and API reads


def open_loan_demand(session: Session, enterprise_id: int) -> FinancingDemand | None:
    """The enterprise's first open loan (or mixed) demand."""
    query = select(FinancingDemand).where(
        FinancingDemand.enterprise_id == enterprise_id,
        col(FinancingDemand.financing_type).in_([FinancingType.loan, FinancingType.mixed]),
        open_for_matching(),
    )
    return session.exec(query.order_by(col(FinancingDemand.id))).first()


def dearest_product_for(session: Session, amount_wan: float) -> LoanProduct | None:
    """The loan product with the highest rate cap that lends `amount_wan` (the first by id)."""
    query = select(LoanProduct).where(LoanProduct.max_amount_wan >= amount_wan)
    query = query.order_by(col(LoanProduct.rate_max_pct).desc(), col(LoanProduct.id))
    return session.exec(query).first()
