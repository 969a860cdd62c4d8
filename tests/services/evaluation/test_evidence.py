"""Evidence files on 表B.1 items (SHA-256, size and type limits, refusals change nothing), the
self-assessment pre-filled from 表A.1/表B.1, and its sign-off."""

import hashlib
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func
from sqlmodel import Session, select

from models import AuditLog, EvidenceFile, ReportSignoff
from models.errors import DomainError, NotFoundError
from services.evaluation import (
    Period,
    attach_evidence,
    create_period,
    self_assessment_xlsx,
    set_target,
    sign_off,
)
from services.evaluation.evidence import MAX_EVIDENCE_BYTES
from tests.services.evaluation import scenario

PDF = "%PDF-1.7\n% 中心年度工作总结\n".encode()


def _state(session: Session) -> tuple[int, int]:
    files = session.exec(select(func.count()).select_from(EvidenceFile)).one()
    return files, session.exec(select(func.count()).select_from(AuditLog)).one()


def test_an_evidence_file_is_kept_with_its_sha256(session: Session) -> None:
    period = create_period(session, "2025年度", Period.year(2025).start, Period.year(2025).end)
    row = attach_evidence(session, int(period.id or 0), "b1_team", "团队花名册.pdf", PDF, "mm")
    assert row.sha256 == hashlib.sha256(PDF).hexdigest() and row.size == len(PDF)
    assert row.content == PDF and row.content_type == "application/pdf"
    assert _state(session) == (1, 1)


@pytest.mark.parametrize(
    ("item", "name", "data", "reason"),
    [
        ("b1_team", "名单.exe", b"MZ....", "类型不受理"),
        ("b1_team", "名单.pdf", b"\x89PNG\r\n\x1a\n....", "内容与扩展名不符"),
        ("b1_team", "名单.pdf", b"", "为空"),
        ("b1_team", "名单.pdf", b"%PDF-" + b"0" * MAX_EVIDENCE_BYTES, "超过 10 MB 上限"),
        ("b9_unknown", "名单.pdf", PDF, "未知的表B.1指标代码"),
    ],
)
def test_a_refused_upload_leaves_the_database_unchanged(
    session: Session, item: str, name: str, data: bytes, reason: str
) -> None:
    period = create_period(session, "2025年度", Period.year(2025).start, Period.year(2025).end)
    before = _state(session)
    with pytest.raises(DomainError, match=reason):
        attach_evidence(session, int(period.id or 0), item, name, data, "mm")
    assert _state(session) == before


def test_evidence_for_a_missing_period_is_refused(session: Session) -> None:
    with pytest.raises(NotFoundError):
        attach_evidence(session, 999, "b1_team", "a.pdf", PDF, "mm")
    assert _state(session) == (0, 0)


def test_the_self_assessment_is_prefilled_and_its_sign_off_hashes_the_file(
    session: Session,
) -> None:
    scenario.build(session)
    set_target(session, 2025, "credit_amount", 1000, "计划员")
    period = create_period(session, "2025年度", Period.year(2025).start, Period.year(2025).end)
    attach_evidence(session, int(period.id or 0), "b1_team", "团队花名册.pdf", PDF, "mm")
    wb = load_workbook(io.BytesIO(self_assessment_xlsx(session, period)))
    assert wb.sheetnames == ["自评报告", "表A.1", "表B.1", "季度趋势", "佐证材料", "签署"]
    cover = {r[0]: r[1:] for r in wb["自评报告"].iter_rows(min_row=4, values_only=True)}
    assert "撮合贷款金额（万元） 目标 1000，完成 750（75.0%）" in cover["一、年度计划完成情况"][0]
    assert all(r[1] == "（请在此填写自评说明）" for r in cover.values())
    a_rows = {r[1]: r for r in wb["表A.1"].iter_rows(values_only=True) if r[1]}
    assert a_rows["撮合贷款金额（万元）"][2:9] == (750, None, 1000, 750, 0.75, 888, -0.1554)
    files = list(wb["佐证材料"].iter_rows(min_row=4, values_only=True))
    assert files[0][2] == "团队花名册.pdf" and files[0][5] == hashlib.sha256(PDF).hexdigest()

    signed = sign_off(session, int(period.id or 0), "eva", "中心负责人")
    assert signed.report_sha256 == hashlib.sha256(signed.content).hexdigest()
    assert load_workbook(io.BytesIO(signed.content))["签署"]["A4"].value is None  # signed as it was
    again = load_workbook(io.BytesIO(self_assessment_xlsx(session, period)))
    assert [r[:2] for r in again["签署"].iter_rows(min_row=4, max_row=4, values_only=True)] == [
        ("eva", "中心负责人")
    ]
    with pytest.raises(DomainError, match="签署身份"):
        sign_off(session, int(period.id or 0), "eva", "  ")
    assert session.exec(select(func.count()).select_from(ReportSignoff)).one() == 1
