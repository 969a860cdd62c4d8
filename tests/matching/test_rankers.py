"""Every ranker of matching/ runs the ranker contract; property tests guard ranking invariants."""

from dataclasses import replace
from functools import lru_cache

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.candidates import build_candidate_set
from matching.learned import LearnedRanker, deal_history
from matching.offline.ranker import InvestorRanker
from matching.profiles import CandidateSet, DemandProfile, encode_demands
from matching.rank import ExposurePolicy, RulesRanker, ScoringModel, occurrence, rank_batch, top_k
from matching.rules import eligible
from tests.matching.contract import RankerCase, RankerContract
from tests.matching.deals import synthetic_deals
from tests.matching.helpers import CFG
from tests.matching.synthetic import synthetic_candidates, synthetic_demands


@lru_cache
def world(seed: int) -> tuple[list[DemandProfile], CandidateSet]:
    return synthetic_demands(30, seed=seed), build_candidate_set(synthetic_candidates(120, seed))


@lru_cache
def learned(seed: int) -> LearnedRanker:
    history = deal_history(synthetic_deals(30, 300, seed=seed))
    ranker = InvestorRanker(max_iter=40, n_windows=2, min_leaf_samples=5, random_state=seed)
    ids = np.array([int(k) for k in history.investor_keys.tolist()], dtype=np.int64)
    return LearnedRanker(ranker.fit(history), ids)


def _case(name: str, model_for: "type[RulesRanker] | None") -> RankerCase:
    demands, cands = world(0)

    def model(seed: int) -> ScoringModel:
        return RulesRanker() if model_for is not None else learned(seed)

    def rank(seed: int, k: int, exclude: list[np.ndarray] | None) -> tuple[np.ndarray, np.ndarray]:
        return rank_batch(model(seed), demands, cands, CFG, k, exclude=exclude)

    forbidden = ~eligible(encode_demands(demands, cands), cands, CFG)
    return RankerCase(name, rank, len(demands), len(cands), forbidden)


@pytest.fixture(params=["rules", "learned"])
def ranker_case(request: pytest.FixtureRequest) -> RankerCase:
    return _case(request.param, RulesRanker if request.param == "rules" else None)


class TestRankerContract(RankerContract):
    """The contract, for the rules ranker and the learned ranker."""


def test_the_learned_ranker_did_train() -> None:
    assert learned(0).ranker.model_ is not None
    assert learned(0).model_version.startswith("ltr-")


# --- properties -----------------------------------------------------------------------------

MODELS = {"rules": lambda: RulesRanker(), "learned": lambda: learned(0)}


def _position(ids: np.ndarray, j: int) -> float:
    hit = np.flatnonzero(ids == j)
    return float(hit[0]) if len(hit) else float("inf")


@pytest.mark.parametrize("name", sorted(MODELS))
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    q=st.integers(0, 29),
    pick=st.integers(0, 10_000),
    field=st.sampled_from(["activity", "responsiveness"]),
    delta=st.floats(0.01, 1.0),
)
def test_a_candidate_better_on_one_dimension_never_drops(
    name: str, q: int, pick: int, field: str, delta: float
) -> None:
    demands, cands = world(0)
    model = MODELS[name]()
    before, _ = rank_batch(model, demands[q : q + 1], cands, CFG, k=len(cands))
    shown = before[0][before[0] >= 0]
    if not len(shown):
        return
    j = int(shown[pick % len(shown)])
    rows = list(cands.rows)
    rows[j] = replace(rows[j], **{field: min(1.0, getattr(rows[j], field) + delta)})
    better = build_candidate_set(rows)
    after, _ = rank_batch(model, demands[q : q + 1], better, CFG, k=len(cands))
    assert _position(after[0], j) <= _position(before[0], j)


@settings(max_examples=30, deadline=None)
@given(q=st.integers(0, 29), excluded=st.sets(st.integers(0, 119), max_size=40))
def test_excluded_candidates_never_appear(q: int, excluded: set[int]) -> None:
    demands, cands = world(0)
    ex = [np.array(sorted(excluded), dtype=np.int64)]
    ids, _ = rank_batch(RulesRanker(), demands[q : q + 1], cands, CFG, k=50, exclude=ex)
    assert not set(ids[0].tolist()) & excluded


@settings(max_examples=60, deadline=None)
@given(
    scores=st.lists(
        st.sampled_from([0.1, 0.2, 0.3, 0.5, 0.9, float("-inf")]), min_size=1, max_size=40
    ),
    k=st.integers(1, 45),
)
def test_top_k_matches_a_plain_sort(scores: list[float], k: int) -> None:
    s = np.array([scores], dtype=np.float32)
    ids, _ = top_k(s, k)
    want = [i for i in sorted(range(len(scores)), key=lambda i: (-scores[i], i))][:k]
    want = [i if scores[i] > float("-inf") else -1 for i in want]
    assert ids[0].tolist() == want


def test_top_k_fast_path_agrees_with_a_full_sort() -> None:
    rng = np.random.default_rng(3)
    s = rng.random((40, 9000)).astype(np.float32)
    s[s < 0.6] = -np.inf
    s[1] = -np.inf
    s[2, 10:] = -np.inf
    ids, _ = top_k(s, 20)
    for r in range(len(s)):
        order = sorted(np.flatnonzero(np.isfinite(s[r])), key=lambda i: (-s[r, i], i))[:20]
        assert ids[r][ids[r] >= 0].tolist() == [int(i) for i in order]


@settings(max_examples=60)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=20))
def test_occurrence_counts_earlier_entries_of_the_group(groups: list[int]) -> None:
    got = occurrence(np.array([groups]))[0].tolist()
    assert got == [groups[:i].count(g) for i, g in enumerate(groups)]


# --- exposure ---------------------------------------------------------------------------------


def test_at_most_per_list_products_of_one_institution() -> None:
    demands, cands = world(0)
    ids, _ = rank_batch(RulesRanker(), demands, cands, CFG, k=10, exposure=ExposurePolicy(1))
    for row in ids:
        inst = cands.institution_index[row[row >= 0]]
        assert len(inst) == len(set(inst.tolist()))


def test_max_share_caps_lists_per_institution() -> None:
    demands, cands = world(0)
    policy = ExposurePolicy(per_list=2, max_share=0.2)
    ids, _ = rank_batch(RulesRanker(), demands, cands, CFG, k=5, exposure=policy)
    lists_per_inst: dict[int, int] = {}
    for row in ids:
        for inst in set(cands.institution_index[row[row >= 0]].tolist()):
            lists_per_inst[inst] = lists_per_inst.get(inst, 0) + 1
    assert max(lists_per_inst.values()) <= int(np.ceil(0.2 * len(demands)))
    free, _ = rank_batch(RulesRanker(), demands, cands, CFG, k=5)
    top_free = np.bincount(cands.institution_index[free[free >= 0]]).max()
    assert top_free > int(np.ceil(0.2 * len(demands)))  # the cap did something


def test_overloaded_institutions_are_demoted() -> None:
    demands, cands = world(0)
    ids, _ = rank_batch(RulesRanker(), demands[:1], cands, CFG, k=3)
    busy = cands.institution_index[ids[0, 0]]
    load = np.where(cands.institution_index == busy, 100, 0)
    policy = ExposurePolicy(max_load=50, overload_penalty=0.01)
    after, _ = rank_batch(RulesRanker(), demands[:1], cands, CFG, k=3, exposure=policy, load=load)
    assert busy not in cands.institution_index[after[0][after[0] >= 0]]
