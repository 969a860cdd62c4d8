"""The candidate side, indexed per version: what every recommendation ranks against.

Institutions, products and mandates (the catalog), the confirmed deals (their history) and one
column per match (when introduced and progressed, how far, whether open, when recommended) are
read once per process; after a write only what changed is read again: the catalog or the deals
when their aggregates moved, else the matches created or moved since the last ids seen. Nothing
here reads enterprises or demands, and no request or write re-reads every match.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.engine import Row
from sqlmodel import Session

from matching.candidates import build_candidate_set
from matching.history import (
    NEVER_DAY,
    DealHistory,
    PipelineHistory,
    infer_profiles,
    recent_activity,
    responsiveness,
)
from matching.options import GuarantorRow
from matching.profiles import STAGE_INDEX, UNKNOWN_STAGE, CandidateRow, CandidateSet, IntArray
from matching.text import TextEncoder
from models import Institution, InvestmentMandate, LoanProduct
from models.reference import (
    BUYOUT_WORDS,
    EQUITY_LINKED_WORDS,
    InstitutionKind,
    PipelineStage,
    canonical_industry_code,
)
from services.recommendations import repository as repo

LOAD_WINDOW_DAYS = 30
#: Transitions and matches re-read below the last ids seen: on PostgreSQL a transaction that
#: took a smaller id may commit after a larger one was seen (the change counter says when).
LOOK_BACK_IDS = 64
REACHED = {s: i for i, s in enumerate(
    [PipelineStage.recommended, PipelineStage.introduced, PipelineStage.meeting,
     PipelineStage.due_diligence, PipelineStage.term_sheet, PipelineStage.closed_won]
)}  # fmt: skip


def day_of(value: datetime | date | None) -> int:
    """The ordinal day of a moment or date (``NEVER_DAY`` for none)."""
    if value is None:
        return int(NEVER_DAY)
    return (value.date() if isinstance(value, datetime) else value).toordinal()


def aware(at: datetime) -> datetime:
    """``at`` with UTC as its zone when it has none (SQLite returns naive moments)."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)


# --- the catalog and the deals ----------------------------------------------------------------


@dataclass(frozen=True)
class Catalog:
    """Institutions in id order, and each one's loan products and mandates."""

    institutions: list[Institution]
    products: dict[int, list[LoanProduct]]
    mandates: dict[int, list[InvestmentMandate]]

    @classmethod
    def read(cls, session: Session) -> Catalog:
        """Read through a private session on the caller's connection: closing it detaches the
        rows with their values, so a kept catalog never expires or joins the caller's session."""
        with Session(bind=session.connection()) as private:
            institutions, products, mandates = repo.catalog(private)
        by_product: dict[int, list[LoanProduct]] = defaultdict(list)
        for p in products:
            by_product[p.institution_id].append(p)
        by_mandate: dict[int, list[InvestmentMandate]] = defaultdict(list)
        for m in mandates:
            by_mandate[m.institution_id].append(m)
        return cls(institutions, dict(by_product), dict(by_mandate))

    def offers(self) -> Iterator[tuple[Institution, LoanProduct | InvestmentMandate]]:
        """Every candidate offer in ranking order: per institution its products (a guarantor's
        are guarantees, not loans), then its mandates."""
        for inst in self.institutions:
            if inst.kind != InstitutionKind.guarantee:
                yield from ((inst, p) for p in self.products.get(inst.id or 0, []))
            yield from ((inst, m) for m in self.mandates.get(inst.id or 0, []))

    def fit_encoder(self) -> TextEncoder:
        """The text encoder of the candidates' texts."""
        return TextEncoder().fit([_text(inst, offer) for inst, offer in self.offers()])


def deal_history(rows: Iterable[Row[Any]]) -> DealHistory:
    """Confirmed deals (``repository.deal_rows``) as the history's columns."""
    rows = list(rows)
    stages = [STAGE_INDEX.get((r.round_stage or r.stage) or "", UNKNOWN_STAGE) for r in rows]
    return DealHistory(
        institution_id=np.array([r.institution_id for r in rows], dtype=np.int64),
        enterprise_id=np.array([r.enterprise_id for r in rows], dtype=np.int64),
        day=np.array([r.closed_on.toordinal() for r in rows], dtype=np.int64),
        stage=np.array(stages, dtype=np.int64),
        industry_code=tuple(canonical_industry_code(r.industry_code or "") or "" for r in rows),
        region_code=tuple(r.region_code or "" for r in rows),
        amount_wan=np.array([r.amount_wan for r in rows], dtype=np.float64),
    )


# --- the pipeline, one column entry per match --------------------------------------------------


