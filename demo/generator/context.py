"""State shared by the generator's steps: the session, the seeded RNG, the fixed day, counts."""

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from sqlmodel import Session, SQLModel

T = TypeVar("T")

HISTORY_DAYS = 730  # two years of pipeline, events and deals before `today`


@dataclass
class GenContext:
    """One generation run: every draw comes from `rng`, every timestamp derives from `today`."""

    session: Session
    rng: random.Random
    today: date
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def history_start(self) -> date:
        """First day of the generated history."""
        return self.today - timedelta(days=HISTORY_DAYS)

    def insert(self, rows: Sequence[SQLModel]) -> None:
        """Add `rows` (one table) and flush once, so their ids are known; count them."""
        if not rows:
            return
        self.session.add_all(rows)
        self.session.flush()
        table = str(type(rows[0]).__tablename__)
        self.counts[table] = self.counts.get(table, 0) + len(rows)

    def day_between(self, first: date, last: date) -> date:
        """A uniformly drawn day in [first, last] (first when the range is empty)."""
        span = (last - first).days
        return first + timedelta(days=self.rng.randint(0, span)) if span > 0 else first

    def at(self, day: date, hour: int | None = None) -> datetime:
        """A UTC timestamp on `day`, in office hours unless `hour` is given."""
        h = self.rng.randint(1, 9) if hour is None else hour  # 09:00–17:00 Beijing time
        return datetime(day.year, day.month, day.day, h, self.rng.randrange(60), tzinfo=UTC)

    def weighted(self, items: Sequence[tuple[T, float]]) -> T:
        """One item drawn by weight from (item, weight) pairs."""
        return self.rng.choices([i for i, _ in items], weights=[w for _, w in items])[0]

    def chance(self, p: float) -> bool:
        """True with probability `p`."""
        return self.rng.random() < p


def utc(day: date, hour: int = 0, minute: int = 0) -> datetime:
    """A fixed UTC timestamp on `day`."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
