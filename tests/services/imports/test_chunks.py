"""The streaming load path: results do not depend on chunk boundaries; its building blocks."""

import random
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from ingestion.uscc import make_uscc
from models import DuplicateCandidate, Enterprise, FinancingDemand, ImportRow
from services.imports.load import ImportSummary
from services.imports.service import import_file
from tests.ingestion.helpers import write_csv

HEADER = ["企业名称", "统一社会信用代码", "拟融资金额（万元）", "融资方式", "需求编号"]


def _demand_rows() -> list[list[Any]]:
    """Spellings of the same firms (with and without USCC) and look-alikes that must stay apart."""
    rng = random.Random(11)
    uscc = [make_uscc(rng, "440305") for _ in range(4)]
    firms = [
        (
            ["深圳市华芯科技有限公司", "华芯科技（深圳）有限公司", "广东省深圳市华芯技术有限公司"],
            uscc[0],
        ),
        (["深圳市华信科技有限公司", "深圳华信科技股份有限公司"], uscc[1]),
        (["深圳市华芯电子有限公司"], ""),
        (["深圳市蜂巢互联科技有限公司", "蜂巢互联科技（深圳）有限公司"], ""),
        (["北京市蜂巢互联科技有限公司"], ""),
        (["深圳市睿擎信息技术有限公司", "深圳市睿擎信息科技有限公司"], uscc[2]),
        (["深圳市坏码科技有限公司"], uscc[3][:-1] + ("0" if uscc[3][-1] != "0" else "1")),
    ]
    rows: list[list[Any]] = []
    for i in range(60):
        names, code = firms[rng.randrange(len(firms))]
        given = code if rng.random() < 0.6 else ""
        kind = rng.choice(["信用贷款", "股权融资"])
        ref = f"XQ{i:03d}" if rng.random() < 0.5 else ""
        rows.append([rng.choice(names), given, rng.choice(["500", "0.3亿", "未披露"]), kind, ref])
    return [["2024年融资需求汇总表"], HEADER, *rows]


def _result(session: Session, batch_id: int) -> tuple[Any, ...]:
    names = {e.id: e.legal_name for e in session.execute(select(Enterprise)).scalars()}
    owner = {d.id: d.enterprise_id for d in session.execute(select(FinancingDemand)).scalars()}
    rows = session.execute(
        select(ImportRow).where(ImportRow.batch_id == batch_id).order_by(ImportRow.row_number)  # type: ignore[arg-type]
    ).scalars()
    outcomes = [
        (r.row_number, r.outcome, names[owner[r.entity_id]] if r.entity_id else r.reason)
        for r in rows
    ]
    firms = sorted(
        (e.legal_name, e.uscc, e.normalized_name)
        for e in session.execute(select(Enterprise)).scalars()
    )
    pairs = sorted(
        (names[c.enterprise_id], names[c.candidate_id])
        for c in session.execute(select(DuplicateCandidate)).scalars()
    )
    return outcomes, firms, pairs


def _whole_then_chunked(
    session: Session, path: Path, chunk_size: int
) -> tuple[ImportSummary, ImportSummary, tuple[Any, ...]]:
    """Import `path` in one chunk (rolled back), then in chunks of `chunk_size`: both summaries
    and the first import's result, which the chunked one must reproduce."""
    whole = session.begin_nested()
    one = import_file(session, path, chunk_size=2000)
    expected = _result(session, one.batch_id)
    whole.rollback()
    return one, import_file(session, path, chunk_size=chunk_size), expected


def test_chunk_boundaries_change_nothing(session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "demands.csv", _demand_rows())
    one, small, expected = _whole_then_chunked(session, path, 3)
    assert _result(session, small.batch_id) == expected
    counters = ("rows_read", "inserted", "updated", "unchanged", "merged", "quarantined", "held",
                "review")  # fmt: skip
    assert [getattr(small, c) for c in counters] == [getattr(one, c) for c in counters]
    assert small.related == one.related and small.review > 0 and small.quarantined > 0
    assert small.rows_read == 60 and small.held > 0  # second open demands of a firm: held
    again = import_file(session, path, chunk_size=3)
    assert (again.inserted, again.review, again.held) == (0, 0, small.held)
    assert again.rows_read == sum(getattr(again, c) for c in counters[2:7])


def test_demands_of_records_created_earlier_in_the_batch_are_found(
    session: Session, tmp_path: Path
) -> None:
    """A later chunk's row lands on the demand an earlier chunk gave a new enterprise, by its
    需求编号 or (unnumbered) by its 融资方式 — though their demands are not read back."""
    rows = [
        ["深圳市甲科技有限公司", "", "500", "信用贷款", "XQ1"],
        ["深圳市乙科技有限公司", "", "500", "信用贷款", ""],
        ["深圳市丙科技有限公司", "", "500", "股权融资", "XQ3"],
        ["深圳市丁科技有限公司", "", "500", "股权融资", "XQ4"],
        ["深圳市甲科技有限公司", "", "800", "信用贷款", "XQ1"],  # same number: merged
        ["深圳市乙科技有限公司", "", "800", "信用贷款", ""],  # same open type: merged
        ["深圳市乙科技有限公司", "", "800", "股权融资", ""],  # another type: a new demand
        ["深圳市丙科技有限公司", "", "800", "股权融资", ""],  # unnumbered ≠ numbered: new
        ["深圳市丁科技有限公司", "", "800", "股权融资", "XQ9"],  # another number: new
    ]
    path = write_csv(tmp_path / "demands.csv", [HEADER, *rows])
    _one, small, expected = _whole_then_chunked(session, path, 2)
    assert _result(session, small.batch_id) == expected
    outcomes = [outcome for _number, outcome, _name in expected[0]]
    assert outcomes == ["inserted"] * 4 + ["merged", "merged", "inserted", "inserted", "inserted"]
    again = import_file(session, path, chunk_size=2)
    assert (again.inserted, again.updated, again.unchanged, again.merged) == (0, 0, 7, 2)


def test_a_merged_name_finds_the_kept_record_on_re_import(session: Session, tmp_path: Path) -> None:
    from services.imports.duplicates import merge_candidate, pending_candidates

    rows = [
        ["企业名称", "员工人数"],
        ["深圳市华芯科技有限公司", "20"],
        ["深圳市华芯电子有限公司", "35人"],
    ]
    path = write_csv(tmp_path / "e.csv", rows)
    import_file(session, path)
    (pair,) = pending_candidates(session)
    kept = merge_candidate(session, pair["id"], "reviewer")
    again = import_file(session, path)
    assert (again.inserted, again.review, again.merged, again.unchanged) == (0, 0, 1, 1)
    firms = session.execute(select(Enterprise.id, Enterprise.legal_name)).all()  # type: ignore[call-overload]
    assert [tuple(f) for f in firms] == [(kept, "深圳市华芯科技有限公司")]
    merged = session.execute(
        select(ImportRow).where(ImportRow.batch_id == again.batch_id, ImportRow.row_number == 3)  # type: ignore[arg-type]
    ).scalar_one()
    assert merged.entity_id == kept and merged.reason and "曾用名" in merged.reason
    third = import_file(session, path)
    assert (third.inserted, third.updated, third.review) == (0, 0, 0)
