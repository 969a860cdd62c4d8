"""Offline investor ranking on historical funding rounds (Crunchbase CSVs); docs/offline_eval.md."""

from matching.offline.baselines import CategoryRoundPopularity, GlobalPopularity
from matching.offline.data import History, RoundTable, load_history, load_queries
from matching.offline.ranker import InvestorRanker

__all__ = [
    "CategoryRoundPopularity",
    "GlobalPopularity",
    "History",
    "InvestorRanker",
    "RoundTable",
    "load_history",
    "load_queries",
]
