"""A district workbook (real xlsx, made here) keeps what it holds: contacts under the consent
rules, 期限 and 保密要求, industries mapped, a 元 amount held for review, every warning listed and
stored; a preview and a refused file leave the database as it was; the templates import."""

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, func, select

from ingestion.uscc import make_uscc
from models import (
    AuditLog,
    ContactPerson,
    Enterprise,
    Event,
    FinancingDemand,
    ImportBatch,
    ImportRow,
    ImportWarning,
    InvestmentMandate,
)
from models.base import utcnow
from models.errors import DomainError, NotFoundError
from models.reference import Confidentiality, ConsentScope, ImportKind, UserRole
from services.accounts.service import Principal
from services.disclosure.service import enterprise_view, record_consent
from services.imports.preview import preview_file
from services.imports.service import batch_warnings, import_file
from services.imports.templates import template_fields, template_header, write_template
from tests import factories
from tests.ingestion.helpers import write_xlsx

RNG = random.Random(23)
USCC = [make_uscc(RNG, "330106") for _ in range(4)]
HEADER = ["企业名称", "统一社会信用代码", "所属行业", "融资方式", "拟融资金额（万元）", "期限",
          "保密要求", "联系人", "职务", "联系电话", "邮箱"]  # fmt: skip
ROWS: list[list[Any]] = [
    ["杭州和雷实业股份有限公司", USCC[0], "人工智能", "信用贷款", 800, "1年", "保密", "张三",
     "财务总监", "13800138000", "zhangsan@example.com"],
    ["杭州光谷电子有限公司", USCC[1], "光电子器件制造", "股权融资", "500-1000", "24个月", None,
     "李四", "董秘", "0571-88886666", None],
    ["杭州元单位科技有限公司", USCC[2], "医疗器械", "贷款", 5_000_000, 12, None, "王五", None,
     "13900139000", None],  # 500 亿元: typed in 元 → review
    ["杭州未知行业有限公司", USCC[3], "做饭机器", "贷款", 300, None, None, None, None, "12345", None],
]  # fmt: skip


def _workbook(folder: Path, rows: list[list[Any]] = ROWS) -> Path:
    return write_xlsx(folder / "区县融资需求.xlsx", {"融资需求": [HEADER, *rows]})


def _counts(session: Session) -> dict[str, int]:
    tables = (Enterprise, FinancingDemand, ContactPerson, ImportBatch, ImportRow, ImportWarning,
              AuditLog)  # fmt: skip
    return {t.__name__: session.exec(select(func.count()).select_from(t)).one() for t in tables}


def test_a_district_workbook_keeps_what_it_reads(session: Session, tmp_path: Path) -> None:
    summary = import_file(session, _workbook(tmp_path), user="王专员")
    assert (summary.inserted, summary.quarantined, summary.contacts_stored) == (3, 1, 2)
    firms = {e.uscc: e for e in session.exec(select(Enterprise))}
    assert (firms[USCC[0]].industry_code, firms[USCC[0]].sei_category) == ("I65", "1")
    assert (firms[USCC[1]].industry_code, firms[USCC[1]].sei_category) == ("C39", "1")
    assert firms[USCC[3]].industry_code is None and USCC[2] not in firms  # held for review
    demands = {d.enterprise_id: d for d in session.exec(select(FinancingDemand))}
    first = demands[firms[USCC[0]].id or 0]
    assert (first.term_months, first.confidentiality) == (12, Confidentiality.confidential)
    assert demands[firms[USCC[1]].id or 0].term_months == 24
    contacts = {c.name: c for c in session.exec(select(ContactPerson))}
    assert set(contacts) == {"张三", "李四"}
    assert (contacts["张三"].title, contacts["张三"].phone, contacts["张三"].email) == (
        "财务总监", "13800138000", "zhangsan@example.com")  # fmt: skip
    assert contacts["李四"].enterprise_id == firms[USCC[1]].id


def test_every_warning_is_in_the_summary_and_stored(session: Session, tmp_path: Path) -> None:
    summary = import_file(session, _workbook(tmp_path))
    listed = [(w.row, w.column, w.rule) for w in summary.warnings]
    assert (4, "拟融资金额(万元)", "amount_unit") in listed
    assert (5, "所属行业", "industry_unmapped") in listed
    assert (5, "联系电话", "contact_format") in listed
    as_json = summary.as_dict()["warnings"]
    assert all(set(w) == {"sheet", "row", "column", "value", "rule", "message"} for w in as_json)
    assert {"sheet": "融资需求", "row": 4, "column": "拟融资金额(万元)", "value": 5_000_000,
            "rule": "amount_unit"}.items() <= as_json[0].items()  # fmt: skip
    stored = batch_warnings(session, summary.batch_id, 100)
    assert [(w.row_number, w.rule) for w in stored] == [(w.row, w.rule) for w in summary.warnings]
    review = session.exec(select(ImportRow).where(ImportRow.row_number == 4)).one()
    assert review.reason and "待复核" in review.reason and "疑为以“元”填写" in review.reason
    batch = session.get(ImportBatch, summary.batch_id)
    assert batch is not None and batch.contacts_stored == 2


