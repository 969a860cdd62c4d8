"""Reasons in Chinese: each scorer's share of a rank, and the hard rule a near-miss breaks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np

from matching.profiles import (
    CandidateSet,
    DemandProfile,
    Float32Array,
    IntArray,
    Vocabulary,
    encode_demands,
)
from matching.rules import NOT_NEAR_MISS, RULES, RuleConfig, violations
from matching.scorers import DEFAULT_WEIGHTS, SCORERS, fits


@dataclass(frozen=True)
class Reason:
    """One scorer's part in a score."""

    code: str
    label: str
    fit: float
    contribution: float
    text: str


@dataclass(frozen=True)
class RuleFailure:
    """One hard rule a candidate breaks."""

    code: str
    label: str
    text: str


@dataclass(frozen=True)
class Member:
    """One investor of a syndicate: 领投 (lead) or 跟投 (co-investor), and its amount."""

    institution_id: int
    institution_name: str
    product_id: int
    product_name: str
    role: str
    amount_wan: float


@dataclass(frozen=True)
class Explained:
    """One candidate with its score and reasons (best first); ``rank`` is 1-based, 0 if unranked.

    ``kind`` is loan, equity, syndicate (``members`` then lists lead and co-investors) or
    loan+guarantee (the guarantor named); ``annual_cost_pct`` is a loan's rate + guarantee fee
    − 贴息; ``notes`` are the practice statements shown with the reasons.
    """

    rank: int
    candidate: int
    institution_id: int
    product_id: int
    kind: str
    institution_name: str
    product_name: str
    score: float
    reasons: tuple[Reason, ...]
    failures: tuple[RuleFailure, ...] = ()
    leg: str | None = None
    guarantor_institution_id: int | None = None
    guarantor_name: str | None = None
    guarantee_fee_pct: float | None = None
    annual_cost_pct: float | None = None
    equity_linked: bool = False
    members: tuple[Member, ...] = ()
    notes: tuple[str, ...] = ()

    def top_reasons(self, n: int = 3) -> tuple[Reason, ...]:
        """The ``n`` largest positive contributions."""
        return tuple(r for r in self.reasons if r.contribution > 0)[:n]

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return asdict(self)


def reasons_for(
    demand: DemandProfile,
    cands: CandidateSet,
    j: int,
    fit_col: Float32Array,
    weights: Mapping[str, float],
    vocab: Vocabulary,
) -> tuple[Reason, ...]:
    items = [
        Reason(
            code=s.code,
            label=s.label,
            fit=round(float(f), 4),
            contribution=round(float(f) * weights.get(s.code, 0.0), 4),
            text=s.describe(demand, cands, j, float(f), vocab),
        )
        for s, f in zip(SCORERS, fit_col, strict=True)
    ]
    return tuple(sorted(items, key=lambda r: -r.contribution))


def explained(
    demand: DemandProfile,
    cands: CandidateSet,
    j: int,
    rank: int,
    score: float,
    reasons: tuple[Reason, ...],
) -> Explained:
    row = cands.rows[j]
    return Explained(
        rank=rank,
        candidate=int(j),
        institution_id=row.institution_id,
        product_id=row.product_id,
        kind=row.kind,
        institution_name=row.institution_name,
        product_name=row.product_name,
        score=round(float(score), 4),
        reasons=reasons,
    )


def explain_ranking(
    demand: DemandProfile,
    cands: CandidateSet,
    ids: IntArray,
    scores: Float32Array,
    vocab: Vocabulary,
    weights: Mapping[str, float] | None = None,
) -> list[Explained]:
    """Reasons for a ranked list of one demand."""
    w = weights or DEFAULT_WEIGHTS
    f = fits(encode_demands([demand], cands), cands)[:, 0, :]
    out = []
    for rank, (j, s) in enumerate(zip(ids.tolist(), scores.tolist(), strict=True), start=1):
        if j >= 0:
            reasons = reasons_for(demand, cands, j, f[:, j], w, vocab)
            out.append(explained(demand, cands, j, rank, s, reasons))
    return out


def near_misses(
    demand: DemandProfile,
    cands: CandidateSet,
    cfg: RuleConfig,
    vocab: Vocabulary,
    limit: int = 3,
) -> list[Explained]:
    """The best-fitting candidates that break exactly one relevant hard rule, with why not."""
    w = DEFAULT_WEIGHTS
    batch = encode_demands([demand], cands)
    broken = violations(batch, cands, cfg)[:, 0, :]
    irrelevant = np.array([r.code in NOT_NEAR_MISS for r in RULES])
    count = broken.sum(axis=0)
    candidates = (count == 1) & ~broken[irrelevant].any(axis=0)
    f = fits(batch, cands)[:, 0, :]
    soft = np.array([w.get(s.code, 0.0) for s in SCORERS], dtype=np.float32) @ f
    picked = np.flatnonzero(candidates)
    picked = picked[np.lexsort((picked, -soft[picked]))][:limit]
    out = []
    for j in picked.tolist():
        row = cands.rows[j]
        failures = tuple(
            RuleFailure(r.code, r.label, r.reason(demand, row, cfg, vocab))
            for r, b in zip(RULES, broken[:, j], strict=True)
            if b
        )
        base = explained(
            demand, cands, j, 0, soft[j], reasons_for(demand, cands, j, f[:, j], w, vocab)
        )
        out.append(Explained(**{**base.__dict__, "failures": failures}))
    return out
