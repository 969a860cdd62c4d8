"""Build a :class:`~matching.profiles.CandidateSet`; history profiles fill in vague stated terms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from matching.history import InstitutionProfiles
from matching.profiles import (
    CANDIDATE_KINDS,
    NEVER,
    STAGE_INDEX,
    STAGES,
    CandidateRow,
    CandidateSet,
    Float32Array,
    FloatArray,
    IntArray,
    PrefixTable,
    region_prefix,
)
from matching.scorers import ticket_table
from matching.text import TextEncoder

NEUTRAL = 0.5
ADJACENT_STAGE_FIT = 0.3  # one stage away: a weak fit
VAGUE_TICKET_RATIO = 50.0


def _day(value: object, default: int) -> int:
    return value.toordinal() if value is not None else default  # type: ignore[attr-defined]


def _sector_code(code: str) -> str:
    code = code.strip().upper()
    return code[:3] if len(code) > 1 and code[0].isalpha() else code


def _listed_stage_fit(stages: Sequence[str]) -> FloatArray:
    """Fit per demand stage for an explicit stage list: 1 listed, 0.5 next to a listed one."""
    listed = np.zeros(len(STAGES))
    listed[[STAGE_INDEX[s] for s in stages if s in STAGE_INDEX]] = 1.0
    near = np.maximum(
        np.roll(listed, 1) * (np.arange(6) > 0), np.roll(listed, -1) * (np.arange(6) < 5)
    )
    return np.maximum(listed, ADJACENT_STAGE_FIT * near)


def _relative(dist: FloatArray) -> FloatArray:
    """Each share over the largest share of its row (the favourite scores 1)."""
    top = dist.max(axis=-1, keepdims=True) if dist.shape[-1] else np.ones((*dist.shape[:-1], 1))
    return np.divide(dist, top, out=np.zeros_like(dist), where=top > 0)


def _stage_table(
    rows: Sequence[CandidateRow], prof_rows: IntArray, conf: FloatArray, prof: InstitutionProfiles
) -> tuple[Float32Array, np.ndarray]:
    fit = np.full((len(STAGES) + 1, len(rows)), NEUTRAL, dtype=np.float32)
    source = np.zeros(len(rows), dtype=np.int8)
    rel = _relative(prof.stage) if len(prof.stage) else prof.stage
    for j, row in enumerate(rows):
        if row.stages:
            fit[: len(STAGES), j], source[j] = _listed_stage_fit(row.stages), 1
        elif prof_rows[j] >= 0 and conf[j] > 0:
            c = conf[j]
            fit[: len(STAGES), j] = (1 - c) * NEUTRAL + c * rel[prof_rows[j]]
            source[j] = 2
    return fit, source


def _sector_prior(
    prof_rows: IntArray, conf: FloatArray, prof: InstitutionProfiles
) -> tuple[dict[str, int], Float32Array]:
    """Sector fit from history per demand key (门类 or 大类); last row: a sector never seen."""
    keys = dict(prof.sector_index)
    rel = np.zeros((len(prof_rows), len(keys)))
    has = prof_rows >= 0
    if len(keys):
        rel[has] = _relative_by_level(prof.sector[prof_rows[has]], keys)
    c = conf[:, None]
    table = (1 - c) * NEUTRAL + c * np.concatenate([rel, np.zeros((len(prof_rows), 1))], axis=1)
    return keys, np.ascontiguousarray(table.T, dtype=np.float32)


def _relative_by_level(sector: FloatArray, keys: Mapping[str, int]) -> FloatArray:
    """Relative shares per level; a 大类 key blends its own share (0.7) with its 门类's (0.3)."""
    sections = [i for k, i in keys.items() if len(k) == 1]
    divisions = [i for k, i in keys.items() if len(k) != 1]
    out = np.zeros_like(sector)
    out[:, sections] = _relative(sector[:, sections])
    out[:, divisions] = _relative(sector[:, divisions])
    for key, i in keys.items():
        if len(key) == 3 and key[0] in keys:
            out[:, i] = 0.7 * out[:, i] + 0.3 * out[:, keys[key[0]]]
    return out


def _region_prior(
    prof_rows: IntArray, conf: FloatArray, prof: InstitutionProfiles
) -> tuple[dict[str, int], Float32Array]:
    """Region fit from history for institutions that state no region, per province."""
    keys = dict(prof.province_index)
    rel = np.zeros((len(prof_rows), len(keys) + 1))
    has = prof_rows >= 0
    if len(keys):
        rel[has, :-1] = _relative(prof.province[prof_rows[has]])
    c = conf[:, None]
    table = (1 - c) * 0.4 + c * (0.2 + 0.6 * rel)
    return keys, np.ascontiguousarray(table.T, dtype=np.float32)


def _ticket_prior(
    rows: Sequence[CandidateRow], prof_rows: IntArray, conf: FloatArray, prof: InstitutionProfiles
) -> FloatArray:
    """(mu, sd, weight) of the historical log10 ticket, weighted in only for vague ranges."""
    out = np.zeros((len(rows), 3))
    for j, row in enumerate(rows):
        lo, hi = max(row.ticket_min_wan, 1.0), max(row.ticket_max_wan, 1.0)
        vague = row.ticket_min_wan <= 0 or hi / lo >= VAGUE_TICKET_RATIO
        if vague and prof_rows[j] >= 0:
            p = prof_rows[j]
            out[j] = prof.ticket_mu[p], max(prof.ticket_sd[p], 0.25), 0.7 * conf[j]
    return out