_COLUMNS = ("match_id", "institution_id", "introduced_day", "progressed_day", "reached", "won",
            "open", "recommended_ts")  # fmt: skip


@dataclass(frozen=True)
class Pipeline:
    """Per match, in id order: its institution, when introduced and first progressed (ordinal
    days), how far it got (0 recommended … 5 won), whether won or still open, and when it was
    recommended (POSIX seconds, NaN if never); and the last match and transition ids read."""

    match_id: IntArray
    institution_id: IntArray
    introduced_day: IntArray
    progressed_day: IntArray
    reached: IntArray
    won: np.ndarray[Any, np.dtype[np.bool_]]
    open: np.ndarray[Any, np.dtype[np.bool_]]
    recommended_ts: np.ndarray[Any, np.dtype[np.float64]]
    last_match: int = 0
    last_transition: int = 0

    @classmethod
    def of_rows(cls, rows: Sequence[Row[Any]], last_match: int, last_transition: int) -> Pipeline:
        """The columns of ``repository.pipeline_rows``."""
        entries = [_entry(r) for r in rows]
        cols = list(zip(*entries, strict=True)) if entries else [()] * len(_COLUMNS)
        kinds = (np.int64,) * 5 + (bool, bool, np.float64)
        arrays = [np.array(c, dtype=k) for c, k in zip(cols, kinds, strict=True)]
        return cls(*arrays, last_match=last_match, last_transition=last_transition)  # type: ignore[arg-type, misc]

    def history(self) -> PipelineHistory:
        """The matches as the history functions take them (enterprise ids are not kept here:
        a demand's own relationships are read by id)."""
        return PipelineHistory(self.institution_id, np.zeros_like(self.institution_id),
                               self.introduced_day, self.progressed_day, self.reached, self.won)  # fmt: skip

    def advanced(self, session: Session, version: repo.IndexVersion) -> Pipeline:
        """These columns with the matches created or moved since the last ids seen read again."""
        changed = repo.changed_matches(session, self.last_match - LOOK_BACK_IDS,
                                       self.last_transition - LOOK_BACK_IDS)  # fmt: skip
        fresh = Pipeline.of_rows(repo.pipeline_rows(session, changed), 0, 0)
        pos = np.searchsorted(self.match_id, fresh.match_id)
        known = pos < len(self.match_id)
        known[known] = self.match_id[pos[known]] == fresh.match_id[known]
        merged = []
        for name in _COLUMNS:
            old, new = getattr(self, name).copy(), getattr(fresh, name)
            old[pos[known]] = new[known]
            merged.append(np.concatenate([old, new[~known]]))
        order = np.argsort(merged[0], kind="stable")
        return Pipeline(*(c[order] for c in merged), last_match=version.last_match,  # type: ignore[arg-type, misc]
                        last_transition=version.last_transition)  # fmt: skip

    def load(self, institution_ids: IntArray, today: date) -> IntArray:
        """Open recommendations of each institution made in the last 30 days."""
        since = datetime.combine(today - timedelta(days=LOAD_WINDOW_DAYS), datetime.min.time(), UTC)
        recent = self.open & (self.recommended_ts >= since.timestamp())
        ids, counts = np.unique(self.institution_id[recent], return_counts=True)
        by_id = dict(zip(ids.tolist(), counts.tolist(), strict=True))
        return np.array([by_id.get(int(i), 0) for i in institution_ids], dtype=np.int64)


def _entry(r: Row[Any]) -> tuple[int, int, int, int, int, bool, bool, float]:
    stage = PipelineStage(r.stage)
    first = r[-1]  # the first progress (`repository._first_progress`)
    at = r.recommended_at or r.created_at
    reached = REACHED.get(stage, 2 if first is not None else 1 if r.introduced_at else 0)
    return (int(r.id), int(r.institution_id), day_of(r.introduced_at), day_of(first), reached,
            stage == PipelineStage.closed_won, not stage.is_closed,
            aware(at).timestamp() if at is not None else math.nan)  # fmt: skip


# --- candidate rows -----------------------------------------------------------------------------


def _sectors(codes: Iterable[str]) -> tuple[str, ...]:
    return tuple(c for c in (canonical_industry_code(x) for x in codes) if c)


def _mid(low: float | None, high: float | None) -> float | None:
    values = [v for v in (low, high) if v is not None]
    return sum(values) / len(values) if values else None


def _marked(text: str, words: Iterable[str]) -> bool:
    return any(w.lower() in text.lower() for w in words)


def _text(inst: Institution, offer: LoanProduct | InvestmentMandate) -> str:
    return f"{inst.focus or ''} {offer.name}"


