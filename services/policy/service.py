"""The policy calculator's DB adapter: load, evaluate, reach, record outreach, subsidise loans.

It calls the pure :mod:`matching.policy` and returns plain results; services never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from sqlmodel import Session

from matching.policy import (
    MET,
    EnterpriseFacts,
    EnterpriseRecord,
    FinancingQuote,
    LoanOffer,
    LoanRecord,
    LoanTerms,
    PolicySpec,
    PolicyVerdicts,
    PolicyVocabulary,
    benefit_amounts,
    benefit_text,
    evaluate_catalogue,
    evaluate_policy,
    explain_condition,
    quote_loan,
    rank_reach,
)
from models import Enterprise, Institution, LoanProduct
from models.clock import center_today
from models.crud import add, get_or_404, validated
from models.errors import DomainError
from models.policy import (
    BenefitType,
    OutreachChannel,
    OutreachOutcome,
    Policy,
    PolicyLevel,
    PolicyOutreach,
)
from models.reference import (
    INDUSTRY_DIVISIONS,
    INDUSTRY_SECTIONS,
    REGIONS,
    STRATEGIC_EMERGING_INDUSTRIES,
    Collateral,
    InstitutionKind,
    ListingMilestoneKind,
    Qualification,
    Stage,
)
from services.audit.repository import append_audit
from services.policy import repository
from services.policy import repository as repo
from services.recommendations.costs import policy_spec

REFERENCE_RATE_PCT = 3.5  # 参考年利率: quotes a loan benefit when no product rate is known


def vocabulary() -> PolicyVocabulary:
    """The Chinese labels of the reference data, for explanations."""
    industries = {s.code: s.name for s in INDUSTRY_SECTIONS}
    industries |= {d.section + d.code: d.name for d in INDUSTRY_DIVISIONS}
    return PolicyVocabulary(
        qualifications=Qualification.labels(),
        stages=Stage.labels(),
        industries=industries,
        strategic=dict(STRATEGIC_EMERGING_INDUSTRIES),
        regions=dict(REGIONS),
        milestones=ListingMilestoneKind.labels(),
    )


def _today(as_of: date | None) -> date:
    return as_of or center_today()


# --- rows → the core's inputs -----------------------------------------------------------------


def load_policies(session: Session, ids: Iterable[int] | None = None) -> list[PolicySpec]:
    """Every policy (or those with ``ids``), in id order."""
    return [policy_spec(row) for row in repo.policies(session, ids)]


def enterprise_records(
    session: Session, enterprise_ids: Iterable[int] | None = None
) -> list[EnterpriseRecord]:
    """Enterprises with their loans, listing milestones and open loan demand, in id order."""
    ids = set(enterprise_ids) if enterprise_ids is not None else None
    loans, milestones = repo.loans(session, ids), repo.milestones(session, ids)
    needs = repo.loan_needs(session, ids)
    return [_record(e, loans, milestones, needs) for e in repo.enterprises(session, ids)]


def _record(
    e: Enterprise,
    loans: dict[int, list[LoanRecord]],
    milestones: dict[int, dict[str, date]],
    needs: dict[int, tuple[float, int | None]],
) -> EnterpriseRecord:
    ent_id = e.id or 0
    need = needs.get(ent_id, (None, None))
    return EnterpriseRecord(
        id=ent_id, name=e.legal_name, region_code=e.region_code, industry_code=e.industry_code,
        sei_category=e.sei_category, stage=str(e.stage) if e.stage else None,
        founded_on=e.founded_on, employees=e.employees, rd_staff=e.rd_staff,
        revenue_wan=e.revenue_wan, rd_expense_wan=e.rd_expense_wan, patents=e.patents,
        qualifications=tuple(e.qualifications), loans=tuple(loans.get(ent_id, ())),
        in_cultivation=ent_id in milestones, milestones=milestones.get(ent_id, {}),
        loan_need_wan=need[0], loan_need_months=need[1],
    )  # fmt: skip


# --- results --------------------------------------------------------------------------------


@dataclass
class PolicyFit:
    """One policy for one enterprise: verdicts per condition, expected benefit, what is missing."""

    policy_id: int
    title: str
    issuer: str
    level: str
    benefit_type: str
    active: bool
    validity: str
    qualified: bool
    missing: int
    conditions: list[dict[str, str]]
    benefit_wan: float | None
    benefit_text: str

    @property
    def status_text(self) -> str:
        """符合 / 差N项 / 不在有效期."""
        if not self.active:
            return "不在有效期"
        return "符合" if self.qualified else f"差{self.missing}项"


@dataclass
class EnterprisePolicies:
    """The policy calculator's answer for one enterprise."""

    enterprise_id: int
    enterprise_name: str
    as_of: date
    items: list[PolicyFit]

    @property
    def total_benefit_wan(self) -> float:
        """Sum of the computable expected benefits of the qualifying policies."""
        return round(sum(i.benefit_wan or 0.0 for i in self.items if i.qualified), 2)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self) | {"as_of": self.as_of.isoformat()}
        data["total_benefit_wan"] = self.total_benefit_wan
        for item, fit in zip(data["items"], self.items, strict=True):
            item["status"] = fit.status_text
        return data


