"""Pairwise (query round, candidate investor) features from a history as seen at a reference day."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matching.offline.data import History, RoundTable

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

ROUND_ORDER: dict[str, int] = {
    "angel": 0, "series-a": 1, "venture": 2, "series-b": 3, "series-c+": 4,
    "private-equity": 5, "post-ipo": 6, "other": 7,
}  # fmt: skip
_AMOUNT_EDGES = np.log10([3e5, 1e6, 3e6, 1e7, 3e7, 1e8])
_DAYS_PER_YEAR = 365.25

FEATURE_NAMES: tuple[str, ...] = (
    "log_activity_long", "log_activity_short", "log_count_all", "years_since_last",
    "share_category", "share_round_type", "share_cat_round", "share_state", "share_region",
    "share_city", "share_amount_bucket", "log_cat_round", "log_region_round",
    "amount_gap", "new_company_rate", "follow_rate",
    "prior_rounds", "years_since_prior", "in_last_round", "log_coinvest", "coinvest_share",
    "coinvest_cond", "coinvest_last", "log_portfolio_overlap", "sequel",
    "log_entry_cat_round", "entry_share_round_type",
    "q_round_type", "q_log_amount", "q_n_prior_investors", "q_years_since_company_round",
)  # fmt: skip


class Vocab:
    """String → integer code mapping; code 0 is reserved for unknown/blank values."""

    def __init__(self, values: Sequence[str] | npt.NDArray[np.str_]) -> None:
        uniq = sorted({str(v) for v in values if str(v)})
        self.index: dict[str, int] = {v: i + 1 for i, v in enumerate(uniq)}

    def __len__(self) -> int:
        return len(self.index) + 1

    def encode(self, values: Sequence[str] | npt.NDArray[np.str_]) -> IntArray:
        """Codes of ``values`` (0 for unseen)."""
        return np.fromiter((self.index.get(str(v), 0) for v in values), np.int64, len(values))


@dataclass(frozen=True)
class Encoders:
    """Vocabularies of the categorical round attributes (fitted on a training history)."""

    company: Vocab
    category: Vocab
    state: Vocab
    region: Vocab
    city: Vocab

    @classmethod
    def fit(cls, rounds: RoundTable) -> Encoders:
        """Build vocabularies from the values seen in ``rounds``."""
        return cls(*(Vocab(getattr(rounds, f)) for f in cls.__dataclass_fields__))


@dataclass(frozen=True)
class CodedRounds:
    """Integer-coded round attributes (see :func:`encode_rounds`)."""

    company: IntArray
    category: IntArray
    state: IntArray
    region: IntArray
    city: IntArray
    round_type: IntArray
    amount_bucket: IntArray
    log_amount: FloatArray
    day: FloatArray


def encode_rounds(rounds: RoundTable, enc: Encoders) -> CodedRounds:
    """Integer-code ``rounds`` with ``enc``; unknown round types map to ``other``."""
    log_amount = np.log10(np.where(rounds.amount > 0, rounds.amount, np.nan))
    bucket = np.where(np.isnan(log_amount), 0, 1 + np.searchsorted(_AMOUNT_EDGES, log_amount))
    rtype = [ROUND_ORDER.get(str(r), ROUND_ORDER["other"]) for r in rounds.round_type]
    return CodedRounds(
        company=enc.company.encode(rounds.company),
        category=enc.category.encode(rounds.category),
        state=enc.state.encode(rounds.state),
        region=enc.region.encode(rounds.region),
        city=enc.city.encode(rounds.city),
        round_type=np.asarray(rtype, dtype=np.int64),
        amount_bucket=bucket.astype(np.int64),
        log_amount=log_amount,
        day=rounds.day.astype(float),
    )


class PairLookup:
    """Sparse (row, col) → value lookup via sorted int64 keys (missing → ``default``)."""

    def __init__(self, rows: IntArray, cols: IntArray, values: FloatArray, n_cols: int) -> None:
        keys = rows.astype(np.int64) * n_cols + cols
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.values = values[order]
        self.n_cols = n_cols

    def get(self, rows: IntArray, cols: IntArray, default: float = 0.0) -> FloatArray:
        """Values at ``(rows[j], cols[j])``."""
        keys = rows.astype(np.int64) * self.n_cols + cols
        pos = np.clip(np.searchsorted(self.keys, keys), 0, max(self.keys.size - 1, 0))
        if self.keys.size == 0:
            return np.full(keys.shape, default)
        found = self.keys[pos] == keys
        return np.where(found, self.values[pos], default)


def _profile(n_inv: int, inv: IntArray, codes: IntArray, w: FloatArray, n: int) -> FloatArray:
    """Dense investor × code matrix of summed weights."""
    out = np.zeros((n_inv, n))
    np.add.at(out, (inv, codes), w)
    return out


def _decay(age_days: FloatArray, half_life_days: float) -> FloatArray:
    return np.asarray(0.5 ** (np.maximum(age_days, 0.0) / half_life_days), dtype=float)


def _company_day_key(company: IntArray, day: FloatArray) -> FloatArray:
    return company.astype(float) * 1e6 + np.clip(day, -4e5, 4e5) + 5e5


def _follow_stats(
    r_company: IntArray, r_day: FloatArray, inv_round: IntArray, inv: IntArray, n_inv: int
) -> tuple[FloatArray, FloatArray]:
    """Per investor: follow-on opportunities and follow-ons taken (unweighted counts)."""
    day = r_day[inv_round]
    uniq, pidx = np.unique(r_company[inv_round] * n_inv + inv, return_inverse=True)
    first = np.full(uniq.size, np.inf)
    np.minimum.at(first, pidx, day)
    comp = uniq // n_inv
    round_keys = np.sort(_company_day_key(r_company, r_day))
    end = np.searchsorted(round_keys, _company_day_key(comp, np.full(comp.size, 4e5)), "right")
    start = np.searchsorted(round_keys, _company_day_key(comp, first), "right")
    taken = np.bincount(pidx, (day > first[pidx]).astype(float), uniq.size)
    opp = np.bincount(uniq % n_inv, (end - start).astype(float), n_inv).astype(float)
    return opp, np.bincount(uniq % n_inv, taken, n_inv).astype(float)


def _sequel_graph(
    company: IntArray,
    inv: IntArray,
    first_day: FloatArray,
    ref_day: float,
    half_life_days: float,
    n_inv: int,
) -> sp.csr_matrix:
    """Directed investor graph: ``G[j, i]`` = decayed number of companies that investor
    ``i`` entered strictly after investor ``j`` had entered them (weight: decay of ``i``'s
    entry)."""
    order = np.lexsort((first_day, company))
    company, inv, first_day = company[order], inv[order], first_day[order]
    bounds = np.flatnonzero(np.diff(company)) + 1
    rows, cols, vals = [], [], []
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, company.size], strict=True):
        if hi - lo < 2:
            continue
        d = first_day[lo:hi]
        a, b = np.nonzero(d[:, None] < d[None, :])
        rows.append(inv[lo:hi][a])
        cols.append(inv[lo:hi][b])
        vals.append(_decay(ref_day - d[b], half_life_days))
    if not rows:
        return sp.csr_matrix((n_inv, n_inv))
    return _aggregate(np.concatenate(rows), np.concatenate(cols), np.concatenate(vals),
                      (n_inv, n_inv))  # fmt: skip


def _aggregate(
    rows: IntArray, cols: IntArray, vals: FloatArray, shape: tuple[int, int]
) -> sp.csr_matrix:
    """Sum duplicate (row, col) entries into a CSR matrix."""
    mat = sp.csr_matrix((vals, (rows, cols)), shape=shape)
    mat.sum_duplicates()
    return mat


def _lookup(mat: sp.csr_matrix) -> PairLookup:
    coo = mat.tocoo()
    return PairLookup(coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data, mat.shape[1])


class HistoryIndex:
    """Time-decayed statistics of a history as seen at ``ref_day``."""

    def __init__(
        self,
        history: History,
        enc: Encoders,
        ref_day: float,
        half_life_days: float = 730.0,
        short_half_life_days: float = 180.0,
        alpha: float = 2.0,
    ) -> None:
        self.enc = enc
        self.n_inv = history.n_investors
        self.ref_day = ref_day
        self.alpha = alpha
        self.half_life_days = half_life_days
        self.rounds = encode_rounds(history.rounds, enc)
        self.inv_round = history.inv_round
        self.inv = history.inv_investor
        age = ref_day - self.rounds.day
        self.round_w = _decay(age, half_life_days)
        w = self.round_w[self.inv_round]
        self.activity: FloatArray = np.bincount(self.inv, w, self.n_inv).astype(float)
        short = _decay(age, short_half_life_days)[self.inv_round]
        self.activity_short: FloatArray = np.bincount(self.inv, short, self.n_inv).astype(float)
        self.count = np.bincount(self.inv, minlength=self.n_inv).astype(float)
        self._build_profiles(w)
        self._build_company_links(w)

    def _build_profiles(self, w: FloatArray) -> None:
        rr, inv, n_inv = self.rounds, self.inv, self.n_inv
        r = self.inv_round
        n_rt = len(ROUND_ORDER)
        last = np.full(n_inv, -np.inf)
        np.maximum.at(last, inv, rr.day[r])
        self.years_since_last = np.minimum((self.ref_day - last) / _DAYS_PER_YEAR, 50.0)
        self.cat = _profile(n_inv, inv, rr.category[r], w, len(self.enc.category))
        self.rt = _profile(n_inv, inv, rr.round_type[r], w, n_rt)
        self.cat_rt = _profile(n_inv, inv, rr.category[r] * n_rt + rr.round_type[r], w,
                               len(self.enc.category) * n_rt)  # fmt: skip
        self.region_rt = _profile(n_inv, inv, rr.region[r] * n_rt + rr.round_type[r], w,
                                  len(self.enc.region) * n_rt)  # fmt: skip
        self.state = _profile(n_inv, inv, rr.state[r], w, len(self.enc.state))
        self.region = _profile(n_inv, inv, rr.region[r], w, len(self.enc.region))
        self.bucket = _profile(n_inv, inv, rr.amount_bucket[r], w, len(_AMOUNT_EDGES) + 2)
        city = _aggregate(inv, rr.city[r], w, (n_inv, len(self.enc.city)))
        self.city = _lookup(city)
        self.city_csc = city.tocsc()
        n_state = len(self.enc.state)
        self.cat_state_csc = _aggregate(inv, rr.category[r] * n_state + rr.state[r], w,
                                        (n_inv, len(self.enc.category) * n_state)).tocsc()  # fmt: skip
        self.city_prior = np.asarray(city.sum(axis=0)).ravel() / max(float(w.sum()), 1e-12)
        la = rr.log_amount[r]
        known = ~np.isnan(la)
        wk = np.bincount(inv[known], w[known], n_inv)
        self.mean_log_amount = np.bincount(inv[known], (w * la)[known], n_inv) / np.where(
            wk > 0, wk, np.nan
        )

    def _build_company_links(self, w: FloatArray) -> None:
        """Company → investor links: prior rounds, last-round investors, entry events."""
        rr, inv, r, n_inv = self.rounds, self.inv, self.inv_round, self.n_inv
        n_comp = len(self.enc.company)
        comp = rr.company[r]
        ones = np.ones(inv.size)
        self.prior = _aggregate(comp, inv, ones, (n_comp, n_inv))
        uniq, pidx = np.unique(comp * n_inv + inv, return_inverse=True)
        last = np.full(uniq.size, -np.inf)
        np.maximum.at(last, pidx, rr.day[r])
        self.prior_last_day = PairLookup(uniq // n_inv, uniq % n_inv, last, n_inv)
        self.company_last_day = np.full(n_comp, -np.inf)
        np.maximum.at(self.company_last_day, rr.company, rr.day)
        in_last = rr.day[r] == self.company_last_day[comp]
        self.in_last = PairLookup(comp[in_last], inv[in_last], ones[in_last], n_inv)
        self.last_investors = _aggregate(comp[in_last], inv[in_last], ones[in_last],
                                         (n_comp, n_inv))  # fmt: skip
        self.last_investors.data[:] = 1.0
        first_day = np.full(uniq.size, np.inf)
        np.minimum.at(first_day, pidx, rr.day[r])
        self._build_entry_profiles(w, rr.day[r] == first_day[pidx])
        self.sequel = _sequel_graph(uniq // n_inv, uniq % n_inv, first_day, self.ref_day,
                                    self.half_life_days, n_inv)  # fmt: skip
        self.sequel_cond = (sp.diags(1.0 / (self.activity + self.alpha)) @ self.sequel).tocsr()
        opp, taken = _follow_stats(rr.company, rr.day, r, inv, n_inv)
        rate = taken.sum() / max(opp.sum(), 1.0)
        self.follow_rate = (taken + self.alpha * rate) / (opp + self.alpha)
        self._build_coinvestment()

    def _build_entry_profiles(self, w: FloatArray, first: npt.NDArray[np.bool_]) -> None:
        """Profiles of *entries* (an investor's first investment in a company)."""
        rr, inv, r, n_inv, n_rt = (
            self.rounds,
            self.inv,
            self.inv_round,
            self.n_inv,
            len(ROUND_ORDER),
        )
        self.new_rate = (np.bincount(inv, w * first, n_inv) + self.alpha * first.mean()) / (
            self.activity + self.alpha
        )
        entry_cell = (rr.category[r] * n_rt + rr.round_type[r])[first]
        self.entry_cat_rt = _profile(n_inv, inv[first], entry_cell, w[first],
                                     len(self.enc.category) * n_rt)  # fmt: skip
        self.entry_rt = _profile(n_inv, inv[first], rr.round_type[r][first], w[first], n_rt)
        self.entry_activity: FloatArray = self.entry_rt.sum(axis=1)

    def _build_coinvestment(self) -> None:
        """Round-level co-investment graph (raw and row-normalised) and portfolio overlap."""
        incidence = _aggregate(self.inv_round, self.inv, np.ones(self.inv.size),
                               (len(self.rounds.day), self.n_inv))  # fmt: skip
        self.coinvest = _without_diagonal(incidence.T @ sp.diags(self.round_w) @ incidence)
        norm = sp.diags(1.0 / (self.activity + self.alpha))
        self.coinvest_cond = (norm @ self.coinvest).tocsr()
        company_w = _decay(self.ref_day - self.company_last_day, self.half_life_days)
        portfolio = self.prior.copy()
        portfolio.data[:] = 1.0
        self.portfolio_overlap = _without_diagonal(portfolio.T @ sp.diags(company_w) @ portfolio)


def _without_diagonal(mat: sp.spmatrix) -> sp.csr_matrix:
    out = sp.csr_matrix(mat)
    out.setdiag(0.0)
    out.eliminate_zeros()
    return out


@dataclass(frozen=True)
class QueryContext:
    """Coded queries plus their company links in a :class:`HistoryIndex`."""

    q: CodedRounds
    prior: sp.csr_matrix
    coinvest: sp.csr_matrix
    coinvest_cond: sp.csr_matrix
    coinvest_last: sp.csr_matrix
    portfolio_overlap: sp.csr_matrix
    sequel: sp.csr_matrix


def query_context(index: HistoryIndex, rounds: RoundTable) -> QueryContext:
    """Encode ``rounds`` and look up their company links in ``index``."""
    q = encode_rounds(rounds, index.enc)
    prior = index.prior[q.company].tocsr()
    binary = prior.copy()
    binary.data[:] = 1.0
    last = index.last_investors[q.company]
    return QueryContext(
        q=q,
        prior=prior,
        coinvest=(binary @ index.coinvest).tocsr(),
        coinvest_cond=(binary @ index.coinvest_cond).tocsr(),
        coinvest_last=(last @ index.coinvest_cond).tocsr(),
        portfolio_overlap=(binary @ index.portfolio_overlap).tocsr(),
        sequel=(binary @ index.sequel_cond).tocsr(),
    )


def _top_positive(scores: FloatArray, n: int) -> IntArray:
    """Indices of the ``n`` largest strictly positive entries (order unspecified)."""
    idx = np.argpartition(-scores, n)[:n] if n < scores.size else np.arange(scores.size)
    return idx[scores[idx] > 0].astype(np.int64)


def _top_by_column(mat: FloatArray, cols: IntArray, n: int) -> dict[int, IntArray]:
    return {int(c): _top_positive(mat[:, c], n) for c in np.unique(cols)}


def _graph_sources(ctx: QueryContext, j: int, n: int) -> list[IntArray]:
    """Top-``n`` neighbours of query ``j``'s prior investors in the company-link graphs."""
    rows = [ctx.coinvest[j], ctx.coinvest_cond[j], ctx.sequel[j]]
    return [r.indices[_top_positive(r.data, n)].astype(np.int64) for r in rows]


def _top_in_column(mat: sp.csc_matrix, col: int, n: int) -> IntArray:
    """Rows of the ``n`` largest positive entries of column ``col`` of a CSC matrix."""
    lo, hi = mat.indptr[col], mat.indptr[col + 1]
    return mat.indices[lo:hi][_top_positive(mat.data[lo:hi], n)].astype(np.int64)


def generate_candidates(
    index: HistoryIndex, ctx: QueryContext, n_per_source: int = 100, n_local: int = 50
) -> tuple[IntArray, IntArray]:
    """Candidate (query, investor) pairs: union of several cheap retrieval sources."""
    q, n_rt = ctx.q, len(ROUND_ORDER)
    cat_rt = q.category * n_rt + q.round_type
    region_rt = q.region * n_rt + q.round_type
    by_cat_rt = _top_by_column(index.cat_rt, cat_rt, n_per_source)
    by_region_rt = _top_by_column(index.region_rt, region_rt, n_per_source)
    by_rt = _top_by_column(index.rt, q.round_type, n_per_source)
    overall = _top_positive(index.activity, n_per_source)
    q_parts, i_parts = [], []
    for j in range(len(q.day)):
        sources = [
            ctx.prior[j].indices.astype(np.int64),
            *_graph_sources(ctx, j, n_per_source),
            by_cat_rt[int(cat_rt[j])], by_region_rt[int(region_rt[j])],
            by_rt[int(q.round_type[j])], overall,
        ]  # fmt: skip
        if n_local > 0:
            cat_state = int(q.category[j]) * len(index.enc.state) + int(q.state[j])
            sources += [_top_in_column(index.cat_state_csc, cat_state, n_local),
                        _top_in_column(index.city_csc, int(q.city[j]), n_local)]  # fmt: skip
        cand = np.unique(np.concatenate(sources))
        q_parts.append(np.full(cand.size, j, dtype=np.int64))
        i_parts.append(cand)
    if not q_parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(q_parts), np.concatenate(i_parts)


def _share(
    mat: FloatArray, total: FloatArray, inv: IntArray, col: IntArray, a: float
) -> FloatArray:
    prior = mat.sum(axis=0) / max(float(mat.sum()), 1e-12)
    return (mat[inv, col] + a * prior[col]) / (total[inv] + a)


def _sample(mat: sp.csr_matrix, rows: IntArray, cols: IntArray) -> FloatArray:
    if rows.size == 0:
        return np.zeros(0)
    return np.asarray(mat[rows, cols], dtype=float).ravel()


def pair_features(
    index: HistoryIndex, ctx: QueryContext, qi: IntArray, inv: IntArray
) -> FloatArray:
    """Feature matrix (columns :data:`FEATURE_NAMES`) for pairs ``(qi[j], inv[j])``.

    Missing values (e.g. no known amount, no prior investment) are ``nan``.
    """
    ix, q, a, n_rt = index, ctx.q, index.alpha, len(ROUND_ORDER)
    act = ix.activity
    comp, day = q.company[qi], q.day[qi]
    cat_rt = q.category[qi] * n_rt + q.round_type[qi]
    prior_rounds = _sample(ctx.prior, qi, inv)
    coinv = _sample(ctx.coinvest, qi, inv)
    city_share = (ix.city.get(inv, q.city[qi]) + a * ix.city_prior[q.city[qi]]) / (act[inv] + a)
    prior_last = ix.prior_last_day.get(comp, inv, np.nan)
    company_last = ix.company_last_day[comp]
    cols = [
        np.log1p(act[inv]), np.log1p(ix.activity_short[inv]), np.log1p(ix.count[inv]),
        ix.years_since_last[inv],
        _share(ix.cat, act, inv, q.category[qi], a), _share(ix.rt, act, inv, q.round_type[qi], a),
        _share(ix.cat_rt, act, inv, cat_rt, a), _share(ix.state, act, inv, q.state[qi], a),
        _share(ix.region, act, inv, q.region[qi], a), city_share,
        _share(ix.bucket, act, inv, q.amount_bucket[qi], a),
        np.log1p(ix.cat_rt[inv, cat_rt]),
        np.log1p(ix.region_rt[inv, q.region[qi] * n_rt + q.round_type[qi]]),
        np.abs(q.log_amount[qi] - ix.mean_log_amount[inv]),
        ix.new_rate[inv], ix.follow_rate[inv],
        prior_rounds, (day - prior_last) / _DAYS_PER_YEAR, ix.in_last.get(comp, inv),
        np.log1p(coinv), coinv / (act[inv] + a),
        _sample(ctx.coinvest_cond, qi, inv), _sample(ctx.coinvest_last, qi, inv),
        np.log1p(_sample(ctx.portfolio_overlap, qi, inv)), _sample(ctx.sequel, qi, inv),
        np.log1p(ix.entry_cat_rt[inv, cat_rt]),
        _share(ix.entry_rt, ix.entry_activity, inv, q.round_type[qi], a),
        q.round_type[qi].astype(float), q.log_amount[qi],
        np.asarray(ctx.prior.getnnz(axis=1), dtype=float)[qi],
        np.where(np.isfinite(company_last), (day - company_last) / _DAYS_PER_YEAR, np.nan),
    ]  # fmt: skip
    return np.column_stack(cols).astype(float)
