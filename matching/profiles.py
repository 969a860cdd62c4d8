"""Plain inputs of the matching core: demand profiles, candidate rows, and their array forms."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date
from functools import wraps
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.text import TextEncoder

FloatArray = npt.NDArray[np.float64]
Float32Array = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

STAGES: tuple[str, ...] = ("seed", "startup", "growth", "expansion", "mature", "pre_ipo")
STAGE_INDEX: Mapping[str, int] = {s: i for i, s in enumerate(STAGES)}
UNKNOWN_STAGE = len(STAGES)
FINANCING_TYPES: tuple[str, ...] = ("loan", "equity", "mixed")
KIND_LOAN, KIND_EQUITY = 0, 1
CANDIDATE_KINDS: tuple[str, ...] = ("loan", "equity")
#: Collateral codes the rules read: credit (no collateral) and a third-party guarantee.
CREDIT, GUARANTEE = "none", "guarantee"
#: Stages at which a round is venture capital's business (no M&A/buyout capital).
VENTURE_STAGES: frozenset[str] = frozenset({"seed", "startup", "growth", "expansion"})
NEVER = np.iinfo(np.int64).max


@dataclass(frozen=True)
class Vocabulary:
    """Chinese labels of the codes the core handles (the service fills it from the reference data).

    A code without a label is shown as is.
    """

    stages: Mapping[str, str] = field(default_factory=dict)
    qualifications: Mapping[str, str] = field(default_factory=dict)
    collateral: Mapping[str, str] = field(default_factory=dict)
    industries: Mapping[str, str] = field(default_factory=dict)
    strategic: Mapping[str, str] = field(default_factory=dict)
    regions: Mapping[str, str] = field(default_factory=dict)
    institution_kinds: Mapping[str, str] = field(default_factory=dict)

    def label(self, table: str, code: str) -> str:
        """The label of ``code`` in ``table`` ('stages', 'regions' …), else the code."""
        labels: Mapping[str, str] = getattr(self, table)
        return labels.get(code, code)


@dataclass(frozen=True)
class DemandProfile:
    """One financing demand with what the matcher needs to know about its enterprise.

    ``industry_code`` is canonical GB/T 4754 ('C39', 'C3911' or a bare 门类 'C'); ``region_code``
    a 6-digit GB/T 2260 code; ``relationships`` maps institution id → strength in [0, 1] of an
    earlier relationship with this enterprise (1 = a closed deal). ``qualifications`` are those
    the enterprise meets (held ones and the weaker ones they imply). ``leg`` is 'equity' or
    'loan' for one leg of a mixed (投贷联动) demand. ``round_type`` names the round as an
    investment history does ('series-a', 'venture' …) where it says more than ``stage``; outside
    China ``region_code`` may be a 'state/region/city' path (:func:`matching.learned.locality`).
    """

    demand_id: int
    enterprise_id: int
    financing_type: str
    amount_min_wan: float
    amount_max_wan: float
    stage: str | None = None
    industry_code: str | None = None
    sei_category: str | None = None
    region_code: str | None = None
    qualifications: frozenset[str] = frozenset()
    collateral_offered: frozenset[str] = frozenset()
    years_operating: float | None = None
    revenue_wan: float | None = None
    text: str = ""
    relationships: Mapping[int, float] = field(default_factory=dict)
    enterprise_name: str = ""
    leg: str | None = None
    round_type: str | None = None


@dataclass(frozen=True)
class CandidateRow:
    """One candidate: a loan product or an investment mandate of an institution.

    Lists of codes are empty when unrestricted. ``remaining_capacity_wan`` is None when unknown.
    ``activity`` and ``responsiveness`` come from :mod:`matching.history` (0.5 when unknown).
    ``rate_pct`` is a loan's nominal annual rate (None unknown); ``buyout`` marks M&A/buyout
    capital, ``equity_linked`` a loan that follows an equity decision (投贷联动、认股权贷款).
    """

    institution_id: int
    product_id: int
    kind: str
    institution_name: str
    product_name: str
    institution_kind: str
    ticket_min_wan: float
    ticket_max_wan: float
    remaining_capacity_wan: float | None = None
    agreement_start: date | None = None
    agreement_end: date | None = None
    active: bool = True
    institution_regions: tuple[str, ...] = ()
    product_regions: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    sei_categories: tuple[str, ...] = ()
    required_qualifications: tuple[str, ...] = ()
    collateral_accepted: tuple[str, ...] = ()
    min_years_operating: float | None = None
    min_revenue_wan: float | None = None
    text: str = ""
    activity: float = 0.5
    responsiveness: float = 0.5
    rate_pct: float | None = None
    buyout: bool = False
    equity_linked: bool = False


def region_prefix(code: str) -> str:
    """Strip trailing zero pairs: '440000' → '44', '440300' → '4403', '4403' → '4403'."""
    code = code.strip()
    while len(code) > 2 and code.endswith("00"):
        code = code[:-2]
    return code


def region_prefixes(code: str | None) -> tuple[str, str, str] | None:
    """Province, city and district prefixes of a 6-digit code, or None if not 6 digits."""
    if code is None or len(code) != 6 or not code.isdigit():
        return None
    return code[:2], code[:4], code


def sector_keys(code: str | None) -> tuple[str, str] | None:
    """(门类, 门类+大类) of a canonical industry code: 'C3911' → ('C', 'C39'); 'C' → ('C', '')."""
    if not code or not code[0].isalpha():
        return None
    return code[0].upper(), code[:3].upper() if len(code) >= 3 else ""


@dataclass(frozen=True)
class PrefixTable:
    """Which candidates list which code: a dense ``(n_codes + 1, n)`` boolean table.

    The last row is all False and stands for a code no candidate lists.
    """

    index: Mapping[str, int]
    table: BoolArray
    unrestricted: BoolArray

    @classmethod
    def build(cls, code_lists: Sequence[Sequence[str]]) -> PrefixTable:
        """Index ``code_lists`` (one list per candidate; empty = unrestricted)."""
        index: dict[str, int] = {}
        for codes in code_lists:
            for c in codes:
                index.setdefault(c, len(index))
        table = np.zeros((len(index) + 1, len(code_lists)), dtype=bool)
        for j, codes in enumerate(code_lists):
            table[[index[c] for c in codes], j] = True
        unrestricted = np.array([len(c) == 0 for c in code_lists], dtype=bool)
        return cls(index, table, unrestricted)

    def rows(self, codes: Sequence[str | None]) -> IntArray:
        """Row of each code, the all-False row for unknown or missing codes; shape ``(len,)``."""
        missing = len(self.index)
        return np.array([self.index.get(c, missing) if c else missing for c in codes], np.int64)


@dataclass(frozen=True)
class CandidateSet:
    """All candidates as column arrays of length ``n`` (one row per product or mandate).

    ``stage_fit`` is ``(len(STAGES) + 1, n)``: the stage fit of each candidate for a demand at
    each stage (last row: stage unknown), already blended with the history profile where the
    mandate says nothing. ``sector_prior`` is the sector fit used where a candidate lists no
    sector, keyed by 门类 and 大类 in ``sector_prior_index``.
    """

    rows: tuple[CandidateRow, ...]
    institution_id: IntArray
    institution_index: IntArray
    product_id: IntArray
    kind: npt.NDArray[np.int8]
    ticket_min: FloatArray
    ticket_max: FloatArray
    capacity: FloatArray
    resident_from: IntArray
    resident_until: IntArray
    active: BoolArray
    institution_regions: PrefixTable
    product_regions: PrefixTable
    sectors: PrefixTable
    sector_sections: PrefixTable
    sei: PrefixTable
    qualifications: tuple[str, ...]
    required: BoolArray
    collateral: tuple[str, ...]
    accepted: BoolArray
    min_years: FloatArray
    min_revenue: FloatArray
    stage_fit: Float32Array
    stage_source: npt.NDArray[np.int8]
    sector_prior_index: Mapping[str, int]
    sector_prior: Float32Array
    ticket_prior: FloatArray
    ticket_fit: Float32Array
    region_prior_index: Mapping[str, int]
    region_prior: Float32Array
    activity: Float32Array
    responsiveness: Float32Array
    buyout: BoolArray
    equity_linked: BoolArray
    text: TextEncoder
    text_vectors: Float32Array
    # Derived once here so that no ranking call recomputes them:
    text_vectors_t: Float32Array = field(init=False)  # (d, n) C-contiguous, the text product
    years_floor: FloatArray = field(init=False)  # minimum years, -inf where none is set
    revenue_floor: FloatArray = field(init=False)  # minimum revenue, -inf where none is set

    def __post_init__(self) -> None:
        derived = {
            "text_vectors_t": np.ascontiguousarray(self.text_vectors.T),
            "years_floor": np.where(np.isnan(self.min_years), -np.inf, self.min_years),
            "revenue_floor": np.where(np.isnan(self.min_revenue), -np.inf, self.min_revenue),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)  # frozen: set once, before anyone reads it

    def __len__(self) -> int:
        return len(self.rows)


BatchFunction = Callable[..., npt.NDArray[Any]]


@dataclass(frozen=True)
class DemandBatch:
    """A batch of ``B`` demands as arrays indexed against one :class:`CandidateSet`."""

    profiles: tuple[DemandProfile, ...]
    ftype: IntArray
    amount_min: FloatArray
    amount_max: FloatArray
    stage: IntArray
    region_known: BoolArray
    region_rows: IntArray
    inst_region_rows: IntArray
    sector_rows: IntArray
    sector_known: BoolArray
    section_rows: IntArray
    sibling_rows: IntArray
    sector_prior_rows: IntArray
    region_prior_rows: IntArray
    sei_rows: IntArray
    has_qualification: BoolArray
    offered: BoolArray
    years: FloatArray
    revenue: FloatArray
    with_equity: BoolArray  # a mixed demand or one of its legs: equity comes with the loan
    text_vectors: Float32Array
    relationship: tuple[IntArray, IntArray, Float32Array]

    def __len__(self) -> int:
        return len(self.profiles)

    def take(self, index: IntArray) -> DemandBatch:
        """The sub-batch of the demands at ``index`` (shape ``(b,)``), in that order."""
        rows, cols, vals = self.relationship
        pos = np.full(len(self), -1, dtype=np.int64)
        pos[index] = np.arange(len(index))
        keep = pos[rows] >= 0
        changes: dict[str, object] = {
            "profiles": tuple(self.profiles[i] for i in index.tolist()),
            "relationship": (pos[rows[keep]], cols[keep], vals[keep]),
        }
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                changes[f.name] = value[index]
        return replace(self, **changes)  # type: ignore[arg-type]


def by_demand_key(
    key: Callable[[DemandBatch], npt.NDArray[Any]],
) -> Callable[[BatchFunction], BatchFunction]:
    """Evaluate a batch function once per distinct ``key(batch)`` row and gather the result."""

    def decorate(fn: BatchFunction) -> BatchFunction:
        @wraps(fn)
        def wrapper(batch: DemandBatch, cands: CandidateSet, *args: Any) -> npt.NDArray[Any]:
            if len(batch) == 1:
                return fn(batch, cands, *args)
            keys = key(batch).reshape(len(batch), -1)
            _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
            if len(first) == len(batch):
                return fn(batch, cands, *args)
            table = fn(batch.take(first), cands, *args)
            return table if table.shape[0] == 1 else table[inverse.reshape(-1)]

        return wrapper

    return decorate


def _membership(codes: Sequence[str], wanted: Sequence[Sequence[str]]) -> BoolArray:
    index = {c: i for i, c in enumerate(codes)}
    out = np.zeros((len(wanted), len(codes)), dtype=bool)
    for j, items in enumerate(wanted):
        out[j, [index[c] for c in items if c in index]] = True
    return out


def _stage_rows(profiles: Sequence[DemandProfile]) -> IntArray:
    return np.array([STAGE_INDEX.get(p.stage or "", UNKNOWN_STAGE) for p in profiles], np.int64)


def _region_rows(table: PrefixTable, profiles: Sequence[DemandProfile]) -> IntArray:
    """Rows of each demand's province, city and district prefix; shape ``(B, 3)``."""
    missing = len(table.index)
    out = np.full((len(profiles), 3), missing, dtype=np.int64)
    for i, p in enumerate(profiles):
        prefixes = region_prefixes(p.region_code)
        if prefixes is not None:
            out[i] = table.rows(prefixes)
    return out


