"""Spreadsheet imports: upload → batch summary; the batch's rows; its quarantine as .xlsx."""

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from api.deps import PageDep, PathId, SessionDep, SettingsDep, Staff
from api.schemas import ListOf
from api.uploads import checked_name, upload_folder
from models import ImportBatch, ImportRow
from models.crud import get_or_404
from models.errors import DomainError
from models.paging import page_of
from models.reference import ImportOutcome
from services.imports.service import export_quarantine, import_file

router = APIRouter(prefix="/imports", tags=["imports"])
ACCEPTED = (".xlsx", ".csv", ".tsv", ".txt")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportRowOut(BaseModel):
    """What became of one row read."""

    model_config = ConfigDict(from_attributes=True)

    row_number: int
    sheet: str
    outcome: ImportOutcome
    entity_id: int | None
    reason: str | None


def _suffix(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in ACCEPTED:
        raise DomainError(
            f"不支持的文件类型“{suffix or '无扩展名'}”，可上传：{'、'.join(ACCEPTED)}", field="file"
        )
    return suffix


def _read_capped(file: UploadFile, name: str, limit: int) -> bytes:
    # The body is capped while it streams (`api.guards`); the file alone is capped here.
    content = file.file.read(limit + 1)
    if len(content) > limit:
        raise DomainError(f"文件“{name}”超过 {limit // (1024 * 1024)} MB 上限", field="file")
    return content


@router.post("", response_model=dict[str, Any], status_code=201)
def upload(
    session: SessionDep,
    settings: SettingsDep,
    principal: Staff,
    file: Annotated[UploadFile, File(description="xlsx / csv / tsv")],
    kind: Annotated[
        str | None, Form(max_length=20, description="导入类型；不填则按表头识别")
    ] = None,
) -> dict[str, Any]:
    """Import an uploaded spreadsheet as one batch and return its summary."""
    name = checked_name(file.filename, "upload")
    with upload_folder(settings) as tmp:
        path = tmp / (Path(name).stem[:80] + _suffix(name))
        path.write_bytes(_read_capped(file, name, settings.max_body_bytes))
        summary = import_file(session, path, kind=kind, user=principal.username)
    return summary.as_dict()


@router.get("/{batch_id}/rows", response_model=ListOf[ImportRowOut])
def rows(batch_id: PathId, session: SessionDep, _: Staff, page: PageDep) -> ListOf[ImportRowOut]:
    """One line per row read: outcome, the record it touched, or the quarantine reason."""
    get_or_404(session, ImportBatch, batch_id)
    found, count = page_of(session, ImportRow, page.offset, page.limit, "id", batch_id=batch_id)
    return ListOf(data=[ImportRowOut.model_validate(r) for r in found], count=count)


@router.get(
    "/{batch_id}/quarantine.xlsx", response_class=Response, responses={200: {"content": {XLSX: {}}}}
)
def quarantine(batch_id: PathId, session: SessionDep, _: Staff) -> Response:
    """The quarantined rows with their reasons, to fix and re-import."""
    get_or_404(session, ImportBatch, batch_id)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "quarantine.xlsx"
        export_quarantine(session, batch_id, out)
        content = out.read_bytes()
    disposition = f'attachment; filename="quarantine-{batch_id}.xlsx"'
    return Response(content, media_type=XLSX, headers={"Content-Disposition": disposition})
