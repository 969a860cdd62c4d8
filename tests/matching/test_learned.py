"""The learned re-ranker: cold-start fallback, calibrated gains over the rules, determinism."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from matching.candidates import build_candidate_set
from matching.learned import FEATURE_NAMES, MONOTONIC, LearnedRanker, LearnedReranker
from matching.rank import RULES_VERSION, RulesRanker, rank_batch
from tests.matching.helpers import CFG
from tests.matching.outcomes import synthetic_outcomes
from tests.matching.synthetic import synthetic_candidates, synthetic_demands

RULES_COL = FEATURE_NAMES.index("rules_score")


@pytest.fixture(scope="module")
def data() -> dict[str, np.ndarray]:
    cands = build_candidate_set(synthetic_candidates(120, seed=5))
    x, y, _ = synthetic_outcomes(synthetic_demands(300, seed=5), cands, CFG, 2500, seed=5)
    xt, yt, pt = synthetic_outcomes(synthetic_demands(300, seed=6), cands, CFG, 2500, seed=6)
    return {"x": x, "y": y, "xt": xt, "yt": yt, "pt": pt}


def model(seed: int = 0) -> LearnedReranker:
    return LearnedReranker(monotonic_cst=MONOTONIC, random_state=seed, max_iter=80)


def test_falls_back_when_outcomes_are_few(data: dict[str, np.ndarray]) -> None:
    few = model().fit(data["x"][:50], data["y"][:50])
    assert few.is_fallback and few.version_ == RULES_VERSION
    assert "继续使用规则排序" in (few.fallback_reason_ or "")
    with pytest.raises(NotFittedError):
        few.predict_proba(data["x"][:5])
    cands = build_candidate_set(synthetic_candidates(60, seed=1))
    demands = synthetic_demands(5, seed=1)
    served = rank_batch(LearnedRanker(few), demands, cands, CFG, k=5)
    rules = rank_batch(RulesRanker(), demands, cands, CFG, k=5)
    assert np.array_equal(served[0], rules[0])


def test_beats_the_rules_where_the_truth_is_known(data: dict[str, np.ndarray]) -> None:
    fitted = model().fit(data["x"], data["y"])
    p = fitted.predict_proba(data["xt"])[:, 1]
    auc_learned = roc_auc_score(data["yt"], p)
    auc_rules = roc_auc_score(data["yt"], data["xt"][:, RULES_COL])
    auc_oracle = roc_auc_score(data["yt"], data["pt"])
    assert auc_learned > auc_rules + 0.05
    assert auc_learned > auc_oracle - 0.05
    # calibrated: mean predicted ≈ observed rate, and close to the true probabilities
    assert abs(p.mean() - data["yt"].mean()) < 0.03
    assert np.abs(p - data["pt"]).mean() < 0.08


def test_deterministic_and_sklearn_conventions(data: dict[str, np.ndarray]) -> None:
    a = model(3).fit(data["x"], data["y"])
    b = clone(a).fit(data["x"], data["y"])
    assert a.version_ == b.version_ and a.version_.startswith("gbm-")
    assert np.array_equal(a.predict_proba(data["xt"]), b.predict_proba(data["xt"]))
    assert a.get_params()["random_state"] == 3
    assert not hasattr(model(), "model_")  # __init__ only stores parameters
    again = pickle.loads(pickle.dumps(a))
    assert np.array_equal(again.predict_proba(data["xt"][:10]), a.predict_proba(data["xt"][:10]))