def _fit(
    verdicts: PolicyVerdicts, facts: EnterpriseFacts, j: int, as_of: date, vocab: PolicyVocabulary
) -> PolicyFit:
    policy = verdicts.policy
    explained = [
        asdict(explain_condition(c, int(verdicts.status[k, j]), facts, j, as_of, vocab))
        for k, c in enumerate(policy.conditions)
    ]
    benefit = benefit_text(policy, facts, j, as_of, vocab, REFERENCE_RATE_PCT)
    return PolicyFit(
        policy_id=policy.id, title=policy.title, issuer=policy.issuer,
        level=PolicyLevel(policy.level).label, benefit_type=BenefitType(policy.benefit_type).label,
        active=verdicts.active, validity=policy.validity_text(as_of),
        qualified=bool(verdicts.qualified[j]), missing=int(verdicts.missing[j]),
        conditions=explained, benefit_wan=benefit.amount_wan, benefit_text=benefit.text,
    )  # fmt: skip


def match_enterprise(
    session: Session,
    enterprise_id: int,
    as_of: date | None = None,
    *,
    include_inactive: bool = False,
) -> EnterprisePolicies:
    """Every policy in force for one enterprise: met/unmet/unknown per condition, and benefit.

    Qualifying policies come first (largest expected benefit first), then by conditions missing.
    Policies out of force are left out unless ``include_inactive`` (then they come last).
    """
    day = _today(as_of)
    enterprise = get_or_404(session, Enterprise, enterprise_id)
    facts = EnterpriseFacts.build(enterprise_records(session, [enterprise_id]))
    vocab = vocabulary()
    fits = [
        _fit(v, facts, 0, day, vocab)
        for v in evaluate_catalogue(load_policies(session), facts, day)
        if v.active or include_inactive
    ]
    fits.sort(key=lambda f: (not f.active, not f.qualified, f.missing, -(f.benefit_wan or 0.0)))
    return EnterprisePolicies(enterprise_id, enterprise.legal_name, day, fits)


@dataclass
class ReachItem:
    """One enterprise a policy's outreach should go to."""

    enterprise_id: int
    enterprise_name: str
    missing: int
    missing_conditions: list[str]
    benefit_wan: float | None
    last_informed_at: str | None


@dataclass
class PolicyReach:
    """For one policy: the enterprises that qualify, then those one condition short."""

    policy_id: int
    title: str
    as_of: date
    active: bool
    validity: str
    qualified: int
    one_short: int
    items: list[ReachItem] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self) | {"as_of": self.as_of.isoformat()}


def reach(
    session: Session,
    policy_id: int,
    as_of: date | None = None,
    *,
    max_missing: int = 1,
    limit: int | None = None,
) -> PolicyReach:
    """Enterprises that qualify for a policy or are ``max_missing`` conditions short, ranked.

    Qualified first, then one short (a missing datum before an unmet condition), each by
    expected benefit. A policy out of force reaches no one (and says why).
    """
    day = _today(as_of)
    spec = policy_spec(get_or_404(session, Policy, policy_id))
    facts = EnterpriseFacts.build(enterprise_records(session))
    verdicts = evaluate_policy(spec, facts, day)
    benefits = benefit_amounts(spec, facts, day, REFERENCE_RATE_PCT)
    order, missing = rank_reach(verdicts, benefits, max_missing)
    result = PolicyReach(
        policy_id, spec.title, day, verdicts.active, spec.validity_text(day),
        qualified=int((missing == 0).sum()), one_short=int((missing == 1).sum()),
    )  # fmt: skip
    shown = order[:limit] if limit is not None else order
    informed = repo.last_informed(session, policy_id)
    vocab = vocabulary()
    for j in shown:
        result.items.append(_reach_item(verdicts, facts, int(j), day, vocab, benefits, informed))
    return result


