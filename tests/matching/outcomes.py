"""Synthetic recorded outcomes whose true win probability is known, for the learned re-ranker."""

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from matching.learned import FEATURE_NAMES, pair_features
from matching.profiles import CandidateSet, DemandProfile, encode_demands
from matching.rules import RuleConfig, eligible

F = {name: i for i, name in enumerate(FEATURE_NAMES)}


def true_win_probability(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The hidden truth: responsiveness matters a lot, and only together with a fitting ticket.

    The rules' fixed weights do not know this; text similarity does not matter at all.
    """
    logit = (
        -3.0
        + 5.0 * x[:, F["responsiveness"]] * x[:, F["ticket"]]
        + 1.5 * x[:, F["stage"]]
        + 1.0 * x[:, F["sector"]]
        - 1.0 * x[:, F["text"]]
    )
    return 1.0 / (1.0 + np.exp(-logit))


def synthetic_outcomes(
    demands: Sequence[DemandProfile], cands: CandidateSet, cfg: RuleConfig, n: int, seed: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """``n`` eligible pairs drawn at random, their features, sampled outcomes and true odds."""
    rng = np.random.default_rng(seed)
    batch = encode_demands(demands, cands)
    rows, cols = np.nonzero(eligible(batch, cands, cfg))
    pick = rng.choice(len(rows), size=min(n, len(rows)), replace=False)
    x = pair_features(batch, cands, rows[pick], cols[pick])
    p = true_win_probability(x)
    return x, (rng.random(len(p)) < p).astype(np.int64), p
