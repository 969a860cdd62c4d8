"""Soft fits: how well a candidate suits a demand on each dimension, in [0, 1].

Each scorer returns a fit array broadcastable to ``(B, n)``; the rules score is the weighted sum
of fits, so each weighted fit is that scorer's contribution. 0.5 means "no information".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from matching.profiles import (
    STAGES,
    UNKNOWN_STAGE,
    CandidateSet,
    DemandBatch,
    DemandProfile,
    Float32Array,
    FloatArray,
    IntArray,
    Vocabulary,
    by_demand_key,
    region_prefix,
    region_prefixes,
    sector_keys,
)
from matching.rules import wan

NEUTRAL = 0.5
SECTION_FIT, SIBLING_FIT, SEI_FIT = 0.8, 0.4, 0.9
TICKET_EDGE, TICKET_WIDTH = 0.8, 0.35
DISTRICT_FIT, CITY_FIT, PROVINCE_FIT = 1.0, 0.85, 0.7

Fit = Callable[[DemandBatch, CandidateSet], Float32Array]
Describe = Callable[[DemandProfile, CandidateSet, int, float, Vocabulary], str]


@dataclass(frozen=True)
class Scorer:
    """One soft dimension: code, Chinese label, batch fit, and a Chinese sentence for one pair."""

    code: str
    label: str
    fit: Fit
    describe: Describe


# --- stage ------------------------------------------------------------------------------------


def stage_fit(batch: DemandBatch, cands: CandidateSet) -> Float32Array:
    """Stage fit from the mandate's stages, or from deal history where it lists none."""
    return cands.stage_fit[batch.stage]


def _stage_text(d: DemandProfile, c: CandidateSet, j: int, fit: float, v: Vocabulary) -> str:
    stage = v.label("stages", d.stage) if d.stage else "阶段未知"
    source = int(c.stage_source[j])
    if source == 1:
        listed = "、".join(v.label("stages", s) for s in c.rows[j].stages if s in STAGES)
        if fit >= 1:
            return f"{stage}在投资阶段（{listed}）"
        if fit > 0:
            return f"弱匹配：{stage}与投资阶段（{listed}）相差一个阶段"
        return f"{stage}不在投资阶段（{listed}）"
    if source == 2:
        return f"历史成交中{stage}企业占比{'较高' if fit >= 0.6 else '一般'}（按历史推断）"
    return f"{stage}：机构未限定阶段"


# --- sector -----------------------------------------------------------------------------------


def _sector_key(b: DemandBatch) -> np.ndarray:
    return np.column_stack(
        [b.sector_rows, b.section_rows, b.sibling_rows, b.sector_prior_rows, b.sei_rows,
         b.sector_known]
    )  # fmt: skip


@by_demand_key(_sector_key)
def sector_fit(batch: DemandBatch, cands: CandidateSet) -> Float32Array:
    """GB/T 4754 hierarchy (大类 > 门类 > same-门类 sibling) or 战略性新兴产业, whichever is higher.

    Candidates listing no sector get their history-inferred fit (neutral without history).
    """
    t, s = cands.sectors.table, cands.sector_sections.table
    listed = np.maximum(
        t[batch.sector_rows].astype(np.float32),
        np.maximum(SECTION_FIT * t[batch.section_rows], SIBLING_FIT * s[batch.sibling_rows]),
    )
    prior = cands.sector_prior[batch.sector_prior_rows]
    hier = np.where(cands.sectors.unrestricted[None, :], prior, listed)
    hier = np.where(batch.sector_known[:, None], hier, NEUTRAL)
    return np.maximum(hier, SEI_FIT * cands.sei.table[batch.sei_rows]).astype(np.float32)


def _sector_text(d: DemandProfile, c: CandidateSet, j: int, fit: float, v: Vocabulary) -> str:
    keys = sector_keys(d.industry_code)
    row = c.rows[j]
    if keys is None:
        return "企业行业未知"
    section, division = keys
    name = v.label("industries", division or section)
    hi = fit + 1e-4  # float32 fits: 0.9 is stored as 0.8999…
    if d.sei_category and d.sei_category in row.sei_categories and hi >= SEI_FIT:
        return f"战略性新兴产业一致：{v.label('strategic', d.sei_category)}"
    if not row.sectors:
        return f"{name}：{'历史投向相近' if fit > NEUTRAL else '机构未限定行业'}"
    if hi >= 1:
        return f"行业大类一致：{name}"
    if hi >= SECTION_FIT:
        return f"同属{v.label('industries', section)}"
    return f"同门类相近行业（{name}）" if fit > 0 else f"行业不在关注范围（{name}）"


def text_fit(batch: DemandBatch, cands: CandidateSet) -> Float32Array:
    """TF-IDF character n-gram cosine of business scope and institution focus/product text."""
    sim = batch.text_vectors @ cands.text_vectors_t
    return np.clip(sim, 0.0, 1.0, out=sim)


def _text_text(d: DemandProfile, c: CandidateSet, j: int, fit: float, v: Vocabulary) -> str:
    return f"经营范围与机构关注方向文本相似度 {fit:.2f}"


