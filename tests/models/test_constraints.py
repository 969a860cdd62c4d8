"""The model's constraints hold on both backends, with clear Chinese messages."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session

from models import AuditLog, Deal, FinancingDemand
from models.audit import AuditImmutableError
from models.errors import ConflictError, InvalidDataError
from services.audit.repository import append_audit
from tests import factories


def test_duplicate_uscc_is_rejected(session: Session) -> None:
    first = factories.enterprise(session)
    with pytest.raises(ConflictError, match="唯一性"):
        factories.enterprise(session, uscc=first.uscc)
    # the failed insert left the session usable and the first record intact
    assert session.get(type(first), first.id) is not None


def test_negative_amount_rejected_with_field_and_value(session: Session) -> None:
    ent = factories.enterprise(session)
    with pytest.raises(InvalidDataError) as info:
        factories.demand(session, ent, amount_min_wan=-5)
    assert info.value.field == "amount_min_wan"
    assert "不能小于 0" in info.value.message and "-5" in info.value.message


def test_negative_amount_rejected_by_the_database_itself(session: Session) -> None:
    ent = factories.enterprise(session)
    inst = factories.institution(session)
    bad = Deal(
        deal_type="loan", amount_wan=-1, closed_on=datetime(2025, 1, 1).date(),
        enterprise_id=ent.id, institution_id=inst.id,
    )  # fmt: skip
    session.add(bad)
    with pytest.raises(IntegrityError):
        session.flush()


def test_unknown_enum_value_rejected_with_clear_message(session: Session) -> None:
    ent = factories.enterprise(session)
    with pytest.raises(InvalidDataError) as info:
        factories.demand(session, ent, financing_type="crowdfunding")
    assert info.value.field == "financing_type"
    assert "crowdfunding" in info.value.message and "loan" in info.value.message


def test_unknown_enum_value_rejected_by_the_database(session: Session) -> None:
    ent = factories.enterprise(session)
    with pytest.raises(IntegrityError):
        session.execute(
            text(
                "INSERT INTO financing_demand (enterprise_id, financing_type, amount_min_wan,"
                " amount_max_wan, status, confidentiality, collateral_offered, created_at,"
                " updated_at) VALUES (:e, 'crowdfunding', 1, 2, 'open', 'teaser', '[]', :t, :t)"
            ),
            {"e": ent.id, "t": datetime.now(UTC)},
        )
        session.flush()


def test_amount_range_order_enforced(session: Session) -> None:
    ent = factories.enterprise(session)
    session.add(
        FinancingDemand(
            enterprise_id=ent.id, financing_type="loan", amount_min_wan=900, amount_max_wan=100
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()


def test_audit_rows_cannot_be_updated_or_deleted(session: Session) -> None:
    row = append_audit(session, actor="admin", action="create", entity="enterprise", entity_id=1)
    row.actor = "mallory"
    with pytest.raises((AuditImmutableError, StatementError)):
        session.flush()
    session.rollback()
    row = append_audit(session, actor="admin", action="create", entity="enterprise", entity_id=2)
    session.delete(row)
    with pytest.raises((AuditImmutableError, StatementError)):
        session.flush()
    session.rollback()


def test_audit_rows_cannot_be_bulk_updated_through_the_orm(session: Session) -> None:
    append_audit(session, actor="admin", action="create", entity="enterprise", entity_id=1)
    with pytest.raises(AuditImmutableError):
        session.execute(update(AuditLog).values(actor="mallory"))
    with pytest.raises(AuditImmutableError):
        session.execute(delete(AuditLog))