def _product_row(inst: Institution, p: LoanProduct, signals: tuple[float, float]) -> CandidateRow:
    return CandidateRow(
        institution_id=inst.id or 0, product_id=p.id or 0, kind="loan",
        institution_name=inst.short_name or inst.name, product_name=p.name,
        institution_kind=inst.kind, ticket_min_wan=p.min_amount_wan,
        ticket_max_wan=p.max_amount_wan, agreement_start=inst.agreement_start,
        agreement_end=inst.agreement_end, active=p.active,
        institution_regions=tuple(inst.regions_served), product_regions=tuple(p.regions),
        sectors=_sectors(p.sectors), required_qualifications=tuple(p.required_qualifications),
        collateral_accepted=tuple(p.collateral_accepted),
        min_years_operating=p.min_years_operating, min_revenue_wan=p.min_revenue_wan,
        text=_text(inst, p), activity=signals[0], responsiveness=signals[1],
        rate_pct=_mid(p.rate_min_pct, p.rate_max_pct),
        equity_linked=_marked(p.name, EQUITY_LINKED_WORDS),
    )  # fmt: skip


def _mandate_row(
    inst: Institution, m: InvestmentMandate, signals: tuple[float, float]
) -> CandidateRow:
    return CandidateRow(
        institution_id=inst.id or 0, product_id=m.id or 0, kind="equity",
        institution_name=inst.short_name or inst.name, product_name=m.name,
        institution_kind=inst.kind, ticket_min_wan=m.min_ticket_wan,
        ticket_max_wan=m.max_ticket_wan, remaining_capacity_wan=m.remaining_capacity_wan,
        agreement_start=inst.agreement_start, agreement_end=inst.agreement_end, active=m.active,
        institution_regions=tuple(inst.regions_served), product_regions=tuple(m.regions),
        stages=tuple(m.stages), sectors=_sectors(m.sectors),
        sei_categories=tuple(m.sei_categories), text=_text(inst, m),
        activity=signals[0], responsiveness=signals[1], buyout=_marked(m.name, BUYOUT_WORDS),
    )  # fmt: skip


def candidate_set(
    catalog: Catalog,
    deals: DealHistory,
    pipeline: PipelineHistory,
    as_of: date,
    encoder: TextEncoder | None = None,
) -> CandidateSet:
    """The candidates as of ``as_of``: offers with their institution's activity,
    responsiveness and inferred profile."""
    ids = np.array([i.id for i in catalog.institutions], dtype=np.int64)
    act = recent_activity(deals, pipeline, ids, as_of)
    resp = responsiveness(pipeline, ids, as_of)
    signals = {int(i): (float(a), float(r)) for i, a, r in zip(ids, act, resp, strict=True)}
    rows = [
        _product_row(inst, offer, signals[inst.id or 0])
        if isinstance(offer, LoanProduct)
        else _mandate_row(inst, offer, signals[inst.id or 0])
        for inst, offer in catalog.offers()
    ]
    return build_candidate_set(rows, infer_profiles(deals, ids, as_of), encoder=encoder)


def guarantor_rows(catalog: Catalog, deals: DealHistory) -> list[GuarantorRow]:
    """Resident guarantee institutions' offers: their registered guarantee products, else
    their history (tickets and sectors of their confirmed deals)."""
    out: list[GuarantorRow] = []
    for inst in catalog.institutions:
        if inst.kind != InstitutionKind.guarantee:
            continue
        name = inst.short_name or inst.name
        base = GuarantorRow(inst.id or 0, 0, name, "融资担保", 0.0, 0.0,
                            regions=tuple(inst.regions_served),
                            agreement_start=inst.agreement_start,
                            agreement_end=inst.agreement_end)  # fmt: skip
        products = catalog.products.get(inst.id or 0, [])
        out += [
            replace(
                base,
                product_id=p.id or 0,
                product_name=p.name,
                ticket_min_wan=p.min_amount_wan,
                ticket_max_wan=p.max_amount_wan,
                fee_min_pct=p.rate_min_pct,
                fee_max_pct=p.rate_max_pct,
                regions=tuple(p.regions) or base.regions,
                sectors=_sectors(p.sectors),
                active=p.active,
            )
            for p in products
        ]
        if not products:
            out += _guarantor_from_history(deals, base)
    return out


def _guarantor_from_history(deals: DealHistory, base: GuarantorRow) -> list[GuarantorRow]:
    mine = deals.institution_id == base.institution_id
    if not mine.any():
        return []
    amounts = deals.amount_wan[mine]
    sections = {deals.industry_code[i][:1] for i in np.flatnonzero(mine)} - {""}
    return [replace(base, ticket_min_wan=float(amounts.min()) / 2,
                    ticket_max_wan=float(amounts.max()) * 2, sectors=tuple(sorted(sections)))]  # fmt: skip


