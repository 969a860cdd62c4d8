"""A messy demand spreadsheet as a district science bureau sends one: the demo imports it."""

import random
from pathlib import Path

from openpyxl import Workbook
from sqlmodel import Session

from ingestion.safe_cells import append_row
from ingestion.uscc import make_uscc
from services.evaluation.repository import first_enterprises

HEADER_TOP = ["序号", "企业基本信息", None, None, "融资需求", None, None, None, "备注"]
HEADER = ["序号", "企业名称", "统一社会信用代码", "所属行业", "融资方式", "拟融资金额（万元）",
          "资金用途", "期望到位时间", "备注"]  # fmt: skip
AMOUNTS = ["500", "3.5亿", "1,200", "800万元", "２０００", "222.2222万元人民币", "300万"]
DATES = ["2026年9月", "2026-10-01", "2026/11/15", "2026.12", "46050"]
TYPES = ["信用贷款", "股权融资", "投贷联动", "知识产权质押贷款", "股权"]


def _known_rows(session: Session, rng: random.Random, count: int) -> list[list[object]]:
    rows: list[list[object]] = []
    for ent in first_enterprises(session, count):
        name = ent.legal_name.replace("(", "（").replace(")", "）")
        if rng.random() < 0.5:
            name = name.replace("有限公司", "有限责任公司") if "股份" not in name else name
        rows.append([name, ent.uscc if rng.random() < 0.7 else None, ent.industry_code])
    return rows


def _new_rows(rng: random.Random, count: int) -> list[list[object]]:
    brands = ["星澜", "云栖", "芯曜", "禾源", "朗拓", "深蓝", "极光", "青橙", "智钧", "安邦"]
    return [
        [f"深圳市{brands[i % len(brands)]}{i}号智能科技有限公司", make_uscc(rng, "440305"), "I65"]
        for i in range(count)
    ]


def _demand_cells(rng: random.Random, i: int) -> list[object]:
    return [TYPES[i % len(TYPES)], AMOUNTS[i % len(AMOUNTS)], "研发投入及产能扩建",
            DATES[i % len(DATES)]]  # fmt: skip


def _broken_rows(rng: random.Random) -> list[list[object]]:
    good = make_uscc(rng, "440306")
    bad_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    return [
        [
            "深圳市错码示例科技有限公司",
            bad_check,
            "C39",
            "信用贷款",
            "600",
            "流动资金",
            "2026年10月",
        ],
        [
            "深圳市缺额示例科技有限公司",
            make_uscc(rng, "440305"),
            "I65",
            "股权融资",
            "未披露",
            "市场拓展",
            "2026年12月",
        ],
        ["", "", "", "信用贷款", "100", "", ""],
    ]


def write_messy_demands(session: Session, path: Path, *, seed: int = 7) -> Path:
    """Write the demo's messy demand workbook to `path`."""
    rng = random.Random(seed)
    parties = _known_rows(session, rng, 12) + _new_rows(rng, 8)
    body = [p + _demand_cells(rng, i) for i, p in enumerate(parties)]
    body += [body[3][:]]  # the same row twice
    body += _broken_rows(rng)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "融资需求"
    append_row(sheet, ["2026年南山区科技型企业融资需求汇总表"])
    append_row(sheet, ["填报单位：南山区科技创新局　　　　填报日期：2026年6月"])
    append_row(sheet, HEADER_TOP)
    append_row(sheet, HEADER)
    for i, row in enumerate(body, start=1):
        append_row(sheet, [i, *row[:8], None])
        if i == 10:
            append_row(sheet, [None] * 9)
    append_row(sheet, ["合计", None, None, None, None, "—", None, None, None])
    for cells in ("A3:A4", "B3:D3", "E3:H3", "I3:I4"):
        sheet.merge_cells(cells)
    book.save(path)
    return path
