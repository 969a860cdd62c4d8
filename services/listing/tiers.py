"""Tiers (分层次): entry rules checked from data, moves between tiers, and each tier history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from models import ListingRecord, ListingTierChange
from models.errors import DomainError
from models.reference import ListingMilestoneKind, ListingTier, Qualification
from services.listing import repository as repo
from services.listing.criteria import CriteriaBook, load_criteria
from services.listing.evaluate import BoardStatus, Verdict, evaluate_criterion
from services.listing.facts import EnterpriseFacts
from services.listing.plan import (
    TIER_ORDER,
    Clock,
    Condition,
    CriterionCondition,
    CultivationPlan,
    MilestoneCondition,
    QualificationCondition,
    SponsorCondition,
    TargetBoardCondition,
    china_today,
    load_plan,
)
from services.listing.readiness import Readiness, assess, load_facts


@dataclass(frozen=True)
class RuleResult:
    """One entry rule's verdict, in Chinese."""

    label: str
    verdict: Verdict
    detail: str


@dataclass(frozen=True)
class TierCheck:
    """Whether a record may enter ``tier``: allowed unless a rule is unmet."""

    tier: ListingTier
    rules: tuple[RuleResult, ...]

    @property
    def allowed(self) -> bool:
        """No rule is unmet (unknown ones are reported, not blocking)."""
        return all(r.verdict is not Verdict.unmet for r in self.rules)

    def failing(self) -> list[RuleResult]:
        """The unmet rules."""
        return [r for r in self.rules if r.verdict is Verdict.unmet]


@dataclass(frozen=True)
class TierStay:
    """One stay in a tier: entered, left (None while current) and its length in days."""

    tier: ListingTier
    entered_on: date
    left_on: date | None
    days: int
    note: str | None


@dataclass(frozen=True)
class _Context:
    record: ListingRecord
    facts: EnterpriseFacts
    qualifications: frozenset[str]
    milestones: frozenset[ListingMilestoneKind]
    readiness: Readiness


def _qualification_codes(values: list[str]) -> frozenset[str]:
    codes = set()
    for v in values:
        try:
            codes.add(Qualification.from_label(v).value)
        except ValueError:
            codes.add(v)
    return frozenset(codes)


def _condition(cond: Condition, ctx: _Context) -> RuleResult:
    if isinstance(cond, CriterionCondition):
        result = evaluate_criterion(cond.criterion, ctx.facts, lower_of=True)
        return RuleResult(cond.label, result.verdict, result.detail)
    if isinstance(cond, QualificationCondition):
        held = ctx.qualifications & set(cond.values)
        names = "、".join(Qualification(q).label for q in sorted(held))
        return RuleResult(
            cond.label,
            Verdict.met if held else Verdict.unmet,
            f"具备{names}" if held else "未登记所列资质",
        )
    if isinstance(cond, MilestoneCondition):
        return _milestone(cond, ctx)
    if isinstance(cond, SponsorCondition):
        has = ctx.record.sponsor_institution_id is not None
        return RuleResult(
            cond.label,
            Verdict.met if has else Verdict.unmet,
            "已登记保荐/主办券商" if has else "尚未确定券商",
        )
    return _target_board(cond, ctx)


def _milestone(cond: MilestoneCondition, ctx: _Context) -> RuleResult:
    if cond.boards and ctx.record.target_board not in cond.boards:
        return RuleResult(
            cond.label,
            Verdict.met,
            f"目标板块{ctx.record.target_board.label}无需{cond.milestone.label}",
        )
    done = cond.milestone in ctx.milestones
    return RuleResult(
        cond.label,
        Verdict.met if done else Verdict.unmet,
        f"已完成{cond.milestone.label}" if done else f"尚未完成{cond.milestone.label}",
    )


def _target_board(cond: TargetBoardCondition, ctx: _Context) -> RuleResult:
    result = ctx.readiness.board(ctx.record.target_board)
    ok = result.status.value in cond.statuses
    if ok:
        verdict = Verdict.met
    else:
        verdict = Verdict.unknown if result.status is BoardStatus.possibly_ready else Verdict.unmet
    return RuleResult(cond.label, verdict, f"目标板块{result.label}：{result.status.label}")


def _rule(rule_label: str, conditions: tuple[Condition, ...], ctx: _Context) -> RuleResult:
    results = [_condition(c, ctx) for c in conditions]
    verdicts = {r.verdict for r in results}
    if Verdict.met in verdicts:
        verdict = Verdict.met
    else:
        verdict = Verdict.unknown if Verdict.unknown in verdicts else Verdict.unmet
    return RuleResult(rule_label, verdict, "；".join(r.detail for r in results))


