"""Which institutions (and which product or mandate) plausibly fit a demand, with a latent fit.

The pipeline decides outcomes from that fit, so a ranker has something real to learn.
"""

import math
import random
from dataclasses import dataclass
from datetime import date
from functools import cache

from demo.generator.institutions import EQUITY_KINDS, Registry
from models.demand import FinancingDemand
from models.enterprise import Enterprise
from models.institution import Institution, InvestmentMandate, LoanProduct
from models.reference import DealType, InstitutionKind


@dataclass(frozen=True, slots=True)
class Offer:
    """An institution recommended for a demand, with the product or mandate that fits, if any."""

    institution: Institution
    side: DealType
    product: LoanProduct | None = None
    mandate: InvestmentMandate | None = None

    @property
    def fits(self) -> bool:
        """True when a concrete product or mandate fits the demand."""
        return self.product is not None or self.mandate is not None

    def ticket(self) -> tuple[float, float]:
        """The institution-side amount range (万元) of the fitting product or mandate."""
        if self.product is not None:
            return self.product.min_amount_wan, self.product.max_amount_wan
        if self.mandate is not None:
            return self.mandate.min_ticket_wan, self.mandate.max_ticket_wan
        return 0.0, float("inf")

    def latent_fit(self, demand: FinancingDemand, e: Enterprise) -> float:
        """How likely this offer is to close, before noise: a weighted blend in [0, 1]."""
        terms = self.product or self.mandate
        if terms is None:
            return 0.0
        sector = 1.0 if terms.sectors and _in_codes(e.industry_code, terms.sectors) else 0.4
        region = 1.0 if terms.regions and _in_codes(e.region_code, terms.regions) else 0.5
        return (
            0.35 * _ticket_fit(self.ticket(), demand)
            + 0.10 * sector
            + 0.10 * region
            + 0.45 * responsiveness(self.institution)
        )


def responsiveness(inst: Institution) -> float:
    """An institution's latent responsiveness in [0.1, 1], fixed by its id (deterministic)."""
    return _responsiveness(inst.id)


@cache
def _responsiveness(inst_id: int | None) -> float:
    return 0.1 + 0.9 * random.Random(f"responsiveness-{inst_id}").random() ** 0.7


def _ticket_fit(ticket: tuple[float, float], demand: FinancingDemand) -> float:
    """1 at the (log) centre of the ticket range, falling to 0.2 at its edges and beyond."""
    low, high = max(ticket[0], 1.0), max(min(ticket[1], 1e7), 1.0)
    mid = math.sqrt(max(demand.amount_min_wan, 1.0) * max(demand.amount_max_wan, 1.0))
    half = max(math.log10(high / low) / 2, 0.05)
    off = abs(math.log10(mid) - math.log10(math.sqrt(low * high))) / half
    return max(0.2, 1.0 - 0.8 * min(off, 1.0))


def offers_for(
    registry: Registry, demand: FinancingDemand, e: Enterprise, side: DealType, day: date
) -> list[Offer]:
    """One offer per institution of the side's kinds resident on `day`, fitting ones first."""
    kinds = (InstitutionKind.bank,) if side == DealType.loan else EQUITY_KINDS
    offers = [
        _offer(registry, demand, e, side, inst, day)
        for inst in registry.of_kind(*kinds)
        if inst.is_resident_on(day)
    ]
    return [o for o in offers if o.fits] + [o for o in offers if not o.fits]


def _offer(
    registry: Registry,
    demand: FinancingDemand,
    e: Enterprise,
    side: DealType,
    inst: Institution,
    day: date,
) -> Offer:
    assert inst.id is not None
    if side == DealType.loan:
        products = registry.products.get(inst.id, [])
        product = next((p for p in products if _product_fits(p, demand, e, day)), None)
        return Offer(inst, side, product=product)
    mandates = registry.mandates.get(inst.id, [])
    mandate = next((m for m in mandates if _mandate_fits(m, demand, e)), None)
    return Offer(inst, side, mandate=mandate)


def _overlaps(low: float, high: float, demand: FinancingDemand) -> bool:
    return low <= demand.amount_max_wan and demand.amount_min_wan <= high


def _in_codes(code: str | None, prefixes: list[str]) -> bool:
    return not prefixes or (code is not None and any(code.startswith(p) for p in prefixes))


def _product_fits(p: LoanProduct, demand: FinancingDemand, e: Enterprise, day: date) -> bool:
    assert e.founded_on is not None
    years = (day - e.founded_on).days / 365.25
    return (
        _overlaps(p.min_amount_wan, p.max_amount_wan, demand)
        and all(q in e.qualifications for q in p.required_qualifications)
        and years >= (p.min_years_operating or 0)
        and (e.revenue_wan or 0) >= (p.min_revenue_wan or 0)
        and _in_codes(e.industry_code, p.sectors)
        and _in_codes(e.region_code, p.regions)
    )


def _mandate_fits(m: InvestmentMandate, demand: FinancingDemand, e: Enterprise) -> bool:
    return (
        _overlaps(m.min_ticket_wan, m.max_ticket_wan, demand)
        and demand.round_stage in m.stages
        and _in_codes(e.industry_code, m.sectors)
        and _in_codes(e.region_code, m.regions)
    )
