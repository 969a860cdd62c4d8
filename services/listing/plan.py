"""Tier entry rules, stall thresholds and the coaching plan, as data (`listing_tiers.json`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from models.clock import center_today
from models.reference import Board, ListingMilestoneKind, ListingTier
from services.listing.criteria import Criterion

PLAN_PATH = Path(__file__).resolve().parents[2] / "models" / "data" / "listing_tiers.json"
TIER_ORDER: tuple[ListingTier, ...] = tuple(ListingTier)
EXCHANGE_BOARDS: frozenset[Board] = frozenset({Board.main, Board.star, Board.chinext, Board.bse})

Clock = Callable[[], date]


def china_today() -> date:
    """Today at the center (`TIMEZONE`): the default clock (tests inject their own)."""
    return center_today()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CriterionCondition(_Strict):
    """A financial threshold (same form as a listing criterion)."""

    kind: Literal["criterion"]
    criterion: Criterion

    @property
    def label(self) -> str:
        """The criterion's label."""
        return self.criterion.label


class QualificationCondition(_Strict):
    """Holds at least one of the qualifications (Qualification values)."""

    kind: Literal["qualification"]
    label: str
    values: tuple[str, ...] = Field(min_length=1)


class MilestoneCondition(_Strict):
    """Has reached a milestone; when ``boards`` is set, only required for those target boards."""

    kind: Literal["milestone"]
    label: str
    milestone: ListingMilestoneKind
    boards: tuple[Board, ...] = ()


class SponsorCondition(_Strict):
    """A sponsoring securities firm is recorded."""

    kind: Literal["sponsor"]
    label: str


class TargetBoardCondition(_Strict):
    """The target board's readiness is one of ``statuses``."""

    kind: Literal["target_board"]
    label: str
    statuses: tuple[Literal["ready", "possibly_ready", "not_ready"], ...] = Field(min_length=1)


Condition = Annotated[
    CriterionCondition
    | QualificationCondition
    | MilestoneCondition
    | SponsorCondition
    | TargetBoardCondition,
    Field(discriminator="kind"),
]


class EntryRule(_Strict):
    """One entry rule: met when any of its conditions is met."""

    label: str
    any_of: tuple[Condition, ...] = Field(min_length=1)


class TierSpec(_Strict):
    """Entry rules of a tier and how long an enterprise may stay before it counts as stalled."""

    entry: tuple[EntryRule, ...] = ()
    stall_days: int | None = Field(default=None, ge=1)


class PlanItem(_Strict):
    """One coaching session of a tier's plan (``per_board``: one session per target board)."""

    key: str = Field(max_length=40)
    title: str
    topic: str = Field(max_length=100)
    per_board: bool = False


class CultivationPlan(_Strict):
    """The whole `listing_tiers.json`."""

    schema_: int = Field(alias="schema")
    version: str
    notes: tuple[str, ...] = ()
    tiers: dict[ListingTier, TierSpec]
    milestone_stall_days: dict[ListingMilestoneKind, int]
    milestone_roads: dict[Literal["exchange", "quotation"], tuple[ListingMilestoneKind, ...]]
    coaching_plan: dict[ListingTier, tuple[PlanItem, ...]]

    def road_for(self, board: Board) -> tuple[ListingMilestoneKind, ...]:
        """The milestones expected on the way to ``board``, in order."""
        return self.milestone_roads["exchange" if board in EXCHANGE_BOARDS else "quotation"]

    def plan_item(self, tier: ListingTier, key: str) -> PlanItem | None:
        """The plan item ``key`` of ``tier``, if any."""
        return next((i for i in self.coaching_plan.get(tier, ()) if i.key == key), None)


@lru_cache(maxsize=4)
def load_plan(path: Path | str | None = None) -> CultivationPlan:
    """Read and validate a tiers/plan file (the packaged one by default); cached."""
    return CultivationPlan.model_validate_json(Path(path or PLAN_PATH).read_text(encoding="utf-8"))