def empty_profiles() -> InstitutionProfiles:
    """Profiles of no institution (no history at all)."""
    z = np.zeros(0, dtype=np.int64)
    return InstitutionProfiles(
        z, np.zeros(0), np.zeros((0, 6)), {}, np.zeros((0, 0)), {}, np.zeros((0, 0)),
        np.zeros(0), np.zeros(0),
    )  # fmt: skip


def _codes(rows: Sequence[CandidateRow], attr: str) -> list[tuple[str, ...]]:
    return [tuple(getattr(r, attr)) for r in rows]


def _vocabulary(rows: Sequence[CandidateRow], attr: str) -> tuple[str, ...]:
    return tuple(sorted({c for r in rows for c in getattr(r, attr)}))


def _membership(rows: Sequence[CandidateRow], attr: str, vocab: tuple[str, ...]) -> np.ndarray:
    index = {c: i for i, c in enumerate(vocab)}
    out = np.zeros((len(rows), len(vocab)), dtype=bool)
    for j, r in enumerate(rows):
        out[j, [index[c] for c in getattr(r, attr)]] = True
    return out


def _optional(values: Sequence[float | None], missing: float) -> FloatArray:
    return np.array([missing if v is None else v for v in values], dtype=np.float64)


def build_candidate_set(
    rows: Sequence[CandidateRow],
    profiles: InstitutionProfiles | None = None,
    text_dim: int = 128,
    confidence_strength: float = 3.0,
    encoder: TextEncoder | None = None,
) -> CandidateSet:
    """Turn candidate rows into the arrays the rules and scorers read."""
    prof = profiles if profiles is not None else empty_profiles()
    inst_ids = np.array([r.institution_id for r in rows], dtype=np.int64)
    prof_rows = prof.row_of(inst_ids)
    conf = np.append(prof.confidence(confidence_strength), 0.0)[prof_rows]  # row -1: no profile
    stage_fit, stage_source = _stage_table(rows, prof_rows, conf, prof)
    sector_keys_, sector_prior = _sector_prior(prof_rows, conf, prof)
    region_keys, region_prior = _region_prior(prof_rows, conf, prof)
    quals, collateral = (
        _vocabulary(rows, "required_qualifications"),
        _vocabulary(rows, "collateral_accepted"),
    )
    sectors = [tuple(_sector_code(c) for c in r.sectors) for r in rows]
    encoder = encoder or TextEncoder(dim=text_dim).fit([r.text for r in rows])
    ticket_min = np.array([r.ticket_min_wan for r in rows], dtype=np.float64)
    ticket_max = np.array([r.ticket_max_wan for r in rows], dtype=np.float64)
    ticket_prior = _ticket_prior(rows, prof_rows, conf, prof)
    text_vectors = encoder.transform([r.text for r in rows])
    return CandidateSet(
        rows=tuple(rows),
        institution_id=inst_ids,
        institution_index=np.unique(inst_ids, return_inverse=True)[1].astype(np.int64),
        product_id=np.array([r.product_id for r in rows], dtype=np.int64),
        kind=np.array([CANDIDATE_KINDS.index(r.kind) for r in rows], dtype=np.int8),
        ticket_min=ticket_min,
        ticket_max=ticket_max,
        capacity=_optional([r.remaining_capacity_wan for r in rows], np.inf),
        resident_from=np.array([_day(r.agreement_start, NEVER) for r in rows], dtype=np.int64),
        resident_until=np.array([_day(r.agreement_end, NEVER) for r in rows], dtype=np.int64),
        active=np.array([r.active for r in rows], dtype=bool),
        institution_regions=PrefixTable.build(
            [tuple(region_prefix(c) for c in r.institution_regions) for r in rows]
        ),
        product_regions=PrefixTable.build(
            [tuple(region_prefix(c) for c in r.product_regions) for r in rows]
        ),
        sectors=PrefixTable.build(sectors),
        sector_sections=PrefixTable.build([tuple({c[0] for c in s if c}) for s in sectors]),
        sei=PrefixTable.build(_codes(rows, "sei_categories")),
        qualifications=quals,
        required=_membership(rows, "required_qualifications", quals),
        collateral=collateral,
        accepted=_membership(rows, "collateral_accepted", collateral),
        min_years=_optional([r.min_years_operating for r in rows], np.nan),
        min_revenue=_optional([r.min_revenue_wan for r in rows], np.nan),
        stage_fit=stage_fit,
        stage_source=stage_source,
        sector_prior_index=sector_keys_,
        sector_prior=sector_prior,
        ticket_prior=ticket_prior,
        ticket_fit=ticket_table(ticket_min, ticket_max, ticket_prior),
        region_prior_index=region_keys,
        region_prior=region_prior,
        activity=np.array([r.activity for r in rows], dtype=np.float32),
        responsiveness=np.array([r.responsiveness for r in rows], dtype=np.float32),
        buyout=np.array([r.buyout for r in rows], dtype=bool),
        equity_linked=np.array([r.equity_linked for r in rows], dtype=bool),
        text=encoder,
        text_vectors=text_vectors,
    )