def _reach_item(
    verdicts: PolicyVerdicts,
    facts: EnterpriseFacts,
    j: int,
    as_of: date,
    vocab: PolicyVocabulary,
    benefits: np.ndarray[Any, Any],
    informed: dict[int, datetime],
) -> ReachItem:
    record = facts.records[j]
    lacking = [
        explain_condition(c, int(verdicts.status[k, j]), facts, j, as_of, vocab).text
        for k, c in enumerate(verdicts.policy.conditions)
        if verdicts.status[k, j] != MET
    ]
    gain = float(benefits[j])
    when = informed.get(record.id)
    return ReachItem(record.id, record.name, int(verdicts.missing[j]), lacking,
                     None if np.isnan(gain) else round(gain, 2),
                     when.isoformat() if when else None)  # fmt: skip


# --- outreach -------------------------------------------------------------------------------


def record_outreach(
    session: Session,
    policy_id: int,
    enterprise_id: int,
    informed_by: str,
    *,
    channel: OutreachChannel | str = OutreachChannel.phone,
    outcome: OutreachOutcome | str = OutreachOutcome.informed,
    at: datetime | None = None,
    note: str | None = None,
) -> PolicyOutreach:
    """Record that ``informed_by`` told the enterprise about the policy (宣贯); audited."""
    get_or_404(session, Policy, policy_id)
    get_or_404(session, Enterprise, enterprise_id)
    row = validated(PolicyOutreach, {
        "policy_id": policy_id, "enterprise_id": enterprise_id,
        "informed_at": at or datetime.now(UTC), "informed_by": informed_by,
        "channel": OutreachChannel.from_label(str(channel)),
        "outcome": OutreachOutcome.from_label(str(outcome)), "note": note,
    })  # fmt: skip
    add(session, row)
    append_audit(session, actor=informed_by, action="policy_outreach", entity="policy_outreach",
                 entity_id=row.id, detail={"policy_id": policy_id, "enterprise_id": enterprise_id,
                                           "channel": str(row.channel), "outcome": str(row.outcome)})  # fmt: skip
    return row


# --- policy-linked financing ----------------------------------------------------------------


@dataclass
class LoanSubsidy:
    """A recommended loan product for an enterprise: its cost, the subsidies, the cost after."""

    enterprise_id: int
    loan_product_id: int
    product_name: str
    institution_name: str
    rate_note: str
    quote: FinancingQuote

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    def summary(self) -> str:
        """One Chinese line for the recommendation display."""
        q = self.quote
        if not q.lines:
            return f"无适用的贴息/补贴政策；年利率{q.nominal_rate_pct:g}%"
        names = "、".join(line.title for line in q.lines)
        return (f"可享{names}，补贴约{q.total_subsidy_wan:,.2f}万元；"
                f"名义年利率{q.nominal_rate_pct:g}% → 综合年化成本{q.effective_rate_pct:.2f}%")  # fmt: skip


def _offer(session: Session, product: LoanProduct, day: date) -> tuple[LoanOffer, str]:
    inst = get_or_404(session, Institution, product.institution_id)
    rates = [r for r in (product.rate_min_pct, product.rate_max_pct) if r is not None]
    rate = sum(rates) / len(rates) if rates else REFERENCE_RATE_PCT
    note = (f"按产品利率区间{min(rates):g}%–{max(rates):g}%的中值{rate:g}%测算" if rates
            else f"产品未登记利率，按参考利率{rate:g}%测算")  # fmt: skip
    resident = inst.kind == InstitutionKind.bank and inst.is_resident_on(day)
    offer = LoanOffer(product.id or 0, product.name, inst.short_name or inst.name, resident,
                      tuple(product.collateral_accepted), round(rate, 3))  # fmt: skip
    return offer, note