def _context(
    session: Session, record: ListingRecord, as_of: date, criteria: CriteriaBook
) -> _Context:
    assert record.id is not None
    enterprise = repo.enterprise(session, record.enterprise_id)
    facts = load_facts(session, record.enterprise_id, as_of)
    reached = repo.milestones(session, [record.id]).get(record.id, [])
    return _Context(
        record=record,
        facts=facts,
        qualifications=_qualification_codes(enterprise.qualifications),
        milestones=frozenset(m.kind for m in reached if m.occurred_on <= as_of),
        readiness=assess(facts, criteria),
    )


def check_entry(
    session: Session,
    record_id: int,
    tier: ListingTier,
    *,
    as_of: date | None = None,
    clock: Clock = china_today,
    plan: CultivationPlan | None = None,
    criteria: CriteriaBook | None = None,
) -> TierCheck:
    """Evaluate the entry rules of ``tier`` (from the plan data) for a cultivation record."""
    spec = (plan or load_plan()).tiers[tier]
    record = repo.record(session, record_id)
    ctx = _context(session, record, as_of or clock(), criteria or load_criteria())
    return TierCheck(tier, tuple(_rule(r.label, r.any_of, ctx) for r in spec.entry))


def _validate_move(record: ListingRecord, tier: ListingTier, note: str | None, force: bool) -> None:
    here, there = TIER_ORDER.index(record.tier), TIER_ORDER.index(tier)
    if there == here:
        raise DomainError(f"已处于{tier.label}", field="tier")
    if there < here and not note:
        raise DomainError(f"由{record.tier.label}降至{tier.label}须注明原因", field="note")
    if there > here + 1 and not force:
        raise DomainError(f"不能由{record.tier.label}越级进入{tier.label}", field="tier")
    if force and not note:
        raise DomainError("人工调整层级须注明原因", field="note")


def _last_entry(session: Session, record: ListingRecord) -> date:
    assert record.id is not None
    changes = repo.tier_changes(session, [record.id]).get(record.id, [])
    return changes[-1].entered_on if changes else record.coaching_started_on


def move_tier(
    session: Session,
    record_id: int,
    tier: ListingTier,
    *,
    on: date | None = None,
    note: str | None = None,
    force: bool = False,
    clock: Clock = china_today,
    plan: CultivationPlan | None = None,
    criteria: CriteriaBook | None = None,
) -> ListingTierChange:
    """Move a record to ``tier`` on ``on`` (default today), recording the change in its history.

    Moving up checks the tier's entry rules: an unmet rule refuses the move unless ``force`` with a
    ``note``; moving down needs a note; skipping a tier needs ``force``.
    """
    record = repo.record(session, record_id)
    day = on or clock()
    _validate_move(record, tier, note, force)
    if day < _last_entry(session, record):
        raise DomainError("层级变动日期早于上一次变动", field="on")
    if TIER_ORDER.index(tier) > TIER_ORDER.index(record.tier):
        check = check_entry(session, record_id, tier, as_of=day, plan=plan, criteria=criteria)
        if not check.allowed and not force:
            reasons = "；".join(f"{r.label}：{r.detail}" for r in check.failing())
            raise DomainError(f"不满足{tier.label}准入条件：{reasons}", field="tier")
    return _apply(session, record, tier, day, note or f"进入{tier.label}")


def _apply(
    session: Session, record: ListingRecord, tier: ListingTier, day: date, note: str
) -> ListingTierChange:
    assert record.id is not None
    change = ListingTierChange(
        listing_record_id=record.id, tier=tier, entered_on=day, note=note[:300]
    )
    record.tier = tier
    session.add(change)
    session.add(record)
    session.flush()
    return change


def tier_history(session: Session, record_id: int, *, clock: Clock = china_today) -> list[TierStay]:
    """The record's stays in each tier, oldest first; the last one runs to today."""
    record = repo.record(session, record_id)
    changes = repo.tier_changes(session, [record_id]).get(record_id, [])
    today = clock()
    stays = []
    for i, change in enumerate(changes):
        left = changes[i + 1].entered_on if i + 1 < len(changes) else None
        days = ((left or today) - change.entered_on).days
        stays.append(TierStay(change.tier, change.entered_on, left, days, change.note))
    if not stays:
        days = (today - record.coaching_started_on).days
        stays.append(TierStay(record.tier, record.coaching_started_on, None, days, None))
    return stays
