"""The disclosure service's SQL: consents and the legal names they unlock."""

from collections.abc import Collection

from sqlmodel import Session, col, select

from models import Consent, Enterprise


def consents_between(session: Session, enterprise_id: int, institution_id: int) -> list[Consent]:
    """The enterprise's consents to the institution, newest first."""
    query = (
        select(Consent)
        .where(Consent.enterprise_id == enterprise_id, Consent.institution_id == institution_id)
        .order_by(col(Consent.granted_at).desc())
    )
    return list(session.exec(query))


def consents_to(session: Session, institution_id: int) -> list[Consent]:
    """Every consent any enterprise gave the institution."""
    return list(session.exec(select(Consent).where(Consent.institution_id == institution_id)))


def legal_names(session: Session, enterprise_ids: Collection[int]) -> dict[int, str]:
    """The enterprises' legal names by id."""
    query = select(Enterprise.id, Enterprise.legal_name).where(
        col(Enterprise.id).in_(enterprise_ids)
    )
    return {int(i or 0): name for i, name in session.exec(query).all()}