# --- the index and its cache -------------------------------------------------------------------


@dataclass
class CandidateIndex:
    """The candidate side at one version, and what was derived from it: candidates per day
    (with each candidate's load) and the guarantors."""

    version: repo.IndexVersion
    catalog: Catalog
    deals: DealHistory
    pipeline: Pipeline
    encoder: TextEncoder
    built_at: float
    days: OrderedDict[date, tuple[CandidateSet, IntArray]] = field(default_factory=OrderedDict)
    _guarantors: list[GuarantorRow] | None = None

    @classmethod
    def build(cls, session: Session, version: repo.IndexVersion, at: float) -> CandidateIndex:
        """Read the whole candidate side (once per process, or after a rollback or the TTL)."""
        catalog = Catalog.read(session)
        pipeline = Pipeline.of_rows(repo.pipeline_rows(session), version.last_match,
                                    version.last_transition)  # fmt: skip
        deals = deal_history(repo.deal_rows(session))
        return cls(version, catalog, deals, pipeline, catalog.fit_encoder(), at)

    def advanced(self, session: Session, version: repo.IndexVersion) -> CandidateIndex:
        """This index at ``version``: only the parts whose version moved are read again."""
        if version == self.version:
            return self
        catalog, encoder = self.catalog, self.encoder
        if version.catalog != self.version.catalog:
            catalog = Catalog.read(session)
            encoder = catalog.fit_encoder()
        deals = self.deals
        if version.deals != self.version.deals:
            deals = deal_history(repo.deal_rows(session))
        pipeline = self.pipeline
        if _pipeline_key(version) != _pipeline_key(self.version):
            pipeline = self.pipeline.advanced(session, version)
        return CandidateIndex(version, catalog, deals, pipeline, encoder, self.built_at)

    def behind(self, version: repo.IndexVersion) -> bool:
        """Whether ``version`` lost ids this index has seen (a rollback, a restore)."""
        return (version.last_match < self.version.last_match
                or version.last_transition < self.version.last_transition)  # fmt: skip

    def guarantors(self) -> list[GuarantorRow]:
        """The guarantors' offers (they do not depend on the day)."""
        if self._guarantors is None:
            self._guarantors = guarantor_rows(self.catalog, self.deals)
        return self._guarantors


def _pipeline_key(version: repo.IndexVersion) -> tuple[int, int, int | None]:
    return version.last_match, version.last_transition, version.counter


class IndexCache:
    """One candidate index per database, LRU-bounded, thread-safe, with a time to live.

    Each call reads the index version (one statement); the index is advanced to it, and kept
    only when the asking transaction has written nothing uncommitted.
    """

    def __init__(
        self,
        maxsize: int = 4,
        days: int = 4,
        ttl_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.maxsize, self.days, self.ttl_seconds, self.clock = maxsize, days, ttl_seconds, clock
        self._indexes: OrderedDict[tuple[int, str], CandidateIndex] = OrderedDict()
        # One build or derivation at a time: concurrent misses wait, then hit.
        self._lock = threading.Lock()
        self.loads = 0  # full builds
        self.refreshes = 0  # advances after a write

    def clear(self) -> None:
        """Forget every index."""
        with self._lock:
            self._indexes.clear()

    def index(self, session: Session) -> CandidateIndex:
        """The candidate index as ``session`` sees it."""
        bind = session.get_bind()
        key = (id(bind), str(bind.engine.url))
        known = self._indexes.get(key)
        version = repo.index_version(session, known.version if known is not None else None)
        with self._lock:
            found = self._indexes.pop(key, None)
            if found is None or found.behind(version) or self._expired(found):
                now = found if found is not None and not version.clean else None
                index = CandidateIndex.build(session, version, self.clock())
                self.loads += 1
            else:
                now, index = found, found.advanced(session, version)
                self.refreshes += index is not found
            kept = index if version.clean else now
            if kept is not None:
                self._indexes[key] = kept  # the most recently used last
            while len(self._indexes) > self.maxsize:
                self._indexes.popitem(last=False)
            return index

    def _expired(self, index: CandidateIndex) -> bool:
        return self.clock() - index.built_at > self.ttl_seconds

    def candidates(self, index: CandidateIndex, today: date) -> tuple[CandidateSet, IntArray]:
        """The candidate set as of ``today`` and each candidate's open-recommendation load."""
        with self._lock:
            if today not in index.days:
                cands = candidate_set(index.catalog, index.deals, index.pipeline.history(),
                                      today, index.encoder)  # fmt: skip
                index.days[today] = (cands, index.pipeline.load(cands.institution_id, today))
                while len(index.days) > self.days:
                    index.days.popitem(last=False)
            return index.days[today]
