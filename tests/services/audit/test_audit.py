"""The audit chain verifies, and a row altered directly in the database is found at that row."""

from sqlalchemy import text
from sqlmodel import Session

from services.audit.repository import append_audit, verify_chain


def _write_chain(session: Session, n: int) -> list[int]:
    ids = []
    for i in range(n):
        row = append_audit(
            session, actor="撮合专员-张敏", action="read", entity="enterprise", entity_id=i,
            detail={"字段": ["联系人"], "i": i},
        )  # fmt: skip
        ids.append(row.id)
    return [i for i in ids if i is not None]


def test_intact_chain_verifies(session: Session) -> None:
    ids = _write_chain(session, 5)
    report = verify_chain(session)
    assert report.first_broken_id is None and report.rows_checked == len(ids)


def test_row_altered_in_database_is_reported_at_that_row(session: Session) -> None:
    ids = _write_chain(session, 6)
    session.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE id = :i"), {"i": ids[3]})
    session.expire_all()
    report = verify_chain(session)
    assert report.first_broken_id == ids[3]
    assert report.reason is not None and "篡改" in report.reason


def test_deleted_row_breaks_the_link_at_its_successor(session: Session) -> None:
    ids = _write_chain(session, 4)
    session.execute(text("DELETE FROM audit_log WHERE id = :i"), {"i": ids[1]})
    session.expire_all()
    assert verify_chain(session).first_broken_id == ids[2]