# --- ticket -----------------------------------------------------------------------------------


TICKET_GRID_STEP = 0.01  # decades: amounts are compared to within ±1.2 %
TICKET_GRID_TOP = 5.5  # 10^5.5 万元 ≈ 31.6 亿元; larger amounts share the top row


def ticket_table(ticket_min: FloatArray, ticket_max: FloatArray, prior: FloatArray) -> Float32Array:
    """Ticket fit of every candidate for every log10 amount on a grid; ``(G + 1, n)``.

    The last row (amount unknown) is neutral; docs/matching.md gives the curve and the ``prior`` blend.
    """
    m = np.arange(0.0, TICKET_GRID_TOP + TICKET_GRID_STEP / 2, TICKET_GRID_STEP)[:, None]
    a = np.log10(np.maximum(ticket_min, 1.0))[None, :]
    b = np.log10(np.maximum(ticket_max, 1.0))[None, :]
    half = np.maximum((b - a) / 2, 1e-6)
    off = np.abs(m - (a + b) / 2) / half
    dist = np.maximum(off - 1, 0) * half / TICKET_WIDTH
    fit = (1 - (1 - TICKET_EDGE) * np.minimum(off, 1)) * np.exp(-(dist**2))
    mu, sd, w = (prior[:, i][None, :] for i in range(3))
    hist = np.exp(-0.5 * ((m - mu) / np.where(sd > 0, sd, 1.0)) ** 2)
    fit = (1 - w) * fit + w * hist
    neutral = np.full((1, fit.shape[1]), NEUTRAL)
    return np.ascontiguousarray(np.concatenate([fit, neutral]), dtype=np.float32)


def ticket_rows(batch: DemandBatch) -> IntArray:
    """Grid row of each demand's log10 mid-amount (the last row when unknown); ``(B,)``."""
    m = _log_mid(batch)
    top = round(TICKET_GRID_TOP / TICKET_GRID_STEP)
    rows = np.clip(np.rint(np.nan_to_num(m, nan=0.0) / TICKET_GRID_STEP), 0, top)
    return np.where(np.isnan(m), top + 1, rows).astype(np.int64)


def ticket_fit(batch: DemandBatch, cands: CandidateSet) -> Float32Array:
    """Fit of the demand's amount to the ticket range on a log10 scale (see :func:`ticket_table`)."""
    return cands.ticket_fit[ticket_rows(batch)]


def _log_mid(batch: DemandBatch) -> Float32Array:
    lo, hi = np.maximum(batch.amount_min, 1.0), np.maximum(batch.amount_max, 1.0)
    return (0.5 * (np.log10(lo) + np.log10(hi))).astype(np.float32)


def _ticket_text(d: DemandProfile, c: CandidateSet, j: int, fit: float, v: Vocabulary) -> str:
    row = c.rows[j]
    rng = f"{wan(row.ticket_min_wan)}–{wan(row.ticket_max_wan)} 万元"
    verdict = "额度匹配" if fit + 1e-4 >= TICKET_EDGE else "额度接近"
    return f"{verdict}：需求 {wan(d.amount_min_wan)}–{wan(d.amount_max_wan)} 万元，产品 {rng}"


# --- region -----------------------------------------------------------------------------------


def _local_fit(table: np.ndarray, rows: np.ndarray) -> Float32Array:
    return np.maximum(
        DISTRICT_FIT * table[rows[:, 2]],
        np.maximum(CITY_FIT * table[rows[:, 1]], PROVINCE_FIT * table[rows[:, 0]]),
    ).astype(np.float32)


def _region_key(b: DemandBatch) -> np.ndarray:
    return np.column_stack([b.region_rows, b.inst_region_rows, b.region_prior_rows, b.region_known])


@by_demand_key(_region_key)
def region_fit(batch: DemandBatch, cands: CandidateSet) -> Float32Array:
    """How local the candidate is: serves the district 1.0, the city 0.85, the province 0.7.

    Nationwide candidates get 0.4, moved by where their past deals were if they have history.
    """
    inst, prod = cands.institution_regions, cands.product_regions
    fit = np.where(
        prod.unrestricted[None, :],
        _local_fit(inst.table, batch.inst_region_rows),
        _local_fit(prod.table, batch.region_rows),
    )
    nationwide = inst.unrestricted & prod.unrestricted
    fit = np.where(nationwide[None, :], cands.region_prior[batch.region_prior_rows], fit)
    return np.where(batch.region_known[:, None], fit, NEUTRAL).astype(np.float32)


def _region_text(d: DemandProfile, c: CandidateSet, j: int, fit: float, v: Vocabulary) -> str:
    row = c.rows[j]
    codes = row.product_regions or row.institution_regions
    prefixes = region_prefixes(d.region_code) or ()
    local = [region_prefix(x) for x in codes if region_prefix(x) in prefixes]
    if local:
        best = max(local, key=len)
        return f"服务区域覆盖{v.label('regions', best.ljust(6, '0'))}"
    return "全国性服务机构" if not codes else "服务区域"


# --- pipeline signals -------------------------------------------------------------------------


