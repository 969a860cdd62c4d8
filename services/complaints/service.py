"""The complaint and feedback channel (standard 7.2): received → handling → resolved, root cause,
improvement measures with owners and due dates; every move is written to the audit log."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlmodel import Session

from models import Complaint, ImprovementMeasure
from models.base import utcnow
from models.clock import center_date, center_zone
from models.crud import add, create, get_or_404
from models.errors import DomainError
from models.reference import ComplaintKind, ComplaintStatus
from services.audit.repository import append_audit
from services.complaints import repository as repo

# Forward one step at a time; a resolved item may be reopened into handling.
ALLOWED_MOVES: dict[ComplaintStatus, frozenset[ComplaintStatus]] = {
    ComplaintStatus.received: frozenset({ComplaintStatus.handling}),
    ComplaintStatus.handling: frozenset({ComplaintStatus.resolved}),
    ComplaintStatus.resolved: frozenset({ComplaintStatus.handling}),
}
# Items that need handling; a survey answer is data for 满意度, not a case to work on.
CASE_KINDS: frozenset[ComplaintKind] = frozenset({ComplaintKind.complaint, ComplaintKind.feedback})


def submit(
    session: Session,
    kind: ComplaintKind,
    content: str,
    *,
    submitter: str | None = None,
    enterprise_id: int | None = None,
    institution_id: int | None = None,
    satisfaction: int | None = None,
    received_at: datetime | None = None,
    match_id: int | None = None,
) -> Complaint:
    """Record a complaint, suggestion or survey answer as received (a survey answered through
    the portal names its match)."""
    if kind == ComplaintKind.survey and satisfaction is None:
        raise DomainError("满意度调查须填写满意度（1–5）", field="satisfaction")
    data = {
        "kind": kind,
        "content": content,
        "submitter": submitter,
        "enterprise_id": enterprise_id,
        "institution_id": institution_id,
        "satisfaction": satisfaction,
        "received_at": received_at or utcnow(),
        "match_id": match_id,
    }
    row = create(session, Complaint, data)
    _audit(session, submitter or "anonymous", "submit", row, {"kind": kind.value})
    return row


def move(
    session: Session,
    complaint_id: int,
    to: ComplaintStatus,
    actor: str,
    *,
    root_cause: str | None = None,
    at: datetime | None = None,
) -> Complaint:
    """Move a case along received → handling → resolved; resolving a complaint needs its root cause."""
    row = get_or_404(session, Complaint, complaint_id)
    if to not in ALLOWED_MOVES[row.status]:
        raise DomainError(f"不能从“{row.status.label}”变更为“{to.label}”", field="status")
    if root_cause:
        row.root_cause = root_cause
    if (
        to == ComplaintStatus.resolved
        and row.kind == ComplaintKind.complaint
        and not row.root_cause
    ):
        raise DomainError("办结投诉前须填写原因分析（root cause）", field="root_cause")
    previous, row.status = row.status, to
    row.resolved_at = (at or utcnow()) if to == ComplaintStatus.resolved else None
    add(session, row)
    _audit(
        session,
        actor,
        "move",
        row,
        {"from": previous.value, "to": to.value, "root_cause": root_cause},
    )
    return row


def add_measure(
    session: Session, complaint_id: int, description: str, owner: str, due_on: date, actor: str
) -> ImprovementMeasure:
    """Attach an improvement measure (7.2.2) with its owner and due date to a case."""
    complaint = get_or_404(session, Complaint, complaint_id)
    data = {
        "complaint_id": complaint_id,
        "description": description,
        "owner": owner,
        "due_on": due_on,
    }
    measure = create(session, ImprovementMeasure, data)
    _audit(
        session,
        actor,
        "measure",
        complaint,
        {"measure": measure.id, "owner": owner, "due_on": due_on.isoformat()},
    )
    return measure


def complete_measure(
    session: Session, measure_id: int, done_on: date, actor: str
) -> ImprovementMeasure:
    """Mark an improvement measure done on `done_on`."""
    measure = get_or_404(session, ImprovementMeasure, measure_id)
    measure.done_on = done_on
    add(session, measure)
    complaint = get_or_404(session, Complaint, measure.complaint_id)
    _audit(
        session,
        actor,
        "measure_done",
        complaint,
        {"measure": measure_id, "done_on": done_on.isoformat()},
    )
    return measure


def list_cases(
    session: Session,
    *,
    status: ComplaintStatus | None = None,
    kind: ComplaintKind | None = None,
    limit: int | None = None,
) -> Sequence[Complaint]:
    """Complaints, suggestions and surveys, newest first, optionally filtered."""
    return repo.list_complaints(
        session,
        statuses=None if status is None else [status],
        kinds=None if kind is None else [kind],
        limit=limit,
    )


def cases_of_enterprise(
    session: Session, enterprise_id: int
) -> list[tuple[Complaint, Sequence[ImprovementMeasure]]]:
    """An enterprise's complaints, suggestions and survey answers, newest first, each with its
    improvement measures (what the enterprise follows in the portal)."""
    rows = repo.complaints_of_enterprise(session, enterprise_id)
    measures = repo.measures_for(session, [r.id or 0 for r in rows])
    return [(r, [m for m in measures if m.complaint_id == r.id]) for r in rows]


@dataclass(frozen=True)
class OpenItems:
    """What was still open on `as_of`: unresolved cases and unfinished measures."""

    cases: tuple[Complaint, ...]
    measures: tuple[ImprovementMeasure, ...]
    overdue_measure_ids: frozenset[int]
    as_of: date

    def state_of(self, case: Complaint) -> str:
        """A case's state on `as_of` (one resolved since says when)."""
        if case.resolved_at is None:
            return ComplaintStatus(case.status).label
        return f"未办结（{center_date(case.resolved_at).isoformat()} 办结）"


def open_items(session: Session, as_of: date) -> OpenItems:
    """Complaints/suggestions received by `as_of` (the center's date) and not resolved by its
    end, and the improvement measures of any case not done by then (overdue: due before it)."""
    before = datetime.combine(as_of + timedelta(days=1), time(), center_zone())
    cases = repo.cases_open_at(session, CASE_KINDS, before)
    measures = repo.measures_open_on(session, as_of, before)
    overdue = frozenset(int(m.id or 0) for m in measures if m.due_on < as_of)
    return OpenItems(tuple(cases), tuple(measures), overdue, as_of)


def _audit(
    session: Session, actor: str, action: str, row: Complaint, detail: dict[str, object]
) -> None:
    append_audit(
        session,
        actor=actor,
        action=f"complaint.{action}",
        entity="complaint",
        entity_id=row.id,
        detail=detail,
    )
