"""Imports that meet what is stored: rows named by a brand, second open demands held for
review, and the change set of an import that changes a stored enterprise."""

import random
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, func, select

from ingestion.uscc import make_uscc
from models import (
    DemandChange,
    DuplicateCandidate,
    Enterprise,
    EnterpriseChange,
    FinancingDemand,
    ImportRow,
)
from models.reference import ImportOutcome
from services.imports.duplicates import merge_candidate, pending_candidates
from services.imports.service import import_file, render_summary
from tests.ingestion.helpers import write_csv

RNG = random.Random(23)
HANGZHOU = [make_uscc(RNG, "330106") for _ in range(3)]
NINGBO = make_uscc(RNG, "330212")
FIRMS = [
    ["企业名称", "统一社会信用代码", "注册地址", "成立日期", "营业收入（万元）"],
    ["杭州和雷实业股份有限公司", HANGZHOU[0], "杭州市西湖区文三路1号", "2015-03-01", 1200],
    ["杭州星星科技有限公司", HANGZHOU[1], "杭州市西湖区文三路2号", "2016-05-01", 800],
    ["杭州星星电子有限公司", HANGZHOU[2], "杭州市西湖区文三路3号", "2017-07-01", 300],
    ["宁波场地汇网络科技有限公司", NINGBO, "宁波市鄞州区百丈路158号", "2018-01-01", 100],
]
DEMAND_HEADER = ["企业名称", "所在区域", "融资方式", "拟融资金额（万元）"]


def _stored(session: Session, tmp_path: Path) -> None:
    import_file(session, write_csv(tmp_path / "firms.csv", FIRMS))


def _snapshot(session: Session) -> tuple[Any, ...]:
    firms = sorted(
        (e.legal_name, e.short_name, e.founded_on, e.revenue_wan)
        for e in session.exec(select(Enterprise))
    )
    demands = sorted(
        (d.enterprise_id, str(d.financing_type), d.amount_min_wan, d.amount_max_wan)
        for d in session.exec(select(FinancingDemand))
    )
    pairs = session.exec(select(func.count()).select_from(DuplicateCandidate)).one()
    return firms, demands, pairs


def _firm(session: Session, uscc: str) -> Enterprise:
    found = session.exec(select(Enterprise).where(Enterprise.uscc == uscc)).one()
    return found


def _rows(session: Session, batch_id: int) -> list[ImportRow]:
    query = select(ImportRow).where(ImportRow.batch_id == batch_id)
    return list(session.exec(query.order_by(col(ImportRow.row_number))))


def test_a_brand_lands_on_the_stored_enterprise_of_its_region(
    session: Session, tmp_path: Path
) -> None:
    _stored(session, tmp_path)
    rows = [
        DEMAND_HEADER,
        ["和雷实业", "杭州市", "信用贷款", 500],
        ["场地汇", "浙江省宁波市", "股权融资", 800],
    ]
    summary = import_file(session, write_csv(tmp_path / "d.csv", rows))
    assert (summary.inserted, summary.held, summary.related) == (
        2, 0, {"enterprises_merged": 2},
    )  # fmt: skip
    helei, venue = _firm(session, HANGZHOU[0]), _firm(session, NINGBO)
    owners = [session.get(FinancingDemand, r.entity_id) for r in _rows(session, summary.batch_id)]
    assert [d.enterprise_id for d in owners if d] == [helei.id, venue.id]
    # The brand is stored as the short name; nothing else about the firm changed.
    assert (helei.short_name, venue.short_name) == ("和雷实业", "场地汇")
    assert session.exec(select(func.count()).select_from(Enterprise)).one() == 4
    assert [c["field"] for c in summary.changes] == ["short_name", "short_name"]


def test_a_brand_of_another_region_is_not_merged(session: Session, tmp_path: Path) -> None:
    _stored(session, tmp_path)
    rows = [DEMAND_HEADER, ["和雷实业", "深圳市南山区", "信用贷款", 500]]
    summary = import_file(session, write_csv(tmp_path / "d.csv", rows))
    assert _firm(session, HANGZHOU[0]).short_name is None
    assert summary.related == {"enterprises_inserted": 1}
    # Same 字号 and trade in another city: a pair for a person, never a silent merge.
    assert summary.review == 1
    # The person merges them: the brand the row's record was created under becomes the short name.
    [pair] = pending_candidates(session)
    assert pair["candidate_name"] == "和雷实业"
    merge_candidate(session, pair["id"], "王专员")
    assert _firm(session, HANGZHOU[0]).short_name == "和雷实业"


def test_a_brand_naming_several_enterprises_is_held_and_changes_nothing(
    session: Session, tmp_path: Path
) -> None:
    _stored(session, tmp_path)
    before = _snapshot(session)
    rows = [DEMAND_HEADER, ["星星", "杭州", "信用贷款", 500]]
    summary = import_file(session, write_csv(tmp_path / "d.csv", rows))
    assert _snapshot(session) == before
    assert (summary.rows_read, summary.held, summary.inserted) == (1, 1, 0)
    [row] = _rows(session, summary.batch_id)
    assert row.outcome is ImportOutcome.review and row.entity_id is None
    assert "杭州星星科技有限公司、杭州星星电子有限公司" in (row.reason or "")
    assert summary.held_rows[0]["row"] == 2 and "待人工复核" in summary.held_rows[0]["message"]
    assert "待复核 1" in render_summary(summary)


