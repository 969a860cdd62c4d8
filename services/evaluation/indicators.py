"""表A.1 as data: periods, the indicators with their exact names, and computed figures.

Days are calendar days at the center (`TIMEZONE`, `models.clock.center_date`): the center's working
day decides in which period an introduction, an event or a survey falls, whatever UTC timestamp it
is stored with.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any

from models.clock import center_zone

CREDIT = "科技信贷"
VENTURE = "创业投融资"
LISTING = "上市辅导"
ACTIVITIES = "其他科技金融服务活动"
GROUPS: tuple[str, ...] = (CREDIT, VENTURE, LISTING, ACTIVITIES)


@dataclass(frozen=True, order=True)
class Period:
    """An evaluation window of whole days, both ends included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"期间结束日 {self.end} 早于开始日 {self.start}")

    @classmethod
    def year(cls, year: int) -> "Period":
        """The calendar year."""
        return cls(date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def quarter(cls, year: int, quarter: int) -> "Period":
        """Calendar quarter 1–4 of `year`."""
        if quarter not in (1, 2, 3, 4):
            raise ValueError(f"季度应为 1–4，实际为 {quarter}")
        first = date(year, 3 * quarter - 2, 1)
        after = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
        return cls(first, after - timedelta(days=1))

    @property
    def label(self) -> str:
        """How users read the period: 2025年, 2025年第2季度, or 2025-01-01至2025-06-30."""
        if self == Period.year(self.start.year):
            return f"{self.start.year}年"
        q = (self.start.month - 1) // 3 + 1
        if self == Period.quarter(self.start.year, q):
            return f"{self.start.year}年第{q}季度"
        return f"{self.start.isoformat()}至{self.end.isoformat()}"

    @property
    def short_label(self) -> str:
        """Chart axis label: 2025Q2 for a quarter, else the long label."""
        q = (self.start.month - 1) // 3 + 1
        if self == Period.quarter(self.start.year, q):
            return f"{self.start.year}Q{q}"
        return self.label

    def contains(self, day: date) -> bool:
        """True when `day` is inside the period."""
        return self.start <= day <= self.end

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """[since, before) in UTC covering the period's days at the center (`TIMEZONE`)."""
        zone = center_zone()
        since = datetime.combine(self.start, time(), zone)
        before = datetime.combine(self.end + timedelta(days=1), time(), zone)
        return since.astimezone(UTC), before.astimezone(UTC)

    def quarters(self) -> list["Period"]:
        """The calendar quarters the period touches, each clipped to the period."""
        out: list[Period] = []
        year, q = self.start.year, (self.start.month - 1) // 3 + 1
        while True:
            whole = Period.quarter(year, q)
            if whole.start > self.end:
                return out
            out.append(Period(max(whole.start, self.start), min(whole.end, self.end)))
            year, q = (year + 1, 1) if q == 4 else (year, q + 1)


@dataclass(frozen=True)
class Indicator:
    """One row of 表A.1: its 一级指标, exact 二级指标 name (with unit), and a stable key."""

    key: str
    group: str
    name: str
    supplementary: bool = False  # rows the table predates (北交所), shown but not among the 17

    @property
    def unit(self) -> str:
        """The unit in the name's trailing full-width brackets: 家, 万元, 项, 场, 人次."""
        return self.name[self.name.rindex("（") + 1 : -1]


APPENDIX_A: tuple[Indicator, ...] = (
    Indicator("credit_banks", CREDIT, "入驻银行机构（家）"),
    Indicator("credit_amount", CREDIT, "撮合贷款金额（万元）"),
    Indicator("credit_projects", CREDIT, "撮合贷款项目数量（项）"),
    Indicator("credit_enterprises", CREDIT, "服务企业数量（家）"),
    Indicator("venture_institutions", VENTURE, "入驻创业投融资机构（家）"),
    Indicator("venture_amount", VENTURE, "撮合投融资金额（万元）"),
    Indicator("venture_projects", VENTURE, "撮合投融资项目数量（项）"),
    Indicator("venture_enterprises", VENTURE, "服务企业数量（家）"),
    Indicator("listed_main", LISTING, "辅导企业在主板上市数量（家）"),
    Indicator("listed_chinext_star", LISTING, "辅导企业在创业板、科创板上市数量（家）"),
    Indicator("listed_neeq", LISTING, "辅导企业在新三板挂牌数量（家）"),
    Indicator("listed_regional", LISTING, "辅导企业在区域性股权交易市场挂牌数量（家）"),
    Indicator("coached_unlisted", LISTING, "辅导企业但未在任何资本市场挂牌上市数量（家）"),
    Indicator("listed_bse", LISTING, "辅导企业在北交所上市数量（家）", supplementary=True),
    Indicator("roadshow_events", ACTIVITIES, "投融资路演活动场次（场）"),
    Indicator("roadshow_attendance", ACTIVITIES, "投融资路演活动参与人数（人次）"),
    Indicator("training_events", ACTIVITIES, "科技金融培训活动场次（场）"),
    Indicator("training_attendance", ACTIVITIES, "参与科技金融培训活动人数（人次）"),
)
INDICATORS_BY_KEY: Mapping[str, Indicator] = MappingProxyType({i.key: i for i in APPENDIX_A})
STANDARD_INDICATORS: tuple[Indicator, ...] = tuple(i for i in APPENDIX_A if not i.supplementary)


@dataclass(frozen=True)
class DrillRecord:
    """One record behind a figure: a deal, institution, enterprise, listing record or event."""

    kind: str
    id: int
    label: str
    detail: Mapping[str, str | int | float | None] = field(default_factory=dict)


KIND_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "deal": "成交",
        "institution": "入驻机构",
        "enterprise": "企业",
        "listing": "上市培育记录",
        "event": "活动",
    }
)


