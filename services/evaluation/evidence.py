"""Evidence files attached to 表B.1 items (kept with their SHA-256) and the self-assessment's
sign-off (who, in what role, when, and the hash of the file they signed).

Every check runs before anything is written: a refused upload leaves the database unchanged.
"""

import hashlib
from pathlib import PurePath

from sqlmodel import Session

from models import EvaluationPeriod, EvidenceFile, ReportSignoff
from models.crud import add, get_or_404
from models.errors import DomainError
from models.reference import APPENDIX_B_BY_CODE
from services.audit.repository import append_audit
from services.evaluation.self_assessment import self_assessment_xlsx

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
ZIP, OLE = b"PK\x03\x04", b"\xd0\xcf\x11\xe0"
# Accepted kinds: suffix → (content type, the bytes such a file starts with).
EVIDENCE_TYPES: dict[str, tuple[str, bytes]] = {
    ".pdf": ("application/pdf", b"%PDF-"),
    ".png": ("image/png", b"\x89PNG\r\n\x1a\n"),
    ".jpg": ("image/jpeg", b"\xff\xd8\xff"),
    ".jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ZIP),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ZIP),
    ".doc": ("application/msword", OLE),
    ".xls": ("application/vnd.ms-excel", OLE),
}
ACCEPTED = "、".join(EVIDENCE_TYPES)


def check_evidence(item_code: str, filename: str, data: bytes) -> str:
    """The file's content type, or a DomainError naming the file and the reason."""
    if item_code not in APPENDIX_B_BY_CODE:
        raise DomainError(f"未知的表B.1指标代码“{item_code}”", field="item_code")
    name = PurePath(filename).name
    if not name or len(name) > 200:
        raise DomainError("佐证材料须有文件名（最长 200 字符）", field="file")
    kind = EVIDENCE_TYPES.get(PurePath(name).suffix.lower())
    if kind is None:
        raise DomainError(f"文件“{name}”的类型不受理，可上传：{ACCEPTED}", field="file")
    if not data:
        raise DomainError(f"文件“{name}”为空", field="file")
    if len(data) > MAX_EVIDENCE_BYTES:
        raise DomainError(
            f"文件“{name}”超过 {MAX_EVIDENCE_BYTES // (1024 * 1024)} MB 上限", field="file"
        )
    if not data.startswith(kind[1]):
        raise DomainError(f"文件“{name}”的内容与扩展名不符", field="file")
    return kind[0]


def attach_evidence(
    session: Session, period_id: int, item_code: str, filename: str, data: bytes, actor: str
) -> EvidenceFile:
    """Store an evidence file for one 表B.1 item of an evaluation period; audited."""
    get_or_404(session, EvaluationPeriod, period_id)
    content_type = check_evidence(item_code, filename, data)
    digest = hashlib.sha256(data).hexdigest()
    row = add(session, EvidenceFile(
        period_id=period_id, item_code=item_code, filename=PurePath(filename).name,
        content_type=content_type, size=len(data), sha256=digest, content=data,
        uploaded_by=actor,
    ))  # fmt: skip
    append_audit(session, actor=actor, action="evidence", entity="evidence_file",
                 entity_id=row.id, detail={"item": item_code, "sha256": digest})  # fmt: skip
    return row


def sign_off(session: Session, period_id: int, signer: str, role: str) -> ReportSignoff:
    """Sign the period's self-assessment as it stands: the file is kept with its SHA-256."""
    period = get_or_404(session, EvaluationPeriod, period_id)
    role = role.strip()
    if not role or len(role) > 80:
        raise DomainError("请填写签署身份（如 中心负责人），最长 80 字符", field="role")
    content = self_assessment_xlsx(session, period)
    digest = hashlib.sha256(content).hexdigest()
    row = add(session, ReportSignoff(
        period_id=period_id, signed_by=signer, role=role, report_sha256=digest,
        filename=f"self-assessment-{period_id}-signed.xlsx", content=content,
    ))  # fmt: skip
    append_audit(session, actor=signer, action="sign_off", entity="report_signoff",
                 entity_id=row.id, detail={"period": period_id, "role": role, "sha256": digest})  # fmt: skip
    return row
