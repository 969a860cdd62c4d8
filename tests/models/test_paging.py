"""The generic list helpers: filters by equality (None: any), order by a column, count all."""

from sqlmodel import Session

from models import FinancingDemand
from models.paging import page_of, rows_of
from models.reference import DemandStatus, FinancingType
from tests import factories as f


def test_page_of_filters_orders_and_counts_every_match(session: Session) -> None:
    a, b = f.enterprise(session), f.enterprise(session)
    first = f.demand(session, a, financing_type=FinancingType.loan)
    second = f.demand(session, a, financing_type=FinancingType.equity)
    f.demand(session, b)
    rows, count = page_of(session, FinancingDemand, 0, 1, enterprise_id=a.id, status=None)
    assert (rows, count) == ([second], 2)  # newest first; `status=None` filters nothing
    rows, count = page_of(session, FinancingDemand, 1, 1, "id", enterprise_id=a.id)
    assert (rows, count) == ([second], 2)  # ascending: the second row is the second demand
    loans = rows_of(session, FinancingDemand, financing_type=FinancingType.loan, enterprise_id=a.id)
    assert loans == [first]
    assert rows_of(session, FinancingDemand, limit=1, status=DemandStatus.funded) == []
