"""End to end through `import_file`: outcomes, idempotence, de-duplication, quarantine, rollback."""

import csv
import random
import shutil
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from ingestion.uscc import USCC_ALPHABET, make_uscc
from models import (
    AuditLog,
    Deal,
    DuplicateCandidate,
    Enterprise,
    Event,
    FinancingDemand,
    ImportBatch,
    ImportRow,
    Institution,
    InvestmentMandate,
    ListingRecord,
    LoanProduct,
)
from models.db import make_engine, session_scope
from models.errors import DomainError
from models.reference import Board, FinancingType, ImportOutcome, Stage
from services.exports.service import export_table
from services.imports.duplicates import merge_candidate, pending_candidates, reject_candidate
from services.imports.service import export_quarantine, import_file
from tests.ingestion.helpers import write_csv, write_xlsx

RNG = random.Random(7)
USCC = [make_uscc(RNG, "440305") for _ in range(6)]


def _bad_check(code: str) -> str:
    wrong = USCC_ALPHABET[(USCC_ALPHABET.index(code[-1]) + 1) % 31]
    return code[:-1] + wrong


ENTERPRISE_ROWS: list[list[Any]] = [
    ["2024年南山区科技型企业名录"],
    [
        "序号",
        "企业名称",
        "统一社会信用代码",
        "注册资本",
        "成立日期",
        "所属行业",
        "发展阶段",
        "联系人",
    ],
    [1, "深圳市华芯科技有限公司", USCC[0], "500万元人民币", "2018年3月", "C39", "成长期", "张三"],
    [
        2,
        "深圳市华信科技有限公司",
        USCC[1],
        "1,200",
        "2019/5/1",
        "软件和信息技术服务业",
        "A轮",
        "李四",
    ],
    [3, "ＡＢＣ 智能（深圳）有限公司", "", "3.5亿", "2015.06", "I65", "", ""],
    [4, "深圳市坏码科技有限公司", _bad_check(USCC[2]), "100", "2020-01-01", "", "", ""],
    [5, "深圳市华芯科技有限公司", USCC[0], "500万元人民币", "", "", "", ""],
    [6, "华芯科技（深圳）有限公司", "", "", "", "", "", "王五"],
    [7, "深圳市未披露科技有限公司", "", "未披露", "", "", "", ""],
    [None, None, None, None, None, None, None, None],
    ["合计", None, None, None, None, None, None, None],
]


def _count(session: Session, model: Any) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def _snapshot(session: Session) -> list[tuple[Any, ...]]:
    rows = session.exec(select(Enterprise).order_by(Enterprise.id)).all()  # type: ignore[arg-type]
    return [
        tuple(getattr(r, f) for f in Enterprise.model_fields if f != "updated_at") for r in rows
    ]


def test_gbk_csv_of_enterprises(session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "名录.csv", ENTERPRISE_ROWS, "gbk")
    summary = import_file(session, path, user="tester")
    assert summary.kind == "enterprises" and summary.encoding == "GBK"
    assert (summary.inserted, summary.merged, summary.quarantined) == (4, 2, 1)
    assert (
        summary.rows_read
        == 7
        == sum(
            getattr(summary, o)
            for o in ("inserted", "updated", "unchanged", "merged", "quarantined")
        )
    )
    assert summary.skipped_blank == 1 and summary.skipped_subtotal == ["11"]
    assert summary.unmapped_columns == [] and summary.contacts_stored == 3  # 联系人 is kept
    (reason,) = summary.quarantine_samples
    assert "第6行" in reason and "统一社会信用代码" in reason and "校验码错误" in reason
    assert _bad_check(USCC[2]) in reason
    huaxin = session.exec(select(Enterprise).where(Enterprise.uscc == USCC[0])).one()
    assert huaxin.registered_capital_wan == 500.0 and huaxin.industry_code == "C39"
    assert huaxin.founded_on is not None and huaxin.founded_on.isoformat() == "2018-03-01"
    assert huaxin.normalized_name == "华芯科技" and huaxin.region_code == "440305"
    other = session.exec(select(Enterprise).where(Enterprise.uscc == USCC[1])).one()
    assert other.stage is Stage.startup and other.industry_code == "I65"
    assert other.registered_capital_wan == 1200.0
    abc = session.exec(select(Enterprise).where(Enterprise.normalized_name == "abc智能")).one()
    assert abc.legal_name == "ABC智能（深圳）有限公司" and abc.registered_capital_wan == 35000.0
    rows = {
        r.row_number: r
        for r in session.exec(select(ImportRow).where(ImportRow.batch_id == summary.batch_id))
    }
    assert rows[7].outcome is ImportOutcome.merged and rows[7].entity_id == huaxin.id
    assert rows[8].outcome is ImportOutcome.merged and rows[8].entity_id == huaxin.id
    assert rows[6].raw["统一社会信用代码"] == _bad_check(USCC[2])
    assert rows[9].reason and "未披露" in rows[9].reason
    batch = session.get(ImportBatch, summary.batch_id)
    assert (
        batch is not None
        and len(batch.sha256) == 64
        and batch.user == "tester"
        and batch.status == "done"
    )
    assert session.exec(select(AuditLog).where(AuditLog.action == "import")).first() is not None


