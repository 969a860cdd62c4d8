"""Historical rounds through the product path: a round is a demand, an investor a candidate.

:class:`ProductPathRanker` has the :class:`~matching.offline.ranker.InvestorRanker` API and ranks
with what serves the center: :func:`matching.rank.rank_batch` over the hard rules and
:class:`matching.learned.LearnedRanker` (docs/offline_eval.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from matching.candidates import build_candidate_set
from matching.learned import EPOCH, STAGE_OF_ROUND, WAN, LearnedRanker
from matching.offline.data import History, RoundTable
from matching.offline.ranker import InvestorRanker
from matching.profiles import CandidateRow, CandidateSet, DemandProfile
from matching.rank import rank_batch
from matching.rules import RuleConfig

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
RECENT_DAYS = 180.0


def round_profiles(rounds: RoundTable, enterprise_ids: IntArray) -> list[DemandProfile]:
    """Each round as an equity demand of enterprise ``enterprise_ids[j]`` (amounts in 万)."""
    out = []
    for j in range(len(rounds)):
        amount = float(rounds.amount[j]) / WAN if rounds.amount[j] > 0 else 0.0
        rtype = str(rounds.round_type[j])
        out.append(DemandProfile(
            demand_id=j, enterprise_id=int(enterprise_ids[j]), financing_type="equity",
            amount_min_wan=amount, amount_max_wan=amount, stage=STAGE_OF_ROUND.get(rtype),
            industry_code=str(rounds.category[j]) or None, round_type=rtype,
            region_code="/".join((str(rounds.state[j]), str(rounds.region[j]), str(rounds.city[j]))),
        ))  # fmt: skip
    return out


def investor_rows(history: History, as_of: float) -> list[CandidateRow]:
    """Each investor as an unrestricted equity mandate; activity from its recent investments."""
    day = history.rounds.day[history.inv_round]
    recent = np.bincount(history.inv_investor, (day >= as_of - RECENT_DAYS) & (day < as_of),
                         history.n_investors)  # fmt: skip
    start = dt.date(1, 1, 1)
    return [
        CandidateRow(
            institution_id=i,
            product_id=i,
            kind="equity",
            institution_name=str(name),
            product_name=str(name),
            institution_kind="vc",
            ticket_min_wan=0.0,
            ticket_max_wan=1e12,
            agreement_start=start,
            text=str(name),
            activity=float(1.0 - np.exp(-recent[i] / 3.0)),
        )
        for i, name in enumerate(history.investor_names.tolist())
    ]


def _company_ids(companies: Sequence[str], known: dict[str, int]) -> IntArray:
    return np.array([known.setdefault(c, len(known)) for c in companies], dtype=np.int64)


@dataclass(eq=False)
class ProductPathRanker:
    """Fit the one ranker on a history; rank rounds as demands through :func:`rank_batch`."""

    ranker: InvestorRanker = field(default_factory=InvestorRanker)

    def fit(self, history: History) -> ProductPathRanker:
        """Train :class:`LearnedRanker` on ``history`` (companies keyed as enterprise ids)."""
        self.companies_: dict[str, int] = {}
        ids = _company_ids(history.rounds.company.tolist(), self.companies_)
        keyed = replace(history, rounds=replace(history.rounds, company=ids.astype(str)))
        self.model_ = LearnedRanker(
            self.ranker.fit(keyed), np.arange(history.n_investors, dtype=np.int64)
        )
        self.investor_names_ = history.investor_names
        end = float(history.rounds.day.max()) + 1.0 if len(history.rounds) else 0.0
        self.candidates_: CandidateSet = build_candidate_set(investor_rows(history, end))
        return self

    def rank(self, queries: RoundTable, k: int = 10) -> tuple[IntArray, FloatArray]:
        """Top-``k`` investors per round, each round ranked as a demand on its funding day."""
        k = min(k, len(self.investor_names_))
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        scores = np.full((len(queries), k), -np.inf)
        profiles = round_profiles(queries, _company_ids(queries.company.tolist(), self.companies_))
        for day in np.unique(queries.day):
            rows = np.flatnonzero(queries.day == day)
            today = EPOCH + dt.timedelta(days=int(day))
            got, vals = rank_batch(self.model_, [profiles[j] for j in rows], self.candidates_,
                                   RuleConfig(today=today), k)  # fmt: skip
            ids[rows, : got.shape[1]], scores[rows, : got.shape[1]] = got, vals
        return ids, scores
