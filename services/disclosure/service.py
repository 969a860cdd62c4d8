"""Consent-gated disclosure (standard 6.1.2.3, 6.2.4.4): teasers by default, details after consent.

An institution sees a demand as an anonymised teaser (sector, stage, amount band, region, financing
type). The enterprise's identity, financials and contact persons reach it only while a recorded,
unexpired, unrevoked consent covers that scope, and every such disclosure is written to the audit log.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlmodel import Session

from models import Consent, ContactPerson, Enterprise, FinancingDemand, Institution
from models.base import utcnow
from models.errors import DomainError, NotFoundError
from models.reference import (
    Confidentiality,
    ConsentScope,
    FinancingType,
    Stage,
    UserRole,
    industry_name,
    region_city,
    region_province,
    strategic_industry_name,
)
from services.accounts.service import Principal
from services.audit.repository import append_audit
from services.disclosure import repository as repo
from services.disclosure.repository import contacts_of, open_teasers

_BAND_EDGES = (0.0, 100.0, 500.0, 1000.0, 3000.0, 5000.0, 10000.0)


@dataclass(frozen=True)
class Teaser:
    """What any subscribed institution may see of a demand: nothing that identifies the enterprise."""

    demand_id: int
    financing_type: str
    sector: str
    stage: str
    amount_band: str
    region: str


def _wan(amount: float) -> str:
    return f"{amount / 10000:g}亿元" if amount >= 10000 else f"{amount:g}万元"


def amount_band(low: float, high: float) -> str:
    """A coarse band around [low, high] 万元 that hides the exact amount: '500–1000万元'."""
    lower = max(e for e in _BAND_EDGES if e <= max(low, 0.0))
    upper = next((e for e in _BAND_EDGES if e >= high and e > lower), None)
    if upper is None:
        return f"{_wan(lower)}以上"
    if lower == 0:
        return f"{_wan(upper)}以下"
    return f"{lower:g}–{upper:g}万元"


def sector_label(ent: Enterprise | Row[Any]) -> str:
    """The enterprise's industry (GB/T 4754 大类, else its strategic emerging industry)."""
    name = industry_name(ent.industry_code) if ent.industry_code else None
    if name is None and ent.sei_category:
        name = strategic_industry_name(ent.sei_category)
    return name or "未披露"


def region_label(ent: Enterprise | Row[Any]) -> str:
    """The enterprise's city (or province): never the district or address."""
    code = ent.region_code or ""
    return region_city(code) or region_province(code) or "未披露"


def teaser(demand: FinancingDemand | Row[Any], enterprise: Enterprise | Row[Any]) -> Teaser:
    """The anonymised view of `demand`: sector, stage, amount band, city, financing type (each
    an entity, or a row with the columns of it that this reads)."""
    stage = demand.round_stage or enterprise.stage
    return Teaser(
        demand_id=demand.id or 0,
        financing_type=FinancingType(demand.financing_type).label,
        sector=sector_label(enterprise),
        stage=Stage(stage).label if stage else "未披露",
        amount_band=amount_band(demand.amount_min_wan, demand.amount_max_wan),
        region=region_label(enterprise),
    )


def active_consent(
    session: Session, enterprise_id: int, institution_id: int, scope: ConsentScope, at: datetime
) -> Consent | None:
    """The consent that lets `institution_id` see `scope` of the enterprise at `at`, if any."""
    rows = repo.consents_between(session, enterprise_id, institution_id)
    return next((c for c in rows if c.covers(scope.value, _aware(at))), None)


def chosen_by(session: Session, institution_id: int | None, at: datetime) -> set[int]:
    """The enterprises that chose `institution_id`: a consent of theirs to it (any scope) is in
    force at `at`. Only these may see the institution a confidential demand's teaser."""
    if institution_id is None:
        return set()
    moment, consents = _aware(at), repo.consents_to(session, institution_id)
    return {c.enterprise_id for c in consents if any(c.covers(s, moment) for s in c.scopes)}


def consenting_institutions(session: Session, enterprise_id: int, at: datetime) -> set[int]:
    """The institutions the enterprise chose: a consent of its to them (any scope) is in force."""
    moment, consents = _aware(at), repo.consents_of(session, enterprise_id)
    return {c.institution_id for c in consents if any(c.covers(s, moment) for s in c.scopes)}


def may_see_teaser(
    session: Session, demand: FinancingDemand, institution_id: int | None, at: datetime
) -> bool:
    """True when the institution may see `demand` as a teaser (see `repository.teaser_filter`)."""
    if not demand.status.is_open_for_matching:
        return False
    if demand.confidentiality != Confidentiality.confidential:
        return True
    return demand.enterprise_id in chosen_by(session, institution_id, at)


def disclosed_names(
    session: Session, *, actor: str, institution_id: int, enterprise_ids: set[int]
) -> dict[int, str]:
    """The legal names of those of `enterprise_ids` whose consent (details) to the institution is
    in force now; each name handed out is written to the audit log. The others are left out."""
    now = utcnow()
    shown = {
        e for e in sorted(enterprise_ids)
        if active_consent(session, e, institution_id, ConsentScope.details, now) is not None
    }  # fmt: skip
    if not shown:
        return {}
    names = repo.legal_names(session, shown)
    for enterprise_id in sorted(names):
        log_disclosure(session, actor=actor, institution_id=institution_id,
                       enterprise_id=enterprise_id, scope=ConsentScope.details)  # fmt: skip
    return names


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def record_consent(
    session: Session,
    *,
    enterprise_id: int,
    institution_id: int,
    scopes: list[ConsentScope],
    expires_at: datetime | None,
    actor: str,
    evidence: str | None = None,
) -> Consent:
    """Record the enterprise's consent to disclose `scopes` to one institution."""
    if session.get(Enterprise, enterprise_id) is None:
        raise NotFoundError(f"企业 {enterprise_id} 不存在", field="enterprise_id")
    if session.get(Institution, institution_id) is None:
        raise NotFoundError(f"入驻机构 {institution_id} 不存在", field="institution_id")
    now = utcnow()
    if expires_at is not None and _aware(expires_at) <= now:
        raise DomainError("授权到期时间必须晚于当前时间", field="expires_at")
    consent = Consent(enterprise_id=enterprise_id, institution_id=institution_id,
                      scopes=[s.value for s in scopes], granted_at=now, expires_at=expires_at,
                      recorded_by=actor, evidence=evidence)  # fmt: skip
    session.add(consent)
    session.flush()
    append_audit(session, actor=actor, action="consent", entity="enterprise",
                 entity_id=enterprise_id, detail={"institution_id": institution_id,
                                                  "scopes": consent.scopes})  # fmt: skip
    return consent


