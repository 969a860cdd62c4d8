"""Listing cultivation (standard 6.1.1 d): tiers, board readiness, coaching, milestones, providers.

Criteria, tier entry rules, stall thresholds and the coaching plan are data
(`models/data/listing_criteria.json`, `models/data/listing_tiers.json`); services never commit.
"""

# ruff: noqa: F401 (the package re-exports its public names)
from services.listing.coaching import plan_progress, record_attendance, schedule_session
from services.listing.criteria import load_criteria
from services.listing.evaluate import BoardResult, BoardStatus, Verdict
from services.listing.facts import EnterpriseFacts, YearFigures
from services.listing.financials import upsert_financial_year
from services.listing.milestones import find_stalled, record_milestone, sync_alerts
from services.listing.overview import CultivationOverview, cultivation_overview
from services.listing.providers import rank_providers
from services.listing.readiness import Readiness, assess, evaluate_readiness
from services.listing.tiers import check_entry, move_tier, tier_history
