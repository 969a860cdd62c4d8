"""Importing a policy-catalogue spreadsheet built here: conditions and formulas from words."""

from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlmodel import Session, select

from ingestion.policy_kind import parse_bound, parse_formula_text
from models.policy import Policy
from services.imports.policies import import_policies
from services.policy.service import load_policies

HEADER = ["政策名称", "发文机关", "政策层级", "文号", "生效日期", "有效期至", "扶持方式",
          "扶持金额（万元）", "计算方式", "资质要求", "适用地区", "适用行业", "营业收入要求",
          "成立年限", "研发投入占比", "入驻银行贷款", "上市里程碑", "适用担保方式", "其他条件"]  # fmt: skip
ROWS: list[list[Any]] = [
    ["南山区研发补助（测试）", "南山区科技创新局（测试）", "区级", "南测〔2025〕1号", "2025年1月",
     "2027-12-31", "研发补助", None, "按研发投入的10%，最高200万元", "高新技术企业、专精特新",
     "深圳市南山区", "软件和信息技术服务业、C39", "≤2亿", "1年以上", "≥5%", None, None, None,
     None],
    ["深圳市贴息（测试）", "深圳市地方金融管理局（测试）", "市级", None, "2025-03-01", None,
     "贴息", None, "实付利息的50%，最高50万元", "科技型中小企业", "深圳市", None, None, None, None,
     "近12个月", None, "知识产权质押", '{"type": "patents", "min": 1}'],
    ["上市奖励（测试）", "深圳市工业和信息化局（测试）", "市级", None, "2024-07-01", "2027-06-30",
     "上市奖励", None, "股改50万元；辅导备案100万元；上市200万元", None, "深圳市", None, None,
     None, None, None, "股改、辅导备案、上市", None, None],
    ["高企认定奖励（测试）", "福田区科技创新局（测试）", "区级", None, "2025-01-01", None,
     "认定奖励", 20, None, "高新技术企业", "福田区", None, None, None, None, None, None, None,
     None],
    ["坏行：计算方式无法识别", "某局（测试）", "市级", None, "2025-01-01", None, "研发补助", None,
     "视情况而定", None, None, None, None, None, None, None, None, None, None],
    ["坏行：失效早于生效", "某局（测试）", "市级", None, "2025-01-01", "2024-01-01", "研发补助",
     10, None, None, None, None, None, None, None, None, None, None, None],
    ["坏行：层级不明", "某局（测试）", "乡级", None, "2025-01-01", None, "研发补助", 10, None,
     None, None, None, None, None, None, None, None, None, None],
    ["南山区研发补助（测试）", "南山区科技创新局（测试）", "区级", "南测〔2025〕1号", "2025年1月",
     "2027-12-31", "研发补助", None, "按研发投入的10%，最高200万元", "高新技术企业、专精特新",
     "深圳市南山区", None, None, None, None, None, None, None, None],
]  # fmt: skip


def _workbook(path: Path) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "政策目录"
    sheet.append(["2026年科技金融政策目录（测试）"])
    sheet.append(HEADER)
    for row in ROWS:
        sheet.append(row)
    book.save(path)
    return path


def test_import_policy_spreadsheet(session: Session, tmp_path: Path) -> None:
    summary = import_policies(session, _workbook(tmp_path / "政策.xlsx"), user="tester")
    assert (summary.rows_read, summary.inserted, summary.merged, summary.quarantined) == (
        8,
        4,
        1,
        3,
    )
    reasons = "\n".join(summary.quarantine_samples)
    assert "无法识别的计算方式" in reasons and "失效日期早于生效日期" in reasons
    assert "政策层级" in reasons
    # Cells are normalised on the way in: full-width brackets become half-width.
    by_title = {
        p.title.replace("(", "（").replace(")", "）"): p for p in session.exec(select(Policy))
    }
    rd = by_title["南山区研发补助（测试）"]
    assert rd.effective_on == date(2025, 1, 1) and rd.level == "district"
    assert rd.formula == {
        "kind": "percent",
        "base": "rd_expense",
        "percent": 10.0,
        "cap_wan": 200.0,
    }
    assert {"type": "revenue", "min": None, "max": 20000.0} in rd.conditions
    assert {"type": "years_operating", "min": 1.0, "max": None} in rd.conditions
    assert {"type": "region", "prefixes": ["440305"]} in rd.conditions
    assert {"type": "industry", "codes": ["I65", "C39"]} in rd.conditions
    loan = by_title["深圳市贴息（测试）"]
    assert loan.loan_scope == {"collateral": ["ip_pledge"]}
    assert {"type": "resident_bank_loan", "within_months": 12} in loan.conditions
    assert {"type": "patents", "min": 1.0} in loan.conditions
    listing = by_title["上市奖励（测试）"]
    assert listing.formula["amounts"] == {
        "shareholding_reform": 50.0,
        "coaching_filing": 100.0,
        "listed": 200.0,
    }
    assert by_title["高企认定奖励（测试）"].amount_wan == 20
    assert len(load_policies(session)) == 4  # every imported policy parses for the calculator


def test_reimport_is_unchanged(session: Session, tmp_path: Path) -> None:
    path = _workbook(tmp_path / "政策.xlsx")
    import_policies(session, path)
    again = import_policies(session, path)
    assert (again.inserted, again.unchanged, again.merged) == (0, 4, 1)


def test_bounds_and_formulas_in_words() -> None:
    assert parse_bound("≤500") == (None, 500.0)
    assert parse_bound("3年以上") == (3.0, None)
    assert parse_bound("1-10") == (1.0, 10.0)
    assert parse_bound("2000万-2亿", money=True) == (2000.0, 20000.0)
    assert parse_formula_text("贴息1.5个百分点") == {"kind": "interest_points", "points": 1.5}
    assert parse_formula_text("担保费的50%（费率2%）") == {
        "kind": "guarantee_fee_share", "percent": 50.0, "fee_rate_pct": 2.0}  # fmt: skip
    assert parse_formula_text("入池贷款利率不超过3.85%") == {
        "kind": "rate_cap",
        "max_rate_pct": 3.85,
    }
    assert parse_formula_text("每人2万元，最多20人") == {
        "kind": "per_head", "base": "rd_staff", "per_head_wan": 2.0, "max_heads": 20}  # fmt: skip