def test_a_second_open_demand_is_held_and_changes_nothing(session: Session, tmp_path: Path) -> None:
    _stored(session, tmp_path)
    first = [["企业名称", "统一社会信用代码", "融资方式", "拟融资金额（万元）", "需求编号", "营业收入（万元）", "所在区域"],
             ["杭州和雷实业股份有限公司", HANGZHOU[0], "信用贷款", "300-800万", "A-1", 1200]]  # fmt: skip
    import_file(session, write_csv(tmp_path / "first.csv", first))
    before = _snapshot(session)
    second = [
        first[0],
        # Overlapping range, same type, another number (and a changed revenue): held whole.
        ["杭州和雷实业股份有限公司", HANGZHOU[0], "信用贷款", 600, "A-2", 9999],
        [
            "和雷实业",
            "",
            "信用贷款",
            "700-900万",
            "",
            None,
            "杭州",
        ],  # by brand, unnumbered: held too
    ]
    summary = import_file(session, write_csv(tmp_path / "second.csv", second))
    assert _snapshot(session) == before
    assert (summary.held, summary.inserted, summary.changes_total) == (2, 0, 0)
    assert all("金额区间重叠" in r["message"] for r in summary.held_rows)
    # Not overlapping, or another financing type: a new demand.
    third = [first[0], ["杭州和雷实业股份有限公司", HANGZHOU[0], "信用贷款", 2000, "A-3", None],
             ["杭州和雷实业股份有限公司", HANGZHOU[0], "股权融资", 600, "A-4", None]]  # fmt: skip
    summary = import_file(session, write_csv(tmp_path / "third.csv", third))
    assert (summary.held, summary.inserted) == (0, 2)
    # The same numbered demand again updates it, as before.
    again = [
        first[0],
        ["杭州和雷实业股份有限公司", HANGZHOU[0], "信用贷款", "400-800万", "A-1", None],
    ]
    summary = import_file(session, write_csv(tmp_path / "again.csv", again))
    assert (summary.held, summary.updated) == (0, 1)


def test_a_row_without_the_demands_number_never_changes_it(
    session: Session, tmp_path: Path
) -> None:
    _stored(session, tmp_path)
    header = ["企业名称", "统一社会信用代码", "融资方式", "拟融资金额（万元）", "需求编号"]
    first = [header, ["杭州和雷实业股份有限公司", HANGZHOU[0], "信用贷款", "500-800万", None],
             ["杭州星星科技有限公司", HANGZHOU[1], "股权融资", "1000-1500万", "B-1"]]  # fmt: skip
    import_file(session, write_csv(tmp_path / "first.csv", first))
    loan = session.exec(select(FinancingDemand).where(FinancingDemand.source_ref == None)).one()  # noqa: E711
    before = _snapshot(session)
    same = import_file(session, write_csv(tmp_path / "same.csv", first[:2]))
    assert (same.unchanged, same.updated, same.held) == (1, 0, 0)
    # Unnumbered, same type, other amounts: held naming the demand and its range.
    other = [header, ["杭州和雷实业股份有限公司", HANGZHOU[0], "信用贷款", 600, None]]
    held = import_file(session, write_csv(tmp_path / "other.csv", other), user="区县专员")
    assert _snapshot(session) == before
    assert (held.held, held.updated, held.inserted) == (1, 0, 0)
    assert f"在办需求 #{loan.id}（500–800 万元）" in held.held_rows[0]["message"]
    assert session.exec(select(func.count()).select_from(DemandChange)).one() == 0
    # With its 需求编号: an explicit update, with history naming the batch and its user.
    numbered = [header, ["杭州星星科技有限公司", HANGZHOU[1], "股权融资", "1200-1500万", "B-1"]]
    update = import_file(session, write_csv(tmp_path / "numbered.csv", numbered), user="区县专员")
    assert (update.updated, update.held) == (1, 0)
    equity = session.exec(select(FinancingDemand).where(FinancingDemand.source_ref == "B-1")).one()
    assert (equity.amount_min_wan, equity.amount_max_wan) == (1200, 1500)
    history = session.exec(select(DemandChange)).all()
    assert [(c.demand_id, c.field, c.old_value, c.new_value, c.actor, c.note) for c in history] == [
        (equity.id, "amount_min_wan", "1000", "1200", "区县专员", f"导入批次 #{update.batch_id}")
    ]


def test_changes_to_a_stored_enterprise_form_the_batch_change_set(
    session: Session, tmp_path: Path
) -> None:
    _stored(session, tmp_path)
    changed = [FIRMS[0], ["杭州和雷实业股份有限公司", HANGZHOU[0], "杭州市西湖区文三路1号", "2014-03-01", 2500],
               FIRMS[2]]  # fmt: skip
    summary = import_file(session, write_csv(tmp_path / "changed.csv", changed))
    helei = _firm(session, HANGZHOU[0])
    expected = {("founded_on", "2015-03-01", "2014-03-01"), ("revenue_wan", "1200.0", "2500.0")}
    stored = session.exec(
        select(EnterpriseChange).where(EnterpriseChange.batch_id == summary.batch_id)
    ).all()
    assert {(c.field, c.old_value, c.new_value) for c in stored} == expected
    assert {c.enterprise_id for c in stored} == {helei.id} and stored[0].row_number == 2
    assert {(c["field"], c["old"], c["new"]) for c in summary.changes} == expected
    assert summary.changes_total == 2 and summary.as_dict()["changes"][0]["legal_name"]
    assert "变更已有企业 2 项" in render_summary(summary)
    # A file that changes nothing has an empty change set.
    summary = import_file(session, write_csv(tmp_path / "same.csv", changed))
    assert (summary.changes_total, summary.changes) == (0, [])
