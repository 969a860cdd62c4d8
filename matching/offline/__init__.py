"""Offline investor ranking on historical funding rounds (Crunchbase-style CSVs).

Modules: :mod:`~matching.offline.data` (loading, name normalisation),
:mod:`~matching.offline.features` (history statistics, candidates, pair features),
:mod:`~matching.offline.ranker` (learned ranker), :mod:`~matching.offline.baselines`,
:mod:`~matching.offline.metrics`, :mod:`~matching.offline.evaluate` (temporal split, recall@k
curves), :mod:`~matching.offline.implicit_baseline` (implicit-ALS adapter, optional
``implicit`` package), :mod:`~matching.offline.report` (tables and plots for the notebook) and
:mod:`~services.recommendations.offline` (file-level entry points for the CLI).
"""

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
