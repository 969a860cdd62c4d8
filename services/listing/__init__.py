"""Listing cultivation (standard 6.1.1 d): tiers, board readiness, coaching, milestones, providers.

Criteria, tier entry rules, stall thresholds and the coaching plan are data
(`models/data/listing_criteria.json`, `models/data/listing_tiers.json`); services never commit.
"""

from services.listing.coaching import (
    PlanStep,
    plan_progress,
    record_attendance,
    schedule_session,
)
from services.listing.criteria import CriteriaBook, CriteriaSet, Criterion, load_criteria
from services.listing.evaluate import (
    BoardResult,
    BoardStatus,
    CriterionResult,
    SetResult,
    Verdict,
)
from services.listing.facts import EnterpriseFacts, YearFigures
from services.listing.financials import upsert_financial_year
from services.listing.milestones import (
    AlertSync,
    StalledAlert,
    find_stalled,
    record_milestone,
    stalled_for,
    sync_alerts,
)
from services.listing.overview import CultivationOverview, RecordRow, cultivation_overview
from services.listing.plan import Clock, CultivationPlan, china_today, load_plan
from services.listing.providers import ProviderMatch, rank_providers, score_providers
from services.listing.readiness import (
    Readiness,
    Recommendation,
    assess,
    evaluate_readiness,
    recommend,
)
from services.listing.tiers import TierCheck, TierStay, check_entry, move_tier, tier_history

__all__ = [
    "AlertSync",
    "BoardResult",
    "BoardStatus",
    "Clock",
    "CriteriaBook",
    "CriteriaSet",
    "Criterion",
    "CriterionResult",
    "CultivationOverview",
    "CultivationPlan",
    "EnterpriseFacts",
    "PlanStep",
    "ProviderMatch",
    "Readiness",
    "Recommendation",
    "RecordRow",
    "SetResult",
    "StalledAlert",
    "TierCheck",
    "TierStay",
    "Verdict",
    "YearFigures",
    "assess",
    "check_entry",
    "china_today",
    "cultivation_overview",
    "evaluate_readiness",
    "find_stalled",
    "load_criteria",
    "load_plan",
    "move_tier",
    "plan_progress",
    "rank_providers",
    "recommend",
    "record_attendance",
    "record_milestone",
    "schedule_session",
    "score_providers",
    "stalled_for",
    "sync_alerts",
    "tier_history",
    "upsert_financial_year",
]
