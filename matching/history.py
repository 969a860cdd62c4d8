"""What an institution's track record says: inferred profiles, recent activity, responsiveness.

Every function only looks at events strictly before ``as_of`` (docs/matching.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.profiles import STAGES, UNKNOWN_STAGE, BoolArray, FloatArray, IntArray, sector_keys

NEVER_DAY = np.iinfo(np.int64).max


@dataclass(frozen=True)
class DealHistory:
    """Closed deals as columns of length ``m``; days are ``date.toordinal()`` values."""

    institution_id: IntArray
    enterprise_id: IntArray
    day: IntArray
    stage: IntArray
    industry_code: tuple[str, ...]
    region_code: tuple[str, ...]
    amount_wan: FloatArray

    @classmethod
    def empty(cls) -> DealHistory:
        """A history without deals."""
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z, z, z, (), (), np.zeros(0))


@dataclass(frozen=True)
class PipelineHistory:
    """Matches as columns of length ``m``: when introduced and progressed (ordinal days), how far.

    ``progressed_day`` is the first move past ``introduced`` (meeting or later, or a win);
    ``NEVER_DAY`` marks what has not happened. ``reached`` is the furthest pipeline step
    (0 recommended, 1 introduced, 2 meeting, 3 due diligence, 4 term sheet, 5 won).
    """

    institution_id: IntArray
    enterprise_id: IntArray
    introduced_day: IntArray
    progressed_day: IntArray
    reached: IntArray
    won: BoolArray

    @classmethod
    def empty(cls) -> PipelineHistory:
        """A pipeline without matches."""
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z, z, z, z, np.zeros(0, dtype=bool))


@dataclass(frozen=True)
class InstitutionProfiles:
    """Recency-weighted distributions of each institution's deals; rows follow ``institution_ids``.

    ``stage`` is ``(I, 6)``, ``sector`` ``(I, K)`` over the keys of ``sector_index`` (门类 letters
    and 门类+大类 codes, each level summing to one), ``province`` ``(I, P)``. ``ticket_mu`` and
    ``ticket_sd`` are the mean and spread of log10 deal amounts.
    """

    institution_ids: IntArray
    evidence: FloatArray
    stage: FloatArray
    sector_index: Mapping[str, int]
    sector: FloatArray
    province_index: Mapping[str, int]
    province: FloatArray
    ticket_mu: FloatArray
    ticket_sd: FloatArray

    def confidence(self, strength: float = 3.0) -> FloatArray:
        """How far to trust the profile over a neutral prior: ``w / (w + strength)``; ``(I,)``."""
        return self.evidence / (self.evidence + strength)

    def row_of(self, institution_ids: IntArray) -> IntArray:
        """Row of each institution id, -1 when it has no profile; shape like the input."""
        order = np.argsort(self.institution_ids)
        sorted_ids = self.institution_ids[order]
        pos = np.clip(np.searchsorted(sorted_ids, institution_ids), 0, max(len(order) - 1, 0))
        if len(order) == 0:
            return np.full(len(institution_ids), -1, dtype=np.int64)
        found = sorted_ids[pos] == institution_ids
        return np.where(found, order[pos], -1).astype(np.int64)


def recency_weights(days: IntArray, as_of: date, half_life_days: float) -> FloatArray:
    """``0.5 ** (age / half_life)`` for events before ``as_of``, 0 for later ones; ``(m,)``."""
    age = as_of.toordinal() - days.astype(np.float64)
    return np.where(age > 0, 0.5 ** (age / half_life_days), 0.0)


def _distribution(
    rows: IntArray, cols: IntArray, weights: FloatArray, shape: tuple[int, int]
) -> FloatArray:
    counts = np.zeros(shape)
    np.add.at(counts, (rows, cols), weights)
    total = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, total, out=np.zeros(shape), where=total > 0)


def _sector_columns(codes: Sequence[str]) -> tuple[dict[str, int], IntArray, IntArray]:
    index: dict[str, int] = {}
    sections, divisions = [], []
    for code in codes:
        keys = sector_keys(code) or ("?", "?")
        sections.append(index.setdefault(keys[0], len(index)))
        divisions.append(index.setdefault(keys[1] or "?", len(index)))
    return index, np.array(sections, np.int64), np.array(divisions, np.int64)


def _ticket_stats(
    rows: IntArray, amounts: FloatArray, w: FloatArray, n: int
) -> tuple[FloatArray, FloatArray]:
    logs = np.log10(np.maximum(amounts, 1.0))
    total = np.bincount(rows, w, minlength=n)
    safe = np.where(total > 0, total, 1.0)
    mu = np.bincount(rows, w * logs, minlength=n) / safe
    var = np.bincount(rows, w * logs**2, minlength=n) / safe - mu**2
    return mu, np.sqrt(np.maximum(var, 0.0))


def infer_profiles(
    deals: DealHistory, institution_ids: IntArray, as_of: date, half_life_days: float = 365.0
) -> InstitutionProfiles:
    """Infer each institution's stage, sector, ticket and region profile from its deals."""
    ids = np.asarray(institution_ids, dtype=np.int64)
    lookup = {int(i): r for r, i in enumerate(ids)}
    rows = np.array([lookup.get(int(i), -1) for i in deals.institution_id], dtype=np.int64)
    w = recency_weights(deals.day, as_of, half_life_days) * (rows >= 0)
    rows = np.maximum(rows, 0)
    n = len(ids)
    sector_index, sec, div = _sector_columns(deals.industry_code)
    width = len(sector_index)
    sector = _distribution(rows, sec, w, (n, width)) + _distribution(rows, div, w, (n, width))
    prov_index = {p: i for i, p in enumerate(sorted({c[:2] for c in deals.region_code}))}
    prov = np.array([prov_index[c[:2]] for c in deals.region_code], dtype=np.int64)
    known = deals.stage < UNKNOWN_STAGE
    stage = _distribution(rows[known], deals.stage[known], w[known], (n, len(STAGES)))
    mu, sd = _ticket_stats(rows, deals.amount_wan, w, n)
    return InstitutionProfiles(
        institution_ids=ids,
        evidence=np.bincount(rows, w, minlength=n).astype(np.float64),
        stage=stage,
        sector_index=sector_index,
        sector=sector,
        province_index=prov_index,
        province=_distribution(rows, prov, w, (n, len(prov_index))),
        ticket_mu=mu,
        ticket_sd=sd,
    )