def revoke_consent(session: Session, consent_id: int, actor: str) -> Consent:
    """Revoke a consent from now on."""
    consent = session.get(Consent, consent_id)
    if consent is None:
        raise NotFoundError(f"授权 {consent_id} 不存在")
    consent.revoked_at = consent.revoked_at or utcnow()
    session.add(consent)
    append_audit(session, actor=actor, action="revoke", entity="consent", entity_id=consent_id)
    return consent


def log_disclosure(
    session: Session, *, actor: str, institution_id: int, enterprise_id: int, scope: ConsentScope
) -> None:
    """Write one disclosure of confidential enterprise data to the audit log."""
    append_audit(session, actor=actor, action="disclose", entity="enterprise",
                 entity_id=enterprise_id,
                 detail={"institution_id": institution_id, "scope": scope.value})  # fmt: skip


# --- what of an enterprise or a demand each caller may see (was api/views.py)

STAFF_ROLES = frozenset({UserRole.admin, UserRole.matchmaker})


@dataclass(frozen=True)
class EnterpriseView:
    """An enterprise as a caller may see it: `contacts` None means without personal data."""

    enterprise: Enterprise
    contacts: list[ContactPerson] | None


@dataclass(frozen=True)
class DemandView:
    """A demand as a caller may see it: its teaser; `details` (the demand and its enterprise)
    only where the enterprise's consent covers them."""

    demand: FinancingDemand
    teaser: Teaser
    details: EnterpriseView | None


def _consented(
    session: Session, principal: Principal, enterprise_id: int, scope: ConsentScope
) -> bool:
    institution_id = principal.institution_id
    return institution_id is not None and (
        active_consent(session, enterprise_id, institution_id, scope, utcnow()) is not None
    )


def enterprise_view(session: Session, principal: Principal, enterprise_id: int) -> EnterpriseView:
    """Staff: everything (the read of contacts is logged); evaluators: no personal data;
    institutions: only with consent (404 otherwise), and each disclosure is logged."""
    ent = session.get(Enterprise, enterprise_id)
    if ent is None:
        raise NotFoundError(f"企业 {enterprise_id} 不存在")
    if principal.role == UserRole.evaluator:
        return EnterpriseView(ent, None)
    actor, inst = principal.username, principal.institution_id or 0
    if principal.role in STAFF_ROLES:
        view = EnterpriseView(ent, contacts_of(session, enterprise_id))
        # Logged last: the chain is locked from the append to the commit, so keep that short.
        append_audit(session, actor=actor, action="read", entity="enterprise",
                     entity_id=enterprise_id, detail={"fields": ["contacts"]})  # fmt: skip
        return view
    if not _consented(session, principal, enterprise_id, ConsentScope.details):
        raise NotFoundError(f"企业 {enterprise_id} 不存在")
    scopes = [ConsentScope.details]
    if _consented(session, principal, enterprise_id, ConsentScope.contacts):
        view = EnterpriseView(ent, contacts_of(session, enterprise_id))
        scopes.append(ConsentScope.contacts)
    else:
        view = EnterpriseView(ent, None)
    for scope in scopes:  # logged last (details, then contacts), as above
        log_disclosure(session, actor=actor, institution_id=inst, enterprise_id=enterprise_id,
                       scope=scope)  # fmt: skip
    return view


def demand_view(session: Session, principal: Principal, demand_id: int) -> DemandView:
    """The teaser of a demand; its details and enterprise only where consent covers them.

    Only an open demand has a teaser (for staff too: they read `/demands`), and a confidential
    one only for staff and the institutions its enterprise chose: 404 for everyone else."""
    demand = session.get(FinancingDemand, demand_id)
    ent = session.get(Enterprise, demand.enterprise_id) if demand else None
    visible = demand is not None and (
        may_see_teaser(session, demand, principal.institution_id, utcnow())
        or (principal.role in STAFF_ROLES and demand.status.is_open_for_matching)
    )
    if demand is None or ent is None or not visible:
        raise NotFoundError(f"融资需求 {demand_id} 不存在")
    shown = principal.role in STAFF_ROLES or _consented(
        session, principal, ent.id or 0, ConsentScope.details
    )
    details = enterprise_view(session, principal, ent.id or 0) if shown else None
    return DemandView(demand, teaser(demand, ent), details)


def visible_teasers(
    session: Session, principal: Principal, offset: int, limit: int
) -> tuple[list[Teaser], int]:
    """One page of the open demands' teasers the caller may see, and their count: staff every
    open demand; anyone else (institutions, evaluators) confidential ones only of the
    enterprises that chose it."""
    chosen = (
        None
        if principal.role in STAFF_ROLES
        else chosen_by(session, principal.institution_id, utcnow())
    )
    rows, count = open_teasers(session, offset, limit, chosen)
    return [teaser(d, e) for d, e in rows], count
