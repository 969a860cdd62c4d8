"""Queries of the policy calculator."""

from sqlmodel import Session, col, select

from models import FinancingDemand, LoanProduct
from models.reference import DemandStatus, FinancingType

# --- console and API reads


def open_loan_demand(session: Session, enterprise_id: int) -> FinancingDemand | None:
    """The enterprise's first open loan (or mixed) demand."""
    query = select(FinancingDemand).where(
        FinancingDemand.enterprise_id == enterprise_id,
        col(FinancingDemand.financing_type).in_([FinancingType.loan, FinancingType.mixed]),
        FinancingDemand.status == DemandStatus.open,
    )
    return session.exec(query.order_by(col(FinancingDemand.id))).first()


def dearest_product_for(session: Session, amount_wan: float) -> LoanProduct | None:
    """The loan product with the highest rate cap that lends `amount_wan` (the first by id)."""
    query = select(LoanProduct).where(LoanProduct.max_amount_wan >= amount_wan)
    query = query.order_by(col(LoanProduct.rate_max_pct).desc(), col(LoanProduct.id))
    return session.exec(query).first()
