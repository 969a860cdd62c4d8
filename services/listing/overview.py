"""The listing-cultivation database (挂牌上市培育库) at a glance: records by tier and board."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from models.reference import Board, ListingTier
from services.listing import repository as repo
from services.listing.milestones import tier_since
from services.listing.plan import Clock, china_today


@dataclass(frozen=True)
class RecordRow:
    """One cultivated enterprise: where it stands and how long it has been there."""

    record_id: int
    enterprise_id: int
    name: str
    tier: ListingTier
    target_board: Board
    listed_board: Board | None
    listed_on: date | None
    days_in_tier: int


@dataclass(frozen=True)
class CultivationOverview:
    """Counts by (tier, target board), listings by board, and every record."""

    as_of: date
    by_tier_board: dict[tuple[ListingTier, Board], int]
    listed_by_board: dict[Board, int]
    rows: list[RecordRow]

    def tier_total(self, tier: ListingTier) -> int:
        """Records in ``tier``."""
        return sum(n for (t, _), n in self.by_tier_board.items() if t is tier)


def cultivation_overview(session: Session, *, clock: Clock = china_today) -> CultivationOverview:
    """The cultivation database by tier and target board (listed ones by their actual board)."""
    today = clock()
    records = repo.records(session)
    ids = [r.id for r in records if r.id is not None]
    changes = repo.tier_changes(session, ids)
    names = repo.display_names(session, records)
    rows = [
        RecordRow(r.id or 0, r.enterprise_id, names[r.enterprise_id], r.tier, r.target_board,
                  r.listed_board, r.listed_on,
                  (today - tier_since(r, changes.get(r.id or 0, []))).days)
        for r in records
    ]  # fmt: skip
    counts = Counter((row.tier, row.listed_board or row.target_board) for row in rows)
    listed = Counter(row.listed_board for row in rows if row.listed_board is not None)
    return CultivationOverview(today, dict(counts), dict(listed), rows)
