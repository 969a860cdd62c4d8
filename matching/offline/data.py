"""Loading Crunchbase-style investment histories and normalising investor names."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROUND_COLUMNS: tuple[str, ...] = (
    "company_name",
    "raised_amount_usd",
    "company_permalink",
    "company_category_code",
    "company_state_code",
    "company_region",
    "company_city",
    "funding_round_type",
    "funded_at",
)

_EPOCH = dt.date(1970, 1, 1)
_LEGAL_SUFFIXES = frozenset(
    {"llc", "lp", "llp", "inc", "corp", "corporation", "co", "ltd", "limited", "plc", "gmbh"}
)
_GENERIC_SUFFIXES = frozenset(
    {
        "ventures", "venture", "capital", "partners", "partner", "management", "fund",
        "funds", "group", "investments", "investment", "holdings", "vc", "company",
        "associates", "partnership",
    }
)  # fmt: skip


def normalize_investor_name(name: str) -> str:
    """Map a raw investor name to a normalisation key (rules and examples: docs/offline_eval.md)."""
    s = name.casefold().replace("&", " and ")
    s = re.sub(r"\([^)]*\)", " ", s)
    s = re.sub(r"\b([a-z])\.(?=[a-z]\.)", r"\1", s)  # l.p. -> lp., h.i.g. -> hig.
    tokens = [t for t in re.sub(r"[^\w\s]", " ", s).split() if t != "and"]
    if not tokens:
        return " ".join(re.sub(r"[^\w\s]", " ", name.casefold()).split()) or name.strip()
    while len(tokens) > 1 and tokens[0] == "the":
        tokens.pop(0)
    while len(tokens) > 1 and tokens[-1] in _LEGAL_SUFFIXES:
        tokens.pop()
    stem = list(tokens)
    while len(stem) > 2 and stem[-1] in _GENERIC_SUFFIXES:
        stem.pop()
    if len(stem) >= 2 and stem[-1] not in _GENERIC_SUFFIXES:
        tokens = stem
    return " ".join(tokens)


def date_to_days(value: str) -> float:
    """Convert ``YYYY-MM-DD`` (or a longer ISO timestamp) to days since 1970-01-01."""
    return float((dt.date.fromisoformat(value.strip()[:10]) - _EPOCH).days)


def parse_amount(value: str) -> float:
    """Parse ``raised_amount_usd``; blank or invalid values become ``nan``."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


@dataclass(frozen=True)
class RoundTable:
    """Column-oriented table of funding rounds (one entry per round)."""

    company: npt.NDArray[np.str_]
    category: npt.NDArray[np.str_]
    state: npt.NDArray[np.str_]
    region: npt.NDArray[np.str_]
    city: npt.NDArray[np.str_]
    round_type: npt.NDArray[np.str_]
    day: npt.NDArray[np.float64]
    amount: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.day.shape[0])

    def take(self, index: npt.ArrayLike) -> RoundTable:
        """Return the rounds at ``index`` (integer or boolean array)."""
        idx = np.asarray(index)
        return RoundTable(**{f: getattr(self, f)[idx] for f in self.__dataclass_fields__})

    @classmethod
    def from_rows(cls, rows: Sequence[dict[str, str]]) -> RoundTable:
        """Build a table from CSV dict rows (one row per round)."""

        def col(name: str) -> npt.NDArray[np.str_]:
            return np.array([(r.get(name) or "").strip() for r in rows], dtype=str)

        return cls(
            company=col("company_permalink"),
            category=col("company_category_code"),
            state=col("company_state_code"),
            region=col("company_region"),
            city=col("company_city"),
            round_type=col("funding_round_type"),
            day=np.array([date_to_days(r["funded_at"]) for r in rows], dtype=float),
            amount=np.array([parse_amount(r.get("raised_amount_usd", "")) for r in rows]),
        )