def _relationship_entries(
    profiles: Sequence[DemandProfile], cands: CandidateSet
) -> tuple[IntArray, IntArray, Float32Array]:
    """Earlier relationships as (demand row, candidate, strength) triplets."""
    rows: list[int] = []
    cols: list[IntArray] = []
    vals: list[float] = []
    for i, p in enumerate(profiles):
        for inst, strength in p.relationships.items():
            hit = np.flatnonzero(cands.institution_id == inst)
            rows += [i] * len(hit)
            cols.append(hit)
            vals += [strength] * len(hit)
    col = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    return np.array(rows, np.int64), col.astype(np.int64), np.array(vals, np.float32)


def _optional(values: Sequence[float | None]) -> FloatArray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def encode_demands(profiles: Sequence[DemandProfile], cands: CandidateSet) -> DemandBatch:
    """Turn demand profiles into arrays indexed against ``cands``."""
    sections = [sector_keys(p.industry_code) or ("", "") for p in profiles]
    offered = _membership(cands.collateral, [sorted(p.collateral_offered) for p in profiles])
    return DemandBatch(
        profiles=tuple(profiles),
        ftype=np.array([FINANCING_TYPES.index(p.financing_type) for p in profiles], np.int64),
        amount_min=np.array([p.amount_min_wan for p in profiles], dtype=np.float64),
        amount_max=np.array([p.amount_max_wan for p in profiles], dtype=np.float64),
        stage=_stage_rows(profiles),
        region_known=np.array([region_prefixes(p.region_code) is not None for p in profiles]),
        region_rows=_region_rows(cands.product_regions, profiles),
        inst_region_rows=_region_rows(cands.institution_regions, profiles),
        sector_rows=cands.sectors.rows([s[1] for s in sections]),
        sector_known=np.array([bool(s[0]) for s in sections], dtype=bool),
        section_rows=cands.sectors.rows([s[0] for s in sections]),
        sibling_rows=cands.sector_sections.rows([s[0] for s in sections]),
        sector_prior_rows=_prior_rows(cands.sector_prior_index, [s[1] or s[0] for s in sections]),
        region_prior_rows=_prior_rows(
            cands.region_prior_index, [(p.region_code or "")[:2] for p in profiles]
        ),
        sei_rows=cands.sei.rows([p.sei_category for p in profiles]),
        has_qualification=_membership(
            cands.qualifications, [sorted(p.qualifications) for p in profiles]
        ),
        offered=offered,
        years=_optional([p.years_operating for p in profiles]),
        revenue=_optional([p.revenue_wan for p in profiles]),
        with_equity=np.array([p.leg is not None or p.financing_type == "mixed" for p in profiles]),
        text_vectors=cands.text.transform([p.text for p in profiles]),
        relationship=_relationship_entries(profiles, cands),
    )


def _prior_rows(index: Mapping[str, int], keys: Sequence[str]) -> IntArray:
    missing = len(index)
    return np.array([index.get(k, missing) for k in keys], dtype=np.int64)