def _per_institution(ids: IntArray, of: IntArray, weights: npt.NDArray[Any]) -> FloatArray:
    lookup = {int(i): r for r, i in enumerate(ids)}
    rows = np.array([lookup.get(int(i), -1) for i in of], dtype=np.int64)
    keep = rows >= 0
    return np.bincount(rows[keep], weights[keep], minlength=len(ids)).astype(np.float64)


def recent_activity(
    deals: DealHistory,
    pipeline: PipelineHistory,
    institution_ids: IntArray,
    as_of: date,
    window_days: int = 180,
) -> FloatArray:
    """How busy each institution has been lately, in [0, 1]; shape ``(I,)``.

    Deals count fully and pipeline progress (a meeting or later) half, within ``window_days``
    before ``as_of``; the count ``c`` maps to ``1 - exp(-c / 3)``.
    """
    start, end = as_of.toordinal() - window_days, as_of.toordinal()
    in_deals = ((deals.day >= start) & (deals.day < end)).astype(np.float64)
    moved = (pipeline.progressed_day >= start) & (pipeline.progressed_day < end)
    count = _per_institution(institution_ids, deals.institution_id, in_deals)
    count += 0.5 * _per_institution(institution_ids, pipeline.institution_id, moved * 1.0)
    return np.asarray(1.0 - np.exp(-count / 3.0))


def responsiveness(
    pipeline: PipelineHistory,
    institution_ids: IntArray,
    as_of: date,
    window_days: int = 365,
    response_days: int = 30,
    prior_strength: float = 4.0,
) -> FloatArray:
    """Share of introductions followed by a meeting within ``response_days``; shape ``(I,)``.

    Shrunk toward the center-wide rate with ``prior_strength`` pseudo-introductions.
    """
    end = as_of.toordinal() - response_days
    intro = pipeline.introduced_day
    seen = (intro >= end - window_days) & (intro < end)
    quick = seen & (pipeline.progressed_day <= intro + response_days)
    n = _per_institution(institution_ids, pipeline.institution_id, seen * 1.0)
    k = _per_institution(institution_ids, pipeline.institution_id, quick * 1.0)
    base = k.sum() / n.sum() if n.sum() > 0 else 0.5
    return np.asarray((k + prior_strength * base) / (n + prior_strength))


def relationships(
    deals: DealHistory, pipeline: PipelineHistory, enterprise_id: int, as_of: date
) -> dict[int, float]:
    """Earlier relationships of one enterprise: institution id → strength in [0, 1].

    A closed deal is 1.0; a match that reached a meeting or later 0.6; an introduction 0.3.
    """
    out: dict[int, float] = {}
    cutoff = as_of.toordinal()
    mine = (pipeline.enterprise_id == enterprise_id) & (pipeline.introduced_day < cutoff)
    for inst, reached in zip(pipeline.institution_id[mine], pipeline.reached[mine], strict=True):
        strength = 0.6 if reached >= 2 else 0.3
        out[int(inst)] = max(out.get(int(inst), 0.0), strength)
    done = (deals.enterprise_id == enterprise_id) & (deals.day < cutoff)
    for inst in deals.institution_id[done]:
        out[int(inst)] = 1.0
    return out