@dataclass(frozen=True)
class History:
    """Investment history: rounds plus (round, investor) incidence pairs."""

    rounds: RoundTable
    inv_round: npt.NDArray[np.int64]
    inv_investor: npt.NDArray[np.int64]
    investor_keys: npt.NDArray[np.str_]
    investor_names: npt.NDArray[np.str_]

    @property
    def n_investors(self) -> int:
        """Number of distinct (normalised) investors."""
        return int(self.investor_keys.shape[0])

    def split(self, day: float) -> tuple[History, History]:
        """Split into rounds strictly before ``day`` and rounds from ``day`` on.

        Both parts keep the full investor index space, so indices stay comparable.
        """
        before = self.rounds.day < day
        return self._subset(before), self._subset(~before)

    def _subset(self, mask: npt.NDArray[np.bool_]) -> History:
        new_index = np.cumsum(mask) - 1
        keep = mask[self.inv_round]
        return History(
            rounds=self.rounds.take(mask),
            inv_round=new_index[self.inv_round[keep]],
            inv_investor=self.inv_investor[keep],
            investor_keys=self.investor_keys,
            investor_names=self.investor_names,
        )

    def investor_sets(self) -> list[set[int]]:
        """Investor indices of each round (``len(rounds)`` sets)."""
        sets: list[set[int]] = [set() for _ in range(len(self.rounds))]
        for r, i in zip(self.inv_round.tolist(), self.inv_investor.tolist(), strict=True):
            sets[r].add(i)
        return sets


def _round_key(row: dict[str, str]) -> tuple[str, str, str]:
    amount = parse_amount(row.get("raised_amount_usd", ""))
    amount_key = "" if np.isnan(amount) else repr(amount)
    return (row["company_permalink"].strip(), row["funded_at"].strip()[:10], amount_key)


def _display_names(raw: Iterable[tuple[str, str]]) -> dict[str, str]:
    counts: Counter[tuple[str, str]] = Counter(raw)
    best: dict[str, tuple[int, str]] = {}
    for (key, name), n in counts.items():
        cur = best.get(key)
        if cur is None or (n, name) > cur:
            best[key] = (n, name)
    return {k: v[1] for k, v in best.items()}


def history_from_rows(rows: Sequence[dict[str, str]]) -> History:
    """Build a :class:`History` from CSV dict rows (one per round-investor pair).

    Rows with a blank investor name are ignored.
    """
    rows = [r for r in rows if (r.get("investor_name") or "").strip()]
    keys = [normalize_investor_name(r["investor_name"].strip()) for r in rows]
    names = _display_names(zip(keys, (r["investor_name"].strip() for r in rows), strict=True))
    investor_keys = sorted(names)
    inv_index = {k: i for i, k in enumerate(investor_keys)}
    round_index: dict[tuple[str, str, str], int] = {}
    first_rows: list[dict[str, str]] = []
    pairs: set[tuple[int, int]] = set()
    for row, key in zip(rows, keys, strict=True):
        rk = _round_key(row)
        if rk not in round_index:
            round_index[rk] = len(first_rows)
            first_rows.append(row)
        pairs.add((round_index[rk], inv_index[key]))
    table = RoundTable.from_rows(first_rows)
    order = np.lexsort((table.company, table.day))
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    pair_arr = np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)
    return History(
        rounds=table.take(order),
        inv_round=rank[pair_arr[:, 0]],
        inv_investor=pair_arr[:, 1],
        investor_keys=np.array(investor_keys, dtype=str),
        investor_names=np.array([names[k] for k in investor_keys], dtype=str),
    )


class MissingColumnsError(ValueError):
    """A CSV file lacks columns its loader needs."""

    def __init__(self, path: str | Path, missing: Sequence[str]) -> None:
        self.path, self.missing = str(path), tuple(missing)
        super().__init__(f"{self.path}: missing column(s) {', '.join(self.missing)}")


def read_csv_rows(path: str | Path, required: Sequence[str] = ()) -> list[dict[str, str]]:
    """Read a CSV file into a list of dict rows (UTF-8, BOM tolerated); `MissingColumnsError`
    if its header lacks one of the `required` columns."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in required if c not in (reader.fieldnames or ())]
        if missing:
            raise MissingColumnsError(path, missing)
        return list(reader)


def load_history(path: str | Path) -> History:
    """Load a history CSV (see module docstring) into a :class:`History`."""
    return history_from_rows(
        read_csv_rows(path, ("investor_name", "company_permalink", "funded_at"))
    )


def load_queries(path: str | Path) -> tuple[list[str], RoundTable]:
    """Load a query CSV; return the ``query_id`` list and the query rounds (file order).

    Repeated ``query_id`` values keep their first row only.
    """
    seen: set[str] = set()
    rows = []
    for row in read_csv_rows(path, ("query_id", "company_permalink", "funded_at")):
        if row["query_id"] not in seen:
            seen.add(row["query_id"])
            rows.append(row)
    return [r["query_id"] for r in rows], RoundTable.from_rows(rows)
