"""The disclosure service's SQL: consents and the legal names they unlock."""

from collections.abc import Collection

from sqlalchemy import ColumnElement, and_, func, or_
from sqlmodel import Session, col, select

from models import Consent, ContactPerson, Enterprise, FinancingDemand
from models.demand import open_for_matching
from models.paging import enterprise_names, institution_names, page_rows
from models.reference import Confidentiality


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


def consents_of(session: Session, enterprise_id: int) -> list[Consent]:
    """Every consent the enterprise gave any institution."""
    return list(session.exec(select(Consent).where(Consent.enterprise_id == enterprise_id)))


def legal_names(session: Session, enterprise_ids: Collection[int]) -> dict[int, str]:
    """The enterprises' legal names by id."""
    query = select(Enterprise.id, Enterprise.legal_name).where(
        col(Enterprise.id).in_(enterprise_ids)
    )
    return {int(i or 0): name for i, name in session.exec(query).all()}


# --- console and API reads


def teaser_filter(chosen: set[int] | None) -> ColumnElement[bool]:
    """The demands an institution may see as teasers (the digests' rule): open ones, and of
    those the confidential ones only of the enterprises in `chosen` (None: every one, as staff)."""
    is_open = open_for_matching()
    if chosen is None:
        return is_open
    public = col(FinancingDemand.confidentiality) != Confidentiality.confidential
    return and_(is_open, or_(public, col(FinancingDemand.enterprise_id).in_(chosen)))


def open_teasers(
    session: Session, offset: int, limit: int, chosen: set[int] | None
) -> tuple[list[tuple[FinancingDemand, Enterprise]], int]:
    """Open demands with their enterprise (for teasers), newest first, and the total (see
    `teaser_filter`). Every demand has its enterprise (a required key): counted without the join."""
    where = teaser_filter(chosen)
    query = (
        select(FinancingDemand, Enterprise)
        .join(Enterprise, col(Enterprise.id) == col(FinancingDemand.enterprise_id))
        .where(where)
        .order_by(col(FinancingDemand.id).desc())
    )
    count = select(func.count()).select_from(FinancingDemand).where(where)
    rows, total = page_rows(session, query, offset, limit, count)
    return [(d, e) for d, e, _ in rows], total


def latest_consents(session: Session, limit: int = 50) -> list[tuple[Consent, str, str]]:
    """The latest consents with enterprise and institution names."""
    rows = list(session.exec(select(Consent).order_by(col(Consent.id).desc()).limit(limit)))
    ents = enterprise_names(session, {c.enterprise_id for c in rows})
    insts = institution_names(session, {c.institution_id for c in rows})
    return [(c, ents.get(c.enterprise_id, "?"), insts.get(c.institution_id, "?")) for c in rows]


def contacts_of(session: Session, enterprise_id: int) -> list[ContactPerson]:
    """An enterprise's contact persons, in id order."""
    query = select(ContactPerson).where(ContactPerson.enterprise_id == enterprise_id)
    return list(session.exec(query.order_by(col(ContactPerson.id))))