def activity_fit(batch: DemandBatch, cands: CandidateSet) -> Float32Array:
    """Recent deals and pipeline progress of the institution (see :mod:`matching.history`)."""
    return cands.activity[None, :]


def _activity_text(d: DemandProfile, c: CandidateSet, j: int, fit: float, v: Vocabulary) -> str:
    return "近半年成交与推进活跃" if fit >= 0.5 else "近半年成交较少"


def responsiveness_fit(batch: DemandBatch, cands: CandidateSet) -> Float32Array:
    """Share of the institution's introductions followed by a meeting within 30 days."""
    return cands.responsiveness[None, :]


def _response_text(d: DemandProfile, c: CandidateSet, j: int, fit: float, v: Vocabulary) -> str:
    return f"引荐后30天内约见率约 {fit:.0%}"


def relationship_fit(batch: DemandBatch, cands: CandidateSet) -> Float32Array:
    """Earlier relationship with this enterprise: 1 deal, 0.6 meeting or later, 0.3 introduced.

    Returns ``(1, 1)`` zeros when no demand of the batch has one (nothing to add).
    """
    rows, cols, vals = batch.relationship
    if not len(rows):
        return np.zeros((1, 1), dtype=np.float32)
    out = np.zeros((len(batch), len(cands)), dtype=np.float32)
    out[rows, cols] = vals
    return out


def _relation_text(d: DemandProfile, c: CandidateSet, j: int, fit: float, v: Vocabulary) -> str:
    if fit >= 1:
        return "曾为该企业提供融资"
    return (
        "此前与该企业有过约见/对接" if fit >= 0.6 else ("此前曾引荐" if fit > 0 else "无既往合作")
    )


SCORERS: tuple[Scorer, ...] = (
    Scorer("stage", "阶段契合", stage_fit, _stage_text),
    Scorer("sector", "行业契合", sector_fit, _sector_text),
    Scorer("text", "业务相似", text_fit, _text_text),
    Scorer("ticket", "额度契合", ticket_fit, _ticket_text),
    Scorer("region", "区域契合", region_fit, _region_text),
    Scorer("activity", "近期活跃", activity_fit, _activity_text),
    Scorer("responsiveness", "响应积极", responsiveness_fit, _response_text),
    Scorer("relationship", "既往合作", relationship_fit, _relation_text),
)
SCORER_CODES: tuple[str, ...] = tuple(s.code for s in SCORERS)
DEFAULT_WEIGHTS: Mapping[str, float] = {
    "stage": 0.18,
    "sector": 0.18,
    "text": 0.10,
    "ticket": 0.20,
    "region": 0.08,
    "activity": 0.08,
    "responsiveness": 0.08,
    "relationship": 0.10,
}


def fits(batch: DemandBatch, cands: CandidateSet) -> Float32Array:
    """Every scorer's fit for every pair."""
    shape = (len(batch), len(cands))
    return np.stack([np.broadcast_to(s.fit(batch, cands), shape) for s in SCORERS])


def weighted_score(
    batch: DemandBatch, cands: CandidateSet, weights: Mapping[str, float] = DEFAULT_WEIGHTS
) -> Float32Array:
    """The rules score: the weighted sum of fits."""
    shape = (len(batch), len(cands))
    total = np.zeros(shape, dtype=np.float32)
    scratch = np.empty(shape, dtype=np.float32)  # one buffer for the gathered fits
    for scorer in SCORERS:
        w = np.float32(weights.get(scorer.code, 0.0))
        if w:
            _add_weighted(scorer.code, scorer.fit, w, batch, cands, total, scratch)
    return total


def _into(code: str, batch: DemandBatch, cands: CandidateSet, out: Float32Array) -> bool:
    """Write the fits that are plain gathers or a product straight into ``out``; False if not."""
    if code == "stage":
        np.take(cands.stage_fit, batch.stage, axis=0, out=out, mode="clip")  # clip: unbuffered
    elif code == "ticket":
        np.take(cands.ticket_fit, ticket_rows(batch), axis=0, out=out, mode="clip")
    elif code == "text":
        np.clip(np.matmul(batch.text_vectors, cands.text_vectors_t, out=out), 0.0, 1.0, out=out)
    else:
        return False
    return True


def _add_weighted(
    code: str,
    fit: Fit,
    w: np.float32,
    batch: DemandBatch,
    cands: CandidateSet,
    total: Float32Array,
    scratch: Float32Array,
) -> None:
    """``total += w * fit``, with as few fresh ``(B, n)`` arrays as possible (page faults)."""
    if code == "relationship":  # sparse: add the few pairs in place
        rows, cols, vals = batch.relationship
        total[rows, cols] += w * vals
        return
    values = scratch if _into(code, batch, cands, scratch) else fit(batch, cands)
    if values.shape == total.shape and (values is scratch or values.flags.owndata):
        total += np.multiply(values, w, out=values)  # a fresh array or the scratch: scale in place
    else:
        total += w * values


__all__ = [
    "DEFAULT_WEIGHTS",
    "SCORERS",
    "SCORER_CODES",
    "UNKNOWN_STAGE",
    "Scorer",
    "fits",
    "weighted_score",
]
