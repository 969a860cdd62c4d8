"""Listing service providers (securities, law, accounting firms) ranked for a cultivated enterprise.

Region, sector, text and relationship fits are `matching.scorers`'; the board fit is added here.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sqlmodel import Session

from matching.candidates import build_candidate_set
from matching.profiles import CandidateRow, CandidateSet, DemandBatch, DemandProfile, encode_demands
from matching.scorers import SCORERS, Scorer
from models import Enterprise, Institution, ListingRecord
from models.reference import Board, InstitutionKind, canonical_industry_code
from services.listing import repository as repo
from services.listing.plan import Clock, china_today
from services.recommendations.service import vocabulary

PROVIDER_KINDS: tuple[InstitutionKind, ...] = (
    InstitutionKind.securities,
    InstitutionKind.law,
    InstitutionKind.accounting,
)
WEIGHTS: Mapping[str, float] = {
    "board": 0.4,
    "region": 0.25,
    "sector": 0.15,
    "text": 0.1,
    "relationship": 0.1,
}
_CORE = {s.code: s for s in SCORERS if s.code in WEIGHTS}
_LISTING_WORDS = ("上市", "保荐", "挂牌", "IPO")


@dataclass(frozen=True)
class ProviderMatch:
    """One ranked provider with its score in [0, 1] and reasons in Chinese."""

    institution_id: int
    name: str
    kind: InstitutionKind
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class TrackRecord:
    """What a provider has sponsored: boards (listed ones count double) and industries."""

    boards: Mapping[Board, float]
    sectors: tuple[str, ...]


def track_records(
    records: Sequence[ListingRecord], industries: Mapping[int, str]
) -> dict[int, TrackRecord]:
    """Sponsoring history per securities firm, from the cultivation records."""
    boards: dict[int, Counter[Board]] = defaultdict(Counter)
    sectors: dict[int, set[str]] = defaultdict(set)
    for r in records:
        if r.sponsor_institution_id is None:
            continue
        board = r.listed_board or r.target_board
        boards[r.sponsor_institution_id][board] += 2 if r.listed_board else 1
        code = canonical_industry_code(industries.get(r.enterprise_id, "") or "")
        if code:
            sectors[r.sponsor_institution_id].add(code[:3])
    return {i: TrackRecord(dict(boards[i]), tuple(sorted(sectors[i]))) for i in boards}


def board_fit(inst: Institution, board: Board, track: TrackRecord | None) -> tuple[float, str]:
    """How well the provider serves ``board``: its record there, else what its focus says."""
    done = track.boards.get(board, 0.0) if track else 0.0
    if done >= 2:
        return 1.0, f"曾保荐企业在{board.label}上市/挂牌"
    if done > 0:
        return 0.85, f"正在保荐/辅导{board.label}项目"
    focus = inst.focus or ""
    if board.label in focus or any(a in focus for a in board.aliases):
        return 0.75, f"业务方向包含{board.label}"
    if any(w in focus for w in _LISTING_WORDS):
        return 0.45, "提供上市/挂牌相关服务"
    return 0.2, f"无{board.label}相关服务记录"


def _profile(e: Enterprise, sponsor: int | None) -> DemandProfile:
    assert e.id is not None
    return DemandProfile(
        demand_id=e.id,
        enterprise_id=e.id,
        financing_type="equity",
        amount_min_wan=0.0,
        amount_max_wan=0.0,
        industry_code=canonical_industry_code(e.industry_code or ""),
        sei_category=e.sei_category,
        region_code=e.region_code,
        text=e.business_scope or "",
        relationships={sponsor: 1.0} if sponsor else {},
        enterprise_name=e.legal_name,
    )


def _row(inst: Institution, track: TrackRecord | None) -> CandidateRow:
    assert inst.id is not None
    return CandidateRow(
        institution_id=inst.id,
        product_id=inst.id,
        kind="equity",
        institution_name=inst.name,
        product_name=inst.kind.label,
        institution_kind=inst.kind.value,
        ticket_min_wan=0.0,
        ticket_max_wan=0.0,
        institution_regions=tuple(inst.regions_served),
        sectors=track.sectors if track else (),
        text=f"{inst.name} {inst.focus or ''}",
    )


def _core_fits(batch: DemandBatch, cands: CandidateSet) -> dict[str, np.ndarray]:
    shape = (1, len(cands))
    return {code: np.broadcast_to(s.fit(batch, cands), shape)[0] for code, s in _CORE.items()}


def _reasons(
    scorer: Scorer, profile: DemandProfile, cands: CandidateSet, j: int, fit: float
) -> str:
    return f"{scorer.label}：{scorer.describe(profile, cands, j, fit, vocabulary())}"


def score_providers(
    enterprise: Enterprise,
    board: Board,
    providers: Sequence[Institution],
    tracks: Mapping[int, TrackRecord],
    sponsor: int | None = None,
) -> list[ProviderMatch]:
    """Score every provider for the enterprise and ``board`` (no database), best first."""
    if not providers:
        return []
    rows = [_row(p, tracks.get(p.id or 0)) for p in providers]
    cands = build_candidate_set(rows)
    profile = _profile(enterprise, sponsor)
    fits = _core_fits(encode_demands([profile], cands), cands)
    out = []
    for j, inst in enumerate(providers):
        assert inst.id is not None
        b_fit, b_reason = board_fit(inst, board, tracks.get(inst.id))
        total = WEIGHTS["board"] * b_fit + sum(WEIGHTS[c] * float(f[j]) for c, f in fits.items())
        reasons = [f"板块契合：{b_reason}"]
        reasons += [
            _reasons(_CORE[c], profile, cands, j, float(f[j]))
            for c, f in fits.items()
            if c != "relationship"
        ]
        if fits["relationship"][j] > 0:
            reasons.append("既往合作：该企业的现任保荐/辅导券商")
        out.append(ProviderMatch(inst.id, inst.name, inst.kind, round(total, 4), tuple(reasons)))
    return sorted(out, key=lambda m: (-m.score, m.institution_id))


def rank_providers(
    session: Session,
    enterprise_id: int,
    *,
    board: Board | None = None,
    kinds: Sequence[InstitutionKind] = PROVIDER_KINDS,
    limit: int = 5,
    clock: Clock = china_today,
) -> dict[InstitutionKind, list[ProviderMatch]]:
    """The best resident providers of each kind for an enterprise's target board."""
    enterprise = repo.enterprise(session, enterprise_id)
    record = repo.record_of(session, enterprise_id)
    target = board or (record.target_board if record else Board.neeq_basic)
    today = clock()
    pool = [p for p in repo.providers(session, kinds) if p.is_resident_on(today)]
    records = repo.records(session)
    names = repo.enterprises_by_id(session, [r.enterprise_id for r in records])
    industries = {i: e.industry_code or "" for i, e in names.items()}
    sponsor = record.sponsor_institution_id if record else None
    ranked = score_providers(enterprise, target, pool, track_records(records, industries), sponsor)
    return {k: [m for m in ranked if m.kind is k][:limit] for k in kinds}