def test_importing_the_same_file_twice_changes_nothing(session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "e.csv", ENTERPRISE_ROWS, "utf-8-sig")
    first = import_file(session, path)
    before = _snapshot(session)
    second = import_file(session, path)
    assert _snapshot(session) == before
    assert (second.inserted, second.updated) == (0, 0)
    assert second.unchanged == first.inserted and second.merged == first.merged
    assert second.previous_batch_id == first.batch_id


def test_later_file_updates_by_uscc_and_merges_by_name(session: Session, tmp_path: Path) -> None:
    import_file(session, write_csv(tmp_path / "a.csv", ENTERPRISE_ROWS))
    rows = [
        ["公司名称", "社会信用代码", "营业收入", "注册资金"],
        ["深圳市华芯科技有限公司", USCC[0], "2.1亿", ""],  # update by USCC
        ["华信科技（深圳）有限公司", "", "900万", ""],  # name variant of 华信: merge
        ["深圳市华芯电子有限公司", "", "", "100万"],  # same 字号, other business: review
        ["深圳市华新科技有限公司", "", "", ""],  # one character apart: a new enterprise
    ]
    summary = import_file(session, write_csv(tmp_path / "b.csv", rows), kind="企业信息")
    assert (summary.updated, summary.merged, summary.inserted, summary.review) == (1, 1, 2, 1)
    huaxin = session.exec(select(Enterprise).where(Enterprise.uscc == USCC[0])).one()
    assert huaxin.revenue_wan == 21000.0
    huaxin2 = session.exec(select(Enterprise).where(Enterprise.uscc == USCC[1])).one()
    assert huaxin2.revenue_wan == 900.0 and huaxin2.legal_name == "深圳市华信科技有限公司"
    (pair,) = pending_candidates(session)
    assert (
        pair["enterprise_name"] == "深圳市华芯科技有限公司"
        and pair["candidate_name"] == "深圳市华芯电子有限公司"
    )
    again = import_file(session, write_csv(tmp_path / "b.csv", rows))
    assert again.review == 0 and again.inserted == 0


def test_review_queue_merge_and_reject(session: Session, tmp_path: Path) -> None:
    rows = [
        ["企业名称", "统一社会信用代码", "员工人数"],
        ["深圳市华芯科技有限公司", USCC[0], ""],
        ["深圳市华芯电子有限公司", "", "35人"],
        ["深圳市华芯智能有限公司", "", ""],
    ]
    import_file(session, write_csv(tmp_path / "e.csv", rows))
    listed = pending_candidates(session)
    assert {(p["enterprise_name"], p["candidate_name"]) for p in listed} == {
        ("深圳市华芯科技有限公司", "深圳市华芯电子有限公司"),
        ("深圳市华芯科技有限公司", "深圳市华芯智能有限公司"),
        ("深圳市华芯电子有限公司", "深圳市华芯智能有限公司"),
    }
    by_names = {(p["enterprise_name"], p["candidate_name"]): p for p in listed}
    electronics = by_names[("深圳市华芯科技有限公司", "深圳市华芯电子有限公司")]
    kept = merge_candidate(session, electronics["id"], "reviewer")
    kept_row = session.get(Enterprise, kept)
    assert kept_row is not None and kept_row.employees == 35
    assert session.get(Enterprise, electronics["candidate_id"]) is None
    (left,) = pending_candidates(session)  # pairs with the merged record went with it
    assert left["candidate_name"] == "深圳市华芯智能有限公司"
    reject_candidate(session, left["id"], "reviewer")
    assert pending_candidates(session) == []
    statuses = sorted(c.status for c in session.exec(select(DuplicateCandidate)))
    assert statuses == ["rejected"]
    assert (
        session.exec(select(AuditLog).where(AuditLog.action == "merge")).one().actor == "reviewer"
    )
    with pytest.raises(DomainError):
        reject_candidate(session, left["id"], "reviewer")
    import_file(session, write_csv(tmp_path / "again.csv", [rows[0], rows[1], rows[3]]))
    assert pending_candidates(session) == []  # a rejected pair is not proposed again