@dataclass(frozen=True)
class Figure:
    """A computed 二级指标: its value and the records it was counted from."""

    indicator: Indicator
    value: int | float
    records: tuple[DrillRecord, ...]


@dataclass(frozen=True)
class AppendixA:
    """表A.1 for one period: all 17 二级指标 plus the supplementary 北交所 row, in table order."""

    period: Period
    figures: tuple[Figure, ...]

    def figure(self, key: str) -> Figure:
        """The figure with indicator key `key` (see `APPENDIX_A`)."""
        for fig in self.figures:
            if fig.indicator.key == key:
                return fig
        raise KeyError(key)

    def value(self, key: str) -> int | float:
        """The value of indicator `key`."""
        return self.figure(key).value

    def as_payload(self, *, with_records: bool = True) -> dict[str, Any]:
        """A JSON-ready dict for the API: the period and every figure, optionally with its records."""
        return {
            "period": {
                "start": self.period.start.isoformat(),
                "end": self.period.end.isoformat(),
                "label": self.period.label,
            },
            "figures": [_figure_payload(fig, with_records) for fig in self.figures],
        }

    def as_json(self) -> dict[str, dict[str, int | float]]:
        """The 17 二级指标 as {一级指标: {二级指标: value}}.

        Nested because 服务企业数量（家） appears under both 科技信贷 and 创业投融资: a flat
        {name: value} would lose one of them. Every name is the table's exact text.
        """
        out: dict[str, dict[str, int | float]] = {group: {} for group in GROUPS}
        for fig in self.figures:
            if not fig.indicator.supplementary:
                out[fig.indicator.group][fig.indicator.name] = fig.value
        return out


def _figure_payload(fig: Figure, with_records: bool) -> dict[str, Any]:
    ind = fig.indicator
    out: dict[str, Any] = {
        "key": ind.key,
        "group": ind.group,
        "name": ind.name,
        "unit": ind.unit,
        "supplementary": ind.supplementary,
        "value": fig.value,
        "record_count": len(fig.records),
    }
    if with_records:
        out["records"] = [
            {"kind": r.kind, "id": r.id, "label": r.label, "detail": dict(r.detail)}
            for r in fig.records
        ]
    return out
