"""Top-k ranking with exposure control, batch-first: every ranker returns ``(ids, scores)`` arrays.

The exposure policy (per_list, max_share, max_load) is described in docs/matching.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from matching.profiles import (
    BoolArray,
    CandidateSet,
    DemandBatch,
    DemandProfile,
    Float32Array,
    IntArray,
    encode_demands,
)
from matching.rules import RuleConfig, eligible
from matching.scorers import DEFAULT_WEIGHTS, weighted_score

RULES_VERSION = "rules-1"
CHUNK_ELEMENTS = 1_000_000


@dataclass(frozen=True)
class ExposurePolicy:
    """How much exposure one institution may get (see the module docstring)."""

    per_list: int | None = 2
    max_share: float | None = None
    max_load: int | None = None
    overload_penalty: float = 0.5


class ScoringModel(Protocol):
    """Anything that scores a batch of demands against all candidates."""

    @property
    def model_version(self) -> str:
        """Version stamp stored with every recommendation."""
        ...

    def score(self, batch: DemandBatch, cands: CandidateSet, cfg: RuleConfig) -> Float32Array:
        """Scores of shape ``(B, n)``; ``-inf`` where a candidate is not eligible."""
        ...


class RulesRanker:
    """Hard rules filter, the weighted sum of soft fits scores (the cold-start ranker)."""

    def __init__(self, weights: Mapping[str, float] | None = None) -> None:
        self.weights = weights

    @property
    def model_version(self) -> str:
        """``rules-1``."""
        return RULES_VERSION

    def score(self, batch: DemandBatch, cands: CandidateSet, cfg: RuleConfig) -> Float32Array:
        """Rules score of each pair, ``-inf`` where a hard rule fails; shape ``(B, n)``."""
        ok = eligible(batch, cands, cfg)
        total = weighted_score(batch, cands, self.weights or DEFAULT_WEIGHTS)
        np.copyto(total, np.float32(-np.inf), where=~ok)
        return total


def _order_keys(idx: IntArray, vals: Float32Array) -> npt.NDArray[np.int64]:
    """One int64 per entry that sorts like (-value, index): the float bits made monotone."""
    bits = (np.float32(0.0) - vals.astype(np.float32)).view(np.int32)  # 0 - x: no -0.0
    mono = np.where(bits < 0, bits ^ np.int32(0x7FFFFFFF), bits).astype(np.int64)
    return (mono << 32) | idx.astype(np.int64)  # idx < 2**32: the low half


def _decode(keys: npt.NDArray[np.int64]) -> tuple[IntArray, Float32Array]:
    mono = (keys >> 32).astype(np.int32)
    bits = np.where(mono < 0, mono ^ np.int32(0x7FFFFFFF), mono)
    return keys & np.int64(0xFFFFFFFF), np.float32(0.0) - bits.view(np.float32)


def _sorted(idx: IntArray, vals: Float32Array, m: int) -> tuple[IntArray, Float32Array]:
    """The first ``m`` entries of each row by score (best first), ties to the lower index."""
    return _decode(np.sort(_order_keys(idx, vals), axis=1)[:, :m])


def _top_m_exact(scores: Float32Array, m: int) -> tuple[IntArray, Float32Array]:
    """Exactly the ``m`` best per row; ties go to the lower index."""
    n = scores.shape[1]
    keys = _order_keys(np.arange(n, dtype=np.int64)[None, :], scores)
    if m < n:
        keys = np.partition(keys, m - 1, axis=1)[:, :m]
    return _decode(np.sort(keys, axis=1)[:, :m])


def _threshold(scores: Float32Array, m: int) -> Float32Array:
    """A per-row score that about ``4 m`` entries reach, estimated from a column sample."""
    n = scores.shape[1]
    sample = scores[:, :: max(1, n // 512)]
    r = min(sample.shape[1], 1 + int(np.ceil(4 * m * sample.shape[1] / n)))
    return np.sort(sample, axis=1)[:, sample.shape[1] - r]  # sort: select is slow on -inf ties


def _top_m(scores: Float32Array, m: int) -> tuple[IntArray, Float32Array]:
    """The ``m`` best columns of each row, sorted by score then index; ``(B, m)`` each."""
    rows, n = scores.shape
    if m >= n or n < 4096 or 16 * m > n:
        return _top_m_exact(scores, m)
    tau = _threshold(scores, m)
    floor = np.maximum(tau, np.finfo(np.float32).min)  # never keep -inf
    flat = np.flatnonzero(scores >= floor[:, None])
    r, c = np.divmod(flat, n)
    counts = np.bincount(r, minlength=rows)
    # Correct when the threshold kept at least m, or when it is -inf (it kept every eligible).
    good = ((counts >= m) | np.isneginf(tau)) & (counts <= 32 * m)
    width = max(int(counts[good].max(initial=0)), m)
    idx = np.full((rows, width), n, dtype=np.int64)
    vals = np.full((rows, width), -np.inf, dtype=np.float32)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pos = np.arange(len(r)) - starts[r]
    sel = good[r]
    idx[r[sel], pos[sel]], vals[r[sel], pos[sel]] = c[sel], scores.ravel()[flat[sel]]
    ids, out = _sorted(idx, vals, m)
    bad = np.flatnonzero(~good)
    if len(bad):
        ids[bad], out[bad] = _top_m_exact(scores[bad], m)
    return np.where(np.isfinite(out), ids, np.minimum(ids, n - 1)), out


def occurrence(groups: IntArray) -> IntArray:
    """How many earlier entries of the same row share each entry's group; shape like input.

    >>> occurrence(np.array([[3, 1, 3, 3]])).tolist()
    [[0, 0, 1, 2]]
    """
    rows, m = groups.shape
    order = np.argsort(groups, axis=1, kind="stable")
    s = np.take_along_axis(groups, order, 1)
    new = np.ones_like(s, dtype=bool)
    new[:, 1:] = s[:, 1:] != s[:, :-1]
    pos = np.broadcast_to(np.arange(m), (rows, m))
    start = np.maximum.accumulate(np.where(new, pos, 0), axis=1)
    out = np.empty_like(groups)
    np.put_along_axis(out, order, pos - start, 1)
    return out


def _kept(
    vals: Float32Array, ids: IntArray, groups: IntArray | None, per_group: int | None
) -> BoolArray:
    keep = np.isfinite(vals)
    if groups is not None and per_group is not None:
        keep &= occurrence(groups[ids]) < per_group
    return keep


def top_k(
    scores: Float32Array,
    k: int,
    groups: IntArray | None = None,
    per_group: int | None = None,
) -> tuple[IntArray, Float32Array]:
    """Top ``k`` columns per row, best first, at most ``per_group`` per group.

    Returns ``(ids, scores)`` of shape ``(B, min(k, n))``; -1 / ``-inf`` pad rows that run short.
    """
    n = scores.shape[1]
    k_eff = min(k, n)
    if k_eff <= 0:
        return np.zeros((len(scores), 0), np.int64), np.zeros((len(scores), 0), np.float32)
    m = k_eff if per_group is None else min(n, 4 * k_eff)
    while True:
        ids, vals = _top_m(scores, m)
        keep = _kept(vals, ids, groups, per_group)
        short = (keep.sum(axis=1) < k_eff) & np.isfinite(vals[:, -1])
        if m >= n or not short.any():
            break
        m = min(n, 2 * m)
    return _first_kept(ids, vals, keep, k_eff)


def _first_kept(
    ids: IntArray, vals: Float32Array, keep: BoolArray, k: int
) -> tuple[IntArray, Float32Array]:
    order = np.argsort(~keep, axis=1, kind="stable")[:, :k]
    ok = np.take_along_axis(keep, order, 1)
    out_ids = np.where(ok, np.take_along_axis(ids, order, 1), -1)
    out_vals = np.where(ok, np.take_along_axis(vals, order, 1), np.float32(-np.inf))
    return out_ids.astype(np.int64), out_vals.astype(np.float32)


def _apply_share_cap(
    ids: IntArray, vals: Float32Array, groups: IntArray, counts: IntArray, cap: int, k: int
) -> tuple[IntArray, Float32Array]:
    """Greedy cross-demand cap; rows with the best top score pick first. Loops over demands."""
    keep = np.zeros_like(ids, dtype=bool)
    for i in np.argsort(-vals[:, 0], kind="stable"):
        valid = ids[i] >= 0
        g = groups[np.where(valid, ids[i], 0)]
        allowed = valid & (counts[g] < cap)
        chosen = np.flatnonzero(allowed)[:k]
        keep[i, chosen] = True
        np.add.at(counts, g[chosen], 1)
    return _first_kept(ids, vals, keep, k)


def _chunk_scores(
    model: ScoringModel,
    profiles: Sequence[DemandProfile],
    cands: CandidateSet,
    cfg: RuleConfig,
    exclude: Sequence[IntArray] | None,
    penalty: Float32Array | None,
) -> Float32Array:
    scores = model.score(encode_demands(profiles, cands), cands, cfg)
    if penalty is not None:
        scores = np.where(np.isfinite(scores), scores * penalty[None, :], scores)
    for i, ex in enumerate(exclude or ()):
        scores[i, ex] = -np.inf
    return scores


def load_penalty(load: IntArray | None, exposure: ExposurePolicy, n: int) -> Float32Array | None:
    if load is None or exposure.max_load is None:
        return None
    over = np.asarray(load) >= exposure.max_load
    return np.where(over, exposure.overload_penalty, 1.0).astype(np.float32).reshape(n)


def rank_batch(
    model: ScoringModel,
    demands: Sequence[DemandProfile],
    cands: CandidateSet,
    cfg: RuleConfig,
    k: int = 10,
    exposure: ExposurePolicy | None = None,
    exclude: Sequence[IntArray] | None = None,
    load: IntArray | None = None,
    chunk_size: int | None = None,
    n_jobs: int = 1,
) -> tuple[IntArray, Float32Array]:
    """Rank candidates for each demand, best first: ``(ids, scores)`` of shape ``(B, min(k, n))``.

    -1 ids mark rows that ran short; ``n_jobs`` threads never change the result.
    """
    exposure = exposure or ExposurePolicy()
    n, total = len(cands), len(demands)
    step = chunk_size or max(1, CHUNK_ELEMENTS // max(n, 1))
    cap = math.ceil(exposure.max_share * total) if exposure.max_share is not None else None
    penalty = load_penalty(load, exposure, n)
    wide = k if cap is None else 3 * k

    def chunk(start: int) -> tuple[IntArray, Float32Array]:
        part = slice(start, start + step)
        ex = exclude[part] if exclude else None
        scores = _chunk_scores(model, demands[part], cands, cfg, ex, penalty)
        return top_k(scores, wide, cands.institution_index, exposure.per_list)

    starts = range(0, total, step)
    if n_jobs > 1 and len(starts) > 1:
        with ThreadPoolExecutor(n_jobs) as pool:  # numpy releases the GIL in the heavy loops
            parts = list(pool.map(chunk, starts))
    else:
        parts = [chunk(s) for s in starts]
    if not parts:
        return np.zeros((0, min(k, n)), np.int64), np.zeros((0, min(k, n)), np.float32)
    ids, vals = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    if cap is not None and n:
        counts = np.zeros(int(cands.institution_index.max(initial=-1)) + 1, dtype=np.int64)
        ids, vals = _apply_share_cap(ids, vals, cands.institution_index, counts, cap, k)
    return ids[:, :k], vals[:, :k]


def rank_one(
    model: ScoringModel,
    demand: DemandProfile,
    cands: CandidateSet,
    cfg: RuleConfig,
    k: int = 10,
    exposure: ExposurePolicy | None = None,
    exclude: IntArray | None = None,
    load: IntArray | None = None,
) -> tuple[IntArray, Float32Array]:
    """:func:`rank_batch` for one demand; arrays of shape ``(min(k, n),)``."""
    ex = [exclude] if exclude is not None else None
    ids, vals = rank_batch(model, [demand], cands, cfg, k, exposure, ex, load)
    return ids[0], vals[0]
