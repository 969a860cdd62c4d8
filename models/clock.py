"""The center's calendar: "today" is the date in the center's time zone (setting `TIMEZONE`).

Stored timestamps are UTC (`models.base.utcnow`); every date a user reads or a rule compares with
(an import's "not after today", an evaluation period, a deadline, an expiry) is the center's.
At 04:00 in Beijing, UTC still shows yesterday: a same-day list must not be "in the future".
"""

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from models.base import utcnow
from models.settings import get_settings


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"TIMEZONE“{name}”不是有效的时区名称（如 Asia/Shanghai）") from None


def center_zone() -> ZoneInfo:
    """The center's time zone (`TIMEZONE`, default Asia/Shanghai)."""
    return _zone(get_settings().timezone)


def center_date(moment: datetime) -> date:
    """The center's calendar date of an instant (a naive `moment` is taken as UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)
    return aware.astimezone(center_zone()).date()


def center_today(now: datetime | None = None) -> date:
    """Today at the center (of `now`, else of the present instant)."""
    return center_date(now or utcnow())
