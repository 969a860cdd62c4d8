"""The 贴息 an enterprise earns on a recommended loan, from the policy catalogue.

Stored policies become the pure core's :class:`~matching.policy.PolicySpec` here (the policy
calculator reuses :func:`policy_spec`); :func:`subsidy_for` gives the ranking the subsidy a
loan option earns, in annual percentage points, as :mod:`matching.options` asks for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from matching.options import Subsidy
from matching.policy import (
    MET,
    EnterpriseFacts,
    EnterpriseRecord,
    LoanOffer,
    LoanTerms,
    PolicySpec,
    evaluate_policy,
    parse_condition,
    parse_formula,
    quote_loan,
)
from matching.profiles import CandidateRow
from models import Enterprise
from models.errors import DomainError
from models.policy import Policy
from models.reference import qualifications_met

DEFAULT_TERM_MONTHS = 12


def policy_spec(row: Policy) -> PolicySpec:
    """A stored policy as the core reads it; ``DomainError`` if its data are malformed."""
    try:
        conditions = tuple(parse_condition(c) for c in row.conditions)
        formula = parse_formula(row.formula, row.amount_wan)
    except ValueError as exc:
        raise DomainError(f"政策“{row.title}”的条件或计算方式有误：{exc}") from exc
    return PolicySpec(
        id=row.id or 0, title=row.title, issuer=row.issuer, level=str(row.level),
        benefit_type=str(row.benefit_type), effective_on=row.effective_on,
        expires_on=row.expires_on, conditions=conditions, amount_wan=row.amount_wan,
        cap_wan=row.cap_wan, formula=formula, loan_scope=dict(row.loan_scope),
    )  # fmt: skip


def _record(e: Enterprise, amount_wan: float, months: int) -> EnterpriseRecord:
    """The enterprise as the policy conditions read it (its loan history is not needed here:
    the loan being quoted is a resident bank's)."""
    return EnterpriseRecord(
        id=e.id or 0, name=e.legal_name, region_code=e.region_code,
        industry_code=e.industry_code, sei_category=e.sei_category,
        stage=str(e.stage) if e.stage else None, founded_on=e.founded_on,
        employees=e.employees, rd_staff=e.rd_staff, revenue_wan=e.revenue_wan,
        rd_expense_wan=e.rd_expense_wan, patents=e.patents,
        qualifications=tuple(sorted(qualifications_met(e.qualifications))), loan_need_wan=amount_wan,
        loan_need_months=months,
    )  # fmt: skip


def _qualifying(
    specs: Sequence[PolicySpec], facts: EnterpriseFacts, day: date
) -> list[tuple[PolicySpec, list[str]]]:
    """Loan policies in force, each with the conditions the enterprise fails (codes)."""
    out = []
    for spec in specs:
        if spec.is_loan_policy and spec.active_on(day):
            status = evaluate_policy(spec, facts, day).status[:, 0]
            failures = [
                c.type
                for c, s in zip(spec.conditions, status, strict=True)
                if s != MET and c.type != "resident_bank_loan"  # the quoted loan is one
            ]
            out.append((spec, failures))
    return out


def subsidy_for(
    policies: Sequence[Policy],
    enterprise: Enterprise,
    amount_wan: float,
    term_months: int | None,
    day: date,
) -> Subsidy:
    """The 贴息 (annual points, policy titles) a loan option earns this enterprise."""
    months = term_months or DEFAULT_TERM_MONTHS
    facts = EnterpriseFacts.build([_record(enterprise, amount_wan, months)])
    checks = _qualifying([policy_spec(p) for p in policies], facts, day)

    def subsidy(row: CandidateRow, fee_pct: float) -> tuple[float, str]:
        if row.rate_pct is None or not checks or amount_wan <= 0:
            return 0.0, ""
        offer = LoanOffer(row.product_id, row.product_name, row.institution_name, True,
                          tuple(row.collateral_accepted), row.rate_pct)  # fmt: skip
        quote = quote_loan(offer, LoanTerms(amount_wan, months, row.rate_pct, fee_pct), checks)
        points = quote.total_subsidy_wan / (amount_wan * months / 12.0) * 100.0
        return points, "、".join(line.title for line in quote.lines if line.amount_wan > 0)

    return subsidy
