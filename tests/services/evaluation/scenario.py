"""A constructed center whose 2025 表A.1 figures are known by construction.

Every record is commented with whether it counts for 2025 and why; `EXPECTED_2025` is the result.
Timestamps are UTC; Beijing is UTC+8, so 16:00Z is already the next Beijing day.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlmodel import Session

from models import Enterprise, Institution
from models.reference import Board, DealType, EventKind, FinancingType, InstitutionKind
from tests import factories as f


def utc(y: int, m: int, d: int, hour: int = 2) -> datetime:
    """A UTC timestamp; the default 02:00Z is 10:00 in Beijing, the same calendar day."""
    return datetime(y, m, d, hour, tzinfo=UTC)


EXPECTED_2025: dict[str, dict[str, int | float]] = {
    "科技信贷": {
        "入驻银行机构（家）": 2,
        "撮合贷款金额（万元）": 750.0,
        "撮合贷款项目数量（项）": 3,
        "服务企业数量（家）": 5,
    },
    "创业投融资": {
        "入驻创业投融资机构（家）": 3,
        "撮合投融资金额（万元）": 1000.0,
        "撮合投融资项目数量（项）": 1,
        "服务企业数量（家）": 2,
    },
    "上市辅导": {
        "辅导企业在主板上市数量（家）": 1,
        "辅导企业在创业板、科创板上市数量（家）": 2,
        "辅导企业在新三板挂牌数量（家）": 1,
        "辅导企业在区域性股权交易市场挂牌数量（家）": 1,
        "辅导企业但未在任何资本市场挂牌上市数量（家）": 3,
    },
    "其他科技金融服务活动": {
        "投融资路演活动场次（场）": 2,
        "投融资路演活动参与人数（人次）": 5,
        "科技金融培训活动场次（场）": 2,
        "参与科技金融培训活动人数（人次）": 5,
    },
}
EXPECTED_BSE_2025 = 1


@dataclass
class Scenario:
    """Ids of the records the tests trace figures back to."""

    banks: dict[str, Institution] = field(default_factory=dict)
    ents: dict[str, Enterprise] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)


def build(session: Session) -> Scenario:
    """Insert the scenario through `session` (flushed, not committed)."""
    sc = Scenario()
    for n in range(1, 23):
        sc.ents[f"E{n}"] = f.enterprise(session)
    _institutions(session, sc)
    _credit(session, sc)
    _venture(session, sc)
    _listing(session, sc)
    _events(session, sc)
    session.flush()
    return sc


def _institutions(session: Session, sc: Scenario) -> None:
    def inst(key: str, kind: InstitutionKind, start: date | None, end: date | None) -> None:
        sc.banks[key] = f.institution(session, kind=kind, agreement_start=start, agreement_end=end)

    inst("A", InstitutionKind.bank, date(2023, 1, 1), date(2026, 12, 31))  # resident all 2025
    inst("B", InstitutionKind.bank, date(2023, 1, 1), date(2025, 6, 30))  # ended mid-period: counts
    inst("C", InstitutionKind.bank, date(2026, 1, 1), None)  # starts after 2025: no
    inst("D", InstitutionKind.bank, None, None)  # no agreement: never resident
    inst("V1", InstitutionKind.vc, date(2024, 1, 1), None)  # counts
    inst("P1", InstitutionKind.pe, date(2025, 12, 31), None)  # boundary day: counts
    inst("A1", InstitutionKind.angel, date(2020, 1, 1), date(2025, 1, 1))  # boundary day: counts
    inst("V2", InstitutionKind.vc, date(2020, 1, 1), date(2024, 12, 31))  # ended before: no
    inst("G1", InstitutionKind.guarantee, date(2023, 1, 1), None)  # neither line
    inst("S1", InstitutionKind.securities, date(2023, 1, 1), None)  # neither line


def _loan(
    session: Session,
    sc: Scenario,
    key: str,
    ent: str,
    bank: str,
    intro: datetime | None,
    closed: date | None,
    amount: float = 100.0,
) -> None:
    dem = f.demand(session, sc.ents[ent])
    m = f.match(session, dem, sc.banks[bank], introduced_at=intro)
    sc.ids[f"m_{key}"] = int(m.id or 0)
    if closed is not None:
        d = f.deal(
            session,
            sc.ents[ent],
            sc.banks[bank],
            amount_wan=amount,
            closed_on=closed,
            match_id=m.id,
        )
        sc.ids[key] = int(d.id or 0)


def _credit(session: Session, sc: Scenario) -> None:
    _loan(session, sc, "d1", "E1", "A", utc(2025, 3, 1), date(2025, 4, 1), 400)  # counts
    _loan(session, sc, "m1b", "E1", "B", utc(2025, 4, 1), None)  # E1 served by a 2nd bank: once
    _loan(
        session, sc, "d2", "E2", "A", utc(2025, 5, 10), date(2025, 5, 1), 999
    )  # closed before intro
    _loan(
        session, sc, "d4", "E4", "A", utc(2024, 12, 15), date(2025, 1, 1), 100
    )  # first day: counts
    _loan(
        session, sc, "d5", "E5", "A", utc(2025, 12, 31), date(2025, 12, 31), 250
    )  # last day, same day
    _loan(session, sc, "d6", "E7", "A", utc(2024, 12, 1), date(2024, 12, 31), 888)  # before period
    _loan(session, sc, "d7", "E4", "B", utc(2024, 6, 1), date(2026, 1, 1), 777)  # after period
    # Introduced 2025-06-30 20:00Z = 2025-07-01 Beijing, after the 06-30 close: not brokered.
    _loan(session, sc, "d8", "E6", "A", utc(2025, 6, 30, 20), date(2025, 6, 30), 666)
    _loan(session, sc, "m9", "E9", "A", None, None)  # recommended, never introduced: not served
    _loan(session, sc, "m8", "E8", "G1", utc(2025, 5, 5), None)  # guarantee: neither line
    # A loan without any match: not brokered, and E3 was not served.
    d3 = f.deal(session, sc.ents["E3"], sc.banks["B"], amount_wan=555, closed_on=date(2025, 7, 7))
    sc.ids["d3"] = int(d3.id or 0)


def _venture(session: Session, sc: Scenario) -> None:
    dem = f.demand(session, sc.ents["E1"], financing_type=FinancingType.equity)
    m = f.match(session, dem, sc.banks["V1"], introduced_at=utc(2025, 2, 1))
    e1 = f.deal(
        session,
        sc.ents["E1"],
        sc.banks["V1"],
        deal_type=DealType.equity,
        amount_wan=1000,
        closed_on=date(2025, 8, 1),
        match_id=m.id,
    )
    sc.ids["e1"] = int(e1.id or 0)
    dem10 = f.demand(session, sc.ents["E10"], financing_type=FinancingType.equity)
    f.match(session, dem10, sc.banks["P1"], introduced_at=utc(2025, 9, 9))  # E10 by two investors:
    f.match(session, dem10, sc.banks["A1"], introduced_at=utc(2025, 10, 10))  # counted once


def _listing(session: Session, sc: Scenario) -> None:
    def rec(
        key: str, ent: str, coached: date, board: Board | None = None, on: date | None = None
    ) -> None:
        sc.ids[key] = int(f.listing(session, sc.ents[ent], coached, board, on).id or 0)

    rec("L1", "E11", date(2023, 3, 1), Board.star, date(2025, 6, 18))  # 科创板 after coaching
    rec("L2", "E12", date(2024, 1, 1), Board.chinext, date(2025, 9, 1))  # 创业板
    rec("L3", "E13", date(2022, 1, 1), Board.main, date(2025, 11, 11))  # 主板
    rec("L4", "E14", date(2023, 5, 1), Board.neeq_basic, date(2025, 2, 2))  # 新三板
    rec("L5", "E15", date(2023, 5, 1), Board.neeq_innovation, date(2024, 12, 31))  # before 2025
    rec("L6", "E16", date(2023, 5, 1), Board.regional, date(2025, 3, 3))  # 区域性股权市场
    rec("L7", "E17", date(2023, 5, 1), Board.bse, date(2025, 4, 4))  # 北交所 (supplementary row)
    rec("L8", "E18", date(2025, 5, 1), Board.main, date(2025, 3, 1))  # listed before coaching: no
    rec("L9", "E19", date(2024, 6, 1))  # coached, not listed
    rec("L10", "E20", date(2025, 12, 31))  # coached from the last day, not listed
    rec("L11", "E21", date(2026, 1, 5))  # coaching starts after 2025: no
    rec("L12", "E22", date(2024, 1, 1), Board.star, date(2026, 2, 2))  # unlisted at 2025-12-31


def _events(session: Session, sc: Scenario) -> None:
    r1 = f.event(session, EventKind.roadshow, utc(2025, 3, 15))
    f.attend(session, r1, "张三", "李四", "王五")
    f.event(session, EventKind.roadshow, utc(2025, 12, 31, 16))  # 2026-01-01 in Beijing: no
    r3 = f.event(
        session, EventKind.roadshow, datetime(2024, 12, 31, 16, 30, tzinfo=UTC)
    )  # 01-01 BJ
    f.attend(session, r3, "张三", "赵六")
    r4 = f.event(session, EventKind.roadshow, utc(2024, 12, 31))
    f.attend(session, r4, "钱七")
    t1 = f.event(session, EventKind.training, utc(2025, 4, 10))
    f.attend(session, t1, "p1", "p2", "p3")
    t2 = f.event(session, EventKind.training, utc(2025, 5, 10))
    f.attend(session, t2, "p1", "p2")  # the same two people again: 2 more 人次
    t3 = f.event(session, EventKind.training, utc(2026, 1, 10))
    f.attend(session, t3, "p1")
    sc.ids.update(r1=int(r1.id or 0), r3=int(r3.id or 0), t1=int(t1.id or 0), t2=int(t2.id or 0))
