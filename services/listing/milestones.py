"""Milestones (股改 → … → 发行上市/挂牌) and stalled alerts.

Recording 发行上市/挂牌 also sets the record's listed board and day (what Appendix A counts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from models import ListingAlert, ListingMilestone, ListingRecord, ListingTierChange
from models.errors import ConflictError, DomainError
from models.reference import Board, ListingMilestoneKind, ListingTier
from services.listing import repository as repo
from services.listing.plan import Clock, CultivationPlan, china_today, load_plan


def record_milestone(
    session: Session,
    record_id: int,
    kind: ListingMilestoneKind,
    on: date,
    *,
    board: Board | None = None,
    note: str | None = None,
    evidence: str | None = None,
    clock: Clock = china_today,
) -> ListingMilestone:
    """Record a dated milestone with its evidence (a document and its number, say);
    发行上市/挂牌 also marks the record listed (Appendix A reads it)."""
    record = repo.record(session, record_id)
    if on > clock():
        raise DomainError("里程碑日期不能晚于今天", field="on")
    if any(m.kind is kind for m in repo.milestones(session, [record_id]).get(record_id, [])):
        raise ConflictError(f"已记录过“{kind.label}”", field="kind")
    where = board or record.target_board
    row = ListingMilestone(
        listing_record_id=record_id,
        kind=kind,
        occurred_on=on,
        board=where,
        note=note or f"{kind.label}（{where.label}）",
        evidence=evidence,
    )
    session.add(row)
    if kind is ListingMilestoneKind.listed:
        _mark_listed(session, record, where, on)
    session.flush()
    return row


def _mark_listed(session: Session, record: ListingRecord, board: Board, on: date) -> None:
    assert record.id is not None
    record.listed_board, record.listed_on = board, on
    if record.tier is not ListingTier.listed:
        note = f"{board.label}上市/挂牌"
        session.add(
            ListingTierChange(
                listing_record_id=record.id, tier=ListingTier.listed, entered_on=on, note=note
            )
        )
        record.tier = ListingTier.listed
    session.add(record)


# --- stalled alerts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StalledAlert:
    """A record stalled in a tier (``kind='tier'``) or since a milestone (``kind='milestone'``)."""

    record_id: int
    enterprise_id: int
    name: str
    kind: str
    subject: str
    since: date
    days: int
    threshold_days: int
    next_step: str | None = None

    @property
    def message(self) -> str:
        """The alert in Chinese."""
        if self.kind == "tier":
            label = ListingTier(self.subject).label
            return (
                f"{self.name}：自 {self.since.isoformat()} 进入{label}已 {self.days} 天"
                f"（阈值 {self.threshold_days} 天）"
            )
        label = ListingMilestoneKind(self.subject).label
        nxt = f"仍未到“{self.next_step}”" if self.next_step else ""
        return (
            f"{self.name}：自“{label}”（{self.since.isoformat()}）起 {self.days} 天{nxt}"
            f"（阈值 {self.threshold_days} 天）"
        )


_Stall = tuple[str, date, int, int, str | None]


def tier_since(record: ListingRecord, changes: Sequence[ListingTierChange]) -> date:
    current = [c.entered_on for c in changes if c.tier is record.tier]
    return current[-1] if current else record.coaching_started_on


def _tier_stall(
    record: ListingRecord,
    changes: Sequence[ListingTierChange],
    today: date,
    plan: CultivationPlan,
    days: int | None,
) -> _Stall | None:
    limit = days or plan.tiers[record.tier].stall_days
    since = tier_since(record, changes)
    if limit is None or (today - since).days <= limit:
        return None
    return record.tier.value, since, (today - since).days, limit, None


def _milestone_stall(
    record: ListingRecord,
    reached: Sequence[ListingMilestone],
    today: date,
    plan: CultivationPlan,
    days: int | None,
) -> _Stall | None:
    road = plan.road_for(record.target_board)
    done = {m.kind: m.occurred_on for m in reached if m.kind in road and m.occurred_on <= today}
    if not done:
        return None
    last = max(done, key=road.index)
    position = road.index(last)
    limit = days or plan.milestone_stall_days.get(last)
    if position + 1 >= len(road) or limit is None or (today - done[last]).days <= limit:
        return None
    return last.value, done[last], (today - done[last]).days, limit, road[position + 1].label


def stalled_for(
    record: ListingRecord,
    changes: Sequence[ListingTierChange],
    reached: Sequence[ListingMilestone],
    *,
    name: str,
    today: date,
    plan: CultivationPlan,
    days: int | None = None,
) -> list[StalledAlert]:
    """The stalls of one record on ``today`` (pure); ``days`` overrides every threshold."""
    assert record.id is not None
    if record.tier is ListingTier.listed or record.listed_on is not None:
        return []
    found: list[tuple[str, _Stall]] = []
    tier = _tier_stall(record, changes, today, plan, days)
    if tier is not None:
        found.append(("tier", tier))
    step = _milestone_stall(record, reached, today, plan, days)
    if step is not None:
        found.append(("milestone", step))
    return [
        StalledAlert(record.id, record.enterprise_id, name, kind, *fields) for kind, fields in found
    ]


def find_stalled(
    session: Session,
    *,
    clock: Clock = china_today,
    days: int | None = None,
    plan: CultivationPlan | None = None,
) -> list[StalledAlert]:
    """Every record stalled today (per the injected ``clock``), longest stall first."""
    today, spec = clock(), plan or load_plan()
    records = repo.records(session)
    ids = [r.id for r in records if r.id is not None]
    changes, reached = repo.tier_changes(session, ids), repo.milestones(session, ids)
    names = repo.display_names(session, records)
    out: list[StalledAlert] = []
    for r in records:
        assert r.id is not None
        out += stalled_for(r, changes.get(r.id, []), reached.get(r.id, []),
                           name=names[r.enterprise_id], today=today, plan=spec, days=days)  # fmt: skip
    return sorted(out, key=lambda a: (-a.days, a.record_id, a.kind))


@dataclass(frozen=True)
class AlertSync:
    """What :func:`sync_alerts` changed."""

    raised: list[ListingAlert]
    resolved: list[ListingAlert]
    still_open: int


def sync_alerts(
    session: Session,
    *,
    clock: Clock = china_today,
    days: int | None = None,
    plan: CultivationPlan | None = None,
) -> AlertSync:
    """Persist today's stalls as open alerts and resolve those no longer stalled (idempotent)."""
    today = clock()
    current = find_stalled(session, clock=clock, days=days, plan=plan)
    keys = {(a.record_id, a.kind, a.subject, a.since): a for a in current}
    existing = {(a.listing_record_id, a.kind, a.subject, a.since): a for a in repo.alerts(session)}
    raised = [
        ListingAlert(
            listing_record_id=a.record_id,
            kind=a.kind,
            subject=a.subject,
            since=a.since,
            raised_on=today,
            threshold_days=a.threshold_days,
        )
        for key, a in keys.items()
        if key not in existing
    ]
    resolved = [a for key, a in existing.items() if key not in keys]
    for alert in resolved:
        alert.resolved_on = today
    session.add_all([*raised, *resolved])
    session.flush()
    return AlertSync(raised, resolved, len(keys))
