"""The one learned ranker: LambdaMART over an investment history, behind the hard rules.

The same candidate generation, features and LambdaMART (:mod:`matching.offline`) rank investors
for historical rounds (`rank-offline`) and institutions for the center's demands: a demand is
read as a round (:func:`demand_rounds`), the center's confirmed deals as the history
(:func:`deal_history`). The rules keep deciding who is eligible; the learned score replaces the
rules' fit score. Without a trained model the rules rank (cold start, ``rules-1``).
docs/matching.md and docs/offline_eval.md describe it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from matching.history import DealHistory
from matching.offline.data import History, RoundTable, history_from_rows
from matching.offline.features import generate_candidates, pair_features, query_context
from matching.offline.ranker import InvestorRanker
from matching.profiles import (
    STAGES,
    CandidateSet,
    DemandBatch,
    DemandProfile,
    Float32Array,
    IntArray,
    region_prefixes,
)
from matching.rank import RULES_VERSION
from matching.rules import RuleConfig, eligible

__all__ = ["RULES_VERSION", "LearnedRanker", "deal_history", "demand_rounds", "locality"]

EPOCH = dt.date(1970, 1, 1)
#: The round an enterprise at each stage raises (and back); 'venture' and 'other' have no stage.
ROUND_OF_STAGE: dict[str, str] = dict(
    zip(STAGES, ("angel", "series-a", "series-b", "series-c+", "private-equity", "post-ipo"),
        strict=True)
)  # fmt: skip
STAGE_OF_ROUND: dict[str, str] = {r: s for s, r in ROUND_OF_STAGE.items()}
WAN = 1e4


def locality(region_code: str | None) -> tuple[str, str, str]:
    """(province, city, district) of a GB/T 2260 code, or the parts of a 'state/region/city' path."""
    prefixes = region_prefixes(region_code)
    if prefixes is not None:
        return prefixes
    parts = (region_code or "").split("/")
    return (*parts, "", "", "")[:3]  # type: ignore[return-value]


def round_type(profile: DemandProfile) -> str:
    """The round a demand raises: its stated round, else the round of its stage."""
    return profile.round_type or ROUND_OF_STAGE.get(profile.stage or "", "other")


def demand_rounds(profiles: Sequence[DemandProfile], today: dt.date) -> RoundTable:
    """Each demand as a funding round raised on ``today`` (amounts in yuan, like the history)."""
    places = [locality(p.region_code) for p in profiles]
    mid = np.array([(p.amount_min_wan + p.amount_max_wan) / 2 for p in profiles], dtype=float)

    def col(values: Sequence[str]) -> np.ndarray:
        return np.array(values, dtype=str).reshape(len(profiles))

    return RoundTable(
        company=col([str(p.enterprise_id) for p in profiles]),
        category=col([p.industry_code or "" for p in profiles]),
        state=col([s for s, _, _ in places]),
        region=col([r for _, r, _ in places]),
        city=col([c for _, _, c in places]),
        round_type=col([round_type(p) for p in profiles]),
        day=np.full(len(profiles), float((today - EPOCH).days)),
        amount=np.where(mid > 0, mid * WAN, np.nan),
    )


def deal_history(deals: DealHistory) -> History:
    """The center's confirmed deals as an investment history: a round per enterprise and day,
    its investors the institutions that closed a deal in it."""
    stage = [STAGES[s] if s < len(STAGES) else "" for s in deals.stage.tolist()]
    total: dict[tuple[int, int], float] = {}
    for e, d, a in zip(deals.enterprise_id.tolist(), deals.day.tolist(),
                       deals.amount_wan.tolist(), strict=True):  # fmt: skip
        total[(e, d)] = total.get((e, d), 0.0) + a
    rows = []
    for j, inst in enumerate(deals.institution_id.tolist()):
        e, d = int(deals.enterprise_id[j]), int(deals.day[j])
        state, region, city = locality(deals.region_code[j])
        rows.append({
            "investor_name": str(inst), "company_permalink": str(e),
            "company_category_code": deals.industry_code[j], "company_state_code": state,
            "company_region": region, "company_city": city,
            "funding_round_type": ROUND_OF_STAGE.get(stage[j], "other"),
            "funded_at": dt.date.fromordinal(d).isoformat(),
            "raised_amount_usd": repr(total[(e, d)] * WAN),
        })  # fmt: skip
    return history_from_rows(rows)


def _columns_of(cands: CandidateSet, institutions: IntArray) -> tuple[IntArray, IntArray]:
    """(position in ``institutions``, candidate column) for every candidate row of each."""
    order = np.argsort(cands.institution_id, kind="stable")
    ids = cands.institution_id[order]
    lo = np.searchsorted(ids, institutions, "left")
    counts = np.searchsorted(ids, institutions, "right") - lo
    which = np.repeat(np.arange(institutions.size), counts)
    offset = np.arange(which.size) - np.repeat(np.cumsum(counts) - counts, counts)
    return which, order[np.repeat(lo, counts) + offset]


@dataclass(eq=False)
class LearnedRanker:
    """Eligible candidates ordered by the LambdaMART score of their institution (ScoringModel).

    ``institution_ids[i]`` is the institution of investor ``i`` of the history ``ranker`` was
    fitted on. Eligible candidates the candidate generation did not retrieve follow, by recent
    activity; institutions without history come last.
    """

    ranker: InvestorRanker
    institution_ids: IntArray

    @property
    def model_version(self) -> str:
        """``ltr-`` and a digest of the trained model."""
        booster = self.ranker.model_
        text = booster.model_to_string() if booster is not None else repr(self.ranker)
        digest = hashlib.sha1(text.encode() + self.institution_ids.tobytes()).hexdigest()
        return f"ltr-{digest[:10]}"

    def score(self, batch: DemandBatch, cands: CandidateSet, cfg: RuleConfig) -> Float32Array:
        """Learned score of every eligible pair, ``-inf`` where a hard rule fails; ``(B, n)``."""
        ok = eligible(batch, cands, cfg)
        r, index = self.ranker, self.ranker.index_
        ctx = query_context(index, demand_rounds(batch.profiles, cfg.today))
        qi, inv = generate_candidates(index, ctx, r.n_candidates, r.n_local_candidates)
        learned = r.pair_scores(pair_features(index, ctx, qi, inv))
        floor = np.full(len(batch), np.inf)
        np.minimum.at(floor, qi, learned)
        floor = np.where(np.isfinite(floor), floor, 0.0) - 1.0
        out = floor[:, None] - self._fill_rank(cands)[None, :]
        pair, cols = _columns_of(cands, self.institution_ids[inv])
        out[qi[pair], cols] = learned[pair]
        return np.where(ok, out, -np.inf).astype(np.float32)

    def _fill_rank(self, cands: CandidateSet) -> np.ndarray:
        """In [0, 1]: the activity rank of each candidate's institution; 1 without history."""
        n = self.institution_ids.size
        rank = np.empty(n)
        rank[self.ranker.fill_order_] = np.arange(n) / (n + 1.0)
        out = np.ones(len(cands))
        which, cols = _columns_of(cands, self.institution_ids)
        out[cols] = rank[which]
        return out