def _demand_workbook(path: Path) -> Path:
    rows: list[list[Any]] = [
        ["2024年XX区科技型企业融资需求汇总表", None, None, None, None, None, None],
        ["企业信息", None, "融资需求", None, None, "所属行业", "申报日期"],
        ["企业名称", "信用代码", "金额（万元）", "方式", "担保方式", None, None],
        [
            "深圳市华芯科技有限公司",
            USCC[0],
            500,
            "信用贷款",
            "知识产权质押、信用",
            "C39",
            "2024年3月",
        ],
        ["深圳市华芯科技有限公司", USCC[0], "0.3亿", "股权融资", None, None, 45352],
        ["华芯科技（深圳）有限公司", None, "500万元", "信用贷款", None, None, "2024.03"],
        [
            "深圳市云天智能有限公司",
            None,
            "300-800万",
            "投贷联动",
            None,
            "软件和信息技术服务业",
            None,
        ],
        ["深圳市无额科技有限公司", None, None, "信用贷款", None, None, None],
        ["小计", None, 1800, None, None, None, None],
    ]
    merges = ["A1:G1", "A2:B2", "C2:E2", "F2:F3", "G2:G3"]
    return write_xlsx(
        path, {"填表说明": [["说明"], ["金额单位为万元"]], "融资需求": rows}, {"融资需求": merges}
    )


def test_xlsx_demands_with_title_rows_and_merged_headers(session: Session, tmp_path: Path) -> None:
    summary = import_file(session, _demand_workbook(tmp_path / "需求.xlsx"))
    assert summary.kind == "demands" and summary.sheets == ["融资需求"]
    assert (summary.inserted, summary.merged, summary.quarantined) == (3, 1, 1)
    assert summary.skipped_subtotal == ["融资需求!9"]
    assert summary.unmapped_columns == ["申报日期"]
    assert summary.related["enterprises_inserted"] == 2
    ent = session.exec(select(Enterprise).where(Enterprise.uscc == USCC[0])).one()
    demands = session.exec(
        select(FinancingDemand).where(FinancingDemand.enterprise_id == ent.id)
    ).all()
    by_type = {d.financing_type: d for d in demands}
    assert by_type[FinancingType.loan].amount_max_wan == 500.0
    assert by_type[FinancingType.loan].collateral_offered == ["ip_pledge", "none"]
    assert by_type[FinancingType.equity].amount_min_wan == 3000.0
    mixed = session.exec(
        select(FinancingDemand).where(FinancingDemand.financing_type == FinancingType.mixed)
    ).one()
    assert (mixed.amount_min_wan, mixed.amount_max_wan) == (300.0, 800.0)
    (reason,) = summary.quarantine_samples
    assert "工作表“融资需求”第8行" in reason and "金额" in reason
    again = import_file(session, _demand_workbook(tmp_path / "需求.xlsx"))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)


def test_quarantine_exports_as_a_fixable_workbook(session: Session, tmp_path: Path) -> None:
    summary = import_file(session, write_csv(tmp_path / "e.csv", ENTERPRISE_ROWS))
    out = tmp_path / "quarantine.xlsx"
    assert export_quarantine(session, summary.batch_id, out) == 1
    workbook = load_workbook(out)
    sheet = workbook.active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    assert header[-2:] == ["原行号", "隔离原因"] and "统一社会信用代码" in header
    column = header.index("统一社会信用代码") + 1
    sheet.cell(row=2, column=column, value=USCC[2])  # the submitter fixes the code
    workbook.save(out)
    fixed = import_file(session, out, kind="enterprises")
    assert (fixed.inserted, fixed.quarantined, fixed.unmapped_columns) == (1, 0, [])
    assert (
        session.exec(select(Enterprise).where(Enterprise.uscc == USCC[2])).one().legal_name
        == "深圳市坏码科技有限公司"
    )