def test_a_second_import_does_not_duplicate_contacts(session: Session, tmp_path: Path) -> None:
    import_file(session, _workbook(tmp_path))
    again = import_file(session, _workbook(tmp_path))
    assert again.contacts_stored == 0
    assert session.exec(select(func.count()).select_from(ContactPerson)).one() == 2
    changed = [[*ROWS[0][:9], "13700137000", ROWS[0][10]]]
    third = import_file(session, write_xlsx(tmp_path / "新号码.xlsx", {"需求": [HEADER, *changed]}))
    assert third.contacts_stored == 1
    phones = {c.phone for c in session.exec(select(ContactPerson))}
    assert "13700137000" in phones and len(phones) == 2


def test_imported_contacts_reach_an_institution_only_under_consent(
    session: Session, tmp_path: Path
) -> None:
    import_file(session, _workbook(tmp_path))
    firm = session.exec(select(Enterprise).where(Enterprise.uscc == USCC[0])).one()
    bank = factories.institution(session)
    caller = Principal("bank_user", UserRole.institution, bank.id)
    with pytest.raises(NotFoundError):
        enterprise_view(session, caller, firm.id or 0)
    expires = utcnow() + timedelta(days=30)
    record_consent(session, enterprise_id=firm.id or 0, institution_id=bank.id or 0,
                   scopes=[ConsentScope.details], expires_at=expires, actor="mm")  # fmt: skip
    assert enterprise_view(session, caller, firm.id or 0).contacts is None
    record_consent(session, enterprise_id=firm.id or 0, institution_id=bank.id or 0,
                   scopes=[ConsentScope.details, ConsentScope.contacts], expires_at=expires,
                   actor="mm")  # fmt: skip
    shown = enterprise_view(session, caller, firm.id or 0).contacts
    assert shown is not None and [c.name for c in shown] == ["张三"]


def test_a_preview_reads_everything_and_writes_nothing(session: Session, tmp_path: Path) -> None:
    before = _counts(session)
    preview = preview_file(_workbook(tmp_path))
    assert preview.kind == "demands" and preview.kind_label == "融资需求"
    (sheet,) = preview.sheets
    assert (sheet.rows_read, sheet.rows_refused) == (4, 1)
    mapped = {c.label: c.field for c in sheet.columns}
    assert mapped["联系人"] == "contact_name" and mapped["期限"] == "term_months"
    assert [r.number for r in sheet.rows] == [2, 3, 4, 5]
    assert sheet.rows[2].problems and "待复核" in sheet.rows[2].problems
    assert {w.rule for w in preview.warnings} == {"amount_unit", "industry_unmapped",
                                                  "contact_format"}  # fmt: skip
    assert _counts(session) == before


def test_a_refused_file_leaves_the_database_unchanged(session: Session, tmp_path: Path) -> None:
    before = _counts(session)
    no_amount = write_xlsx(tmp_path / "缺列.xlsx", {"需求": [HEADER[:4], ROWS[0][:4]]})
    with pytest.raises(DomainError, match="缺少融资需求的必填列"):
        import_file(session, no_amount)
    with pytest.raises(DomainError, match="缺少融资需求的必填列"):
        preview_file(no_amount)
    assert _counts(session) == before


@pytest.mark.parametrize("kind", list(ImportKind))
def test_each_template_maps_every_column_and_imports_its_example(
    session: Session, tmp_path: Path, kind: ImportKind
) -> None:
    for needed in (ImportKind.institutions, ImportKind.enterprises):
        if kind in (ImportKind.products, ImportKind.mandates, ImportKind.deals) and (
            needed is ImportKind.institutions or kind is ImportKind.deals
        ):
            import_file(session, write_template(needed, tmp_path / f"{needed.value}.xlsx"), needed)
    out = write_template(kind, tmp_path / f"模板-{kind.value}.xlsx")
    book = load_workbook(out)
    assert book.sheetnames == ["数据", "填写说明"]
    header = [c.value for c in book["数据"][1]]
    assert header == [template_header(kind, f) for f in template_fields(kind)]
    summary = import_file(session, out, kind)
    assert (summary.rows_read, summary.inserted, summary.quarantined) == (1, 1, 0)
    assert summary.unmapped_columns == [] and "工作表“填写说明”为填写说明，未导入" in summary.notes
    if kind is ImportKind.mandates:  # columns no import used to keep
        assert session.exec(select(InvestmentMandate.sei_categories)).one() == ["1", "4"]
    if kind is ImportKind.events:
        assert session.exec(select(Event.venue)).one() == "科技金融服务中心 1 号路演厅"