def _loan_candidates(
    specs: Sequence[PolicySpec], facts: EnterpriseFacts, offer: LoanOffer, day: date
) -> list[tuple[PolicySpec, list[str]]]:
    vocab = vocabulary()
    chosen = []
    for spec in specs:
        if not (spec.is_loan_policy and spec.active_on(day)):
            continue
        verdicts = evaluate_policy(spec, facts, day)
        failures = [
            explain_condition(c, int(verdicts.status[k, 0]), facts, 0, day, vocab).text
            for k, c in enumerate(spec.conditions)
            # The loan being quoted is itself the resident-bank loan such a condition asks for.
            if verdicts.status[k, 0] != MET
            and not (c.type == "resident_bank_loan" and offer.resident)
        ]
        chosen.append((spec, failures))
    return chosen


def _guarantee_fee(specs: Sequence[PolicySpec], offer: LoanOffer) -> float:
    if Collateral.guarantee not in offer.collateral:
        return 0.0
    fees = [float(s.formula.get("fee_rate_pct", 0.0)) for s in specs
            if s.formula.get("kind") == "guarantee_fee_share"]  # fmt: skip
    return max(fees, default=0.0)


def subsidy_for(
    session: Session,
    enterprise_id: int,
    loan_product_id: int,
    amount_wan: float,
    term_months: int,
    as_of: date | None = None,
) -> LoanSubsidy:
    """The subsidy policies give a loan of this product, and its effective rate/cost after them.

    Policies counted: 贴息, 担保费补贴 and 风险补偿 (its rate cap), in force, covering the product
    (resident bank, collateral, amount and term), whose conditions the enterprise meets. The
    guarantee fee is counted only for products that accept a guarantee, at the policy's rate.
    """
    if amount_wan <= 0 or term_months < 1:
        raise DomainError("贷款金额应大于0，期限应至少1个月", field="amount_wan")
    day = _today(as_of)
    get_or_404(session, Enterprise, enterprise_id)
    product = get_or_404(session, LoanProduct, loan_product_id)
    offer, note = _offer(session, product, day)
    facts = EnterpriseFacts.build(enterprise_records(session, [enterprise_id]))
    specs = load_policies(session)
    loan = LoanTerms(amount_wan, term_months, offer.rate_pct, _guarantee_fee(specs, offer))
    quote = quote_loan(offer, loan, _loan_candidates(specs, facts, offer, day))
    return LoanSubsidy(enterprise_id, loan_product_id, offer.product_name,
                       offer.institution_name, note, quote)  # fmt: skip


def create_policy(session: Session, data: dict[str, Any]) -> Policy:
    """Validate (fields, conditions, formula) and insert a policy."""
    row = validated(Policy, data)
    policy_spec(row)  # raises DomainError for malformed conditions or formula
    return add(session, row)


def match_counts(session: Session, as_of: date | None = None) -> dict[int, int]:
    """Policy id → number of enterprises that qualify (the whole catalogue × every enterprise)."""
    day = _today(as_of)
    facts = EnterpriseFacts.build(enterprise_records(session))
    verdicts = evaluate_catalogue(load_policies(session), facts, day)
    return {v.policy.id: int(v.qualified.sum()) for v in verdicts}


def showcase_enterprise(session: Session, as_of: date | None = None) -> int | None:
    """An enterprise worth showing: most policies qualified, preferring one with an open loan need."""
    day = _today(as_of)
    records = enterprise_records(session)
    if not records:
        return None
    facts = EnterpriseFacts.build(records)
    verdicts = evaluate_catalogue(load_policies(session), facts, day)
    score = sum((v.qualified.astype(np.int64) for v in verdicts), np.zeros(facts.n, np.int64))
    score = score + facts.n * ~np.isnan(facts.columns["loan_need_wan"])
    return int(facts.ids[int(np.argmax(score))])


def showcase_loan(
    session: Session, enterprise_id: int, as_of: date | None = None
) -> LoanSubsidy | None:
    """The subsidies of a loan worth showing the enterprise: its first open loan demand's upper
    amount from the product with the highest rate cap that lends it (None without either)."""
    demand = repository.open_loan_demand(session, enterprise_id)
    product = repository.dearest_product_for(session, demand.amount_max_wan) if demand else None
    if demand is None or product is None or product.id is None:
        return None
    term = min(demand.term_months or 12, product.max_term_months)
    return subsidy_for(session, enterprise_id, product.id, demand.amount_max_wan, term, as_of)