def test_import_rows_export_has_one_line_per_row(session: Session, tmp_path: Path) -> None:
    summary = import_file(session, write_csv(tmp_path / "e.csv", ENTERPRISE_ROWS))
    out = tmp_path / "rows.csv"
    assert (
        export_table(session, "import-rows", out, "csv", {"batch_id": summary.batch_id})
        == summary.rows_read
    )
    with out.open(encoding="utf-8-sig") as fh:
        lines = list(csv.DictReader(fh))
    assert {"row_number", "outcome", "entity_id", "reason"} <= set(lines[0])
    assert (
        sum(1 for line in lines if line["outcome"] == "quarantined" and line["entity_id"] == "")
        == 1
    )
    assert all(line["entity_id"] for line in lines if line["outcome"] != "quarantined")


def test_mapping_file_overrides_headers(session: Session, tmp_path: Path) -> None:
    rows = [["甲方", "代码", "钱"], ["深圳市映射科技有限公司", USCC[3], "2亿"]]
    mapping = tmp_path / "map.txt"
    mapping.write_text(
        "# 自定义列\nkind = enterprises\n甲方 = legal_name\n代码 = uscc\n钱 = registered_capital\n",
        encoding="utf-8",
    )
    summary = import_file(session, write_csv(tmp_path / "m.csv", rows), mapping=mapping)
    assert summary.inserted == 1
    assert (
        session.exec(select(Enterprise).where(Enterprise.uscc == USCC[3]))
        .one()
        .registered_capital_wan
        == 20000.0
    )


def test_missing_required_column_fails_the_file(session: Session, tmp_path: Path) -> None:
    rows = [["企业名称", "统一社会信用代码", "备注"], ["深圳市甲科技有限公司", "", "x"]]
    with pytest.raises(DomainError, match="融资方式"):
        import_file(session, write_csv(tmp_path / "x.csv", rows), kind="demands")


def test_institutions_products_mandates_deals_listing_and_events(
    session: Session, tmp_path: Path
) -> None:
    inst = [["机构名称", "机构类型", "入驻日期"], ["招商银行股份有限公司深圳分行", "银行", "2023-01-01"],
            ["深圳市启明创业投资有限公司", "创业投资机构", "2023年6月"]]  # fmt: skip
    assert import_file(session, write_csv(tmp_path / "i.csv", inst)).inserted == 2
    products = [["机构名称", "产品名称", "贷款额度", "贷款期限", "利率"],
                ["招商银行股份有限公司深圳分行", "科技贷", "100-1000万", "6-36个月", "3.5-4.5%"],
                ["不存在的银行", "某贷", "100万", "12", "4%"]]  # fmt: skip
    result = import_file(session, write_csv(tmp_path / "p.csv", products))
    assert (result.kind, result.inserted, result.quarantined) == ("products", 1, 1)
    assert "入驻机构" in result.quarantine_samples[0]
    product = session.exec(select(LoanProduct)).one()
    assert (product.max_amount_wan, product.max_term_months, product.rate_max_pct) == (
        1000.0,
        36,
        4.5,
    )
    mandates = [["机构名称", "基金名称", "投资阶段", "单笔投资金额"],
                ["深圳市启明创业投资有限公司", "成长一期", "初创期、成长期", "500万-3000万"]]  # fmt: skip
    assert import_file(session, write_csv(tmp_path / "f.csv", mandates)).inserted == 1
    assert session.exec(select(InvestmentMandate)).one().stages == ["startup", "growth"]
    import_file(session, write_csv(tmp_path / "e.csv", ENTERPRISE_ROWS))
    deals = [["企业名称", "机构名称", "放款金额", "放款日期"],
             ["深圳市华芯科技有限公司", "招商银行股份有限公司深圳分行", "300万", "2024-05-06"],
             ["深圳市查无此企业有限公司", "招商银行股份有限公司深圳分行", "300万", "2024-05-06"]]  # fmt: skip
    result = import_file(session, write_csv(tmp_path / "d.csv", deals))
    assert (result.kind, result.inserted, result.quarantined) == ("deals", 1, 1)
    assert session.exec(select(Deal)).one().deal_type.value == "loan"
    listing = [
        ["企业名称", "拟上市板块", "培育梯队", "入库时间"],
        ["深圳市华信科技有限公司", "科创板", "辅导层", "2023-09-01"],
    ]
    assert import_file(session, write_csv(tmp_path / "l.csv", listing)).inserted == 1
    assert session.exec(select(ListingRecord)).one().target_board is Board.star
    events = [["活动名称", "活动日期", "姓名", "单位", "手机"],
              ["2024年春季投融资路演", "2024-04-18", "张三", "深圳市华芯科技有限公司", "13900000001"],
              ["2024年春季投融资路演", "2024-04-18", "李四", "深圳市启明创业投资有限公司", ""],
              ["2024年春季投融资路演", "2024-04-18", "张三", "深圳市华芯科技有限公司", "13900000001"]]  # fmt: skip
    result = import_file(session, write_csv(tmp_path / "a.csv", events))
    assert (result.kind, result.inserted, result.merged, result.related) == (
        "events",
        2,
        1,
        {"events_inserted": 1},
    )
    assert _count(session, Event) == 1 and _count(session, Institution) == 2


@pytest.fixture
def file_engine(tmp_path: Path, sqlite_template: Path) -> Any:
    path = tmp_path / "committed.sqlite"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


class Boom(RuntimeError):
    pass


def test_failure_halfway_leaves_the_database_as_before(file_engine: Engine, tmp_path: Path) -> None:
    with session_scope(file_engine) as session:
        import_file(session, write_csv(tmp_path / "seed.csv", ENTERPRISE_ROWS))
    with session_scope(file_engine) as session:
        before = (_snapshot(session), _count(session, ImportRow), _count(session, ImportBatch))
    rows = [["企业名称", "注册资本"]] + [
        [f"深圳市批量{i:04d}科技有限公司", f"{i}万"] for i in range(50)
    ]
    rows.append(["深圳市华芯科技有限公司", "9亿"])  # would update an existing record

    def explode(done: int) -> None:
        if done >= 20:
            raise Boom("disk full")

    with pytest.raises(Boom), session_scope(file_engine) as session:
        import_file(session, write_csv(tmp_path / "big.csv", rows), chunk_size=10, progress=explode)
    with session_scope(file_engine) as session:
        assert (
            _snapshot(session),
            _count(session, ImportRow),
            _count(session, ImportBatch),
        ) == before


def test_registry_sample_imports_as_enterprises(session: Session) -> None:
    path = (
        Path(__file__).resolve().parents[3].parent
        / "shared"
        / "data"
        / "cn_registry"
        / "registry_sample.csv"
    )
    if not path.exists():
        pytest.skip("registry_sample.csv not present")
    summary = import_file(session, path, kind="enterprises")
    rows = session.exec(select(ImportRow).where(ImportRow.batch_id == summary.batch_id)).all()
    with_code = [r for r in rows if (r.raw.get("统一信用代码") or "").strip()]
    bad = [r for r in with_code if r.reason and "统一社会信用代码不符合" in r.reason]
    passed = len(with_code) - len(bad)
    print(f"\nregistry_sample: {summary.rows_read} rows, {len(with_code)} with a USCC, "
          f"{passed} passed the GB 32100-2015 check, {len(bad)} failed (quarantined)")  # fmt: skip
    assert summary.rows_read == len(rows) and passed / len(with_code) > 0.99
    assert all(r.outcome is ImportOutcome.quarantined for r in bad)


def test_reimport_keeps_numbered_and_unnumbered_demands_apart(
    session: Session, tmp_path: Path
) -> None:
    # One enterprise, two open loan demands: one with a 需求编号, one without. Before the fix the
    # unnumbered row also found the numbered demand, so a second import "updated" it.
    rows = [
        ["企业名称", "统一社会信用代码", "融资方式", "拟融资金额（万元）", "需求编号"],
        ["深圳市编号测试科技有限公司", USCC[1], "信用贷款", 500, "NS-2024-001"],
        ["深圳市编号测试科技有限公司", USCC[1], "信用贷款", 900, None],
    ]
    path = write_csv(tmp_path / "demands.csv", rows, "utf-8-sig")
    first = import_file(session, path, kind="demands")
    assert first.inserted == 2
    second = import_file(session, path, kind="demands")
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 2)
    amounts = sorted(d.amount_max_wan for d in session.exec(select(FinancingDemand)))
    assert amounts == [500.0, 900.0]
