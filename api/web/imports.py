"""The import page: download a template, upload a spreadsheet, check its preview (mapped
columns, first rows, warnings), confirm the load, read its batch summary, download the
quarantined rows, and work the duplicate review queue."""

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from api.deps import PathId, SessionDep, SettingsDep
from api.uploads import checked_name, discard_preview, preview_folder, previewed_file
from api.web.auth import Posted, StaffUser
from api.web.render import ConsoleRoute, redirect, render
from ingestion.headers import SYNONYMS
from models import ImportBatch
from models.crud import get_or_404
from models.errors import DomainError
from models.paging import rows_of
from models.reference import ImportKind
from services.imports.duplicates import merge_candidate, pending_candidates, reject_candidate
from services.imports.preview import preview_file
from services.imports.service import (
    batch_review,
    batch_warnings,
    export_quarantine,
    import_file,
    render_summary,
)
from services.imports.templates import write_template

router = APIRouter(route_class=ConsoleRoute)
SUFFIXES = (".xlsx", ".xlsm", ".csv", ".tsv", ".txt")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Warnings a console page lists (the batch's JSON summary and `import_warning` keep every one).
WARNINGS_SHOWN = 500


@router.get("/imports")
def imports(request: Request, session: SessionDep, _: StaffUser) -> Response:
    """Upload form, recent batches and the duplicate review queue."""
    return render(request, "imports.html", title="数据导入", kinds=list(ImportKind),
                  template_kinds=[k for k in ImportKind if k in SYNONYMS],
                  batches=rows_of(session, ImportBatch, limit=15),
                  duplicates=pending_candidates(session, limit=50))  # fmt: skip


@router.post("/imports")
def upload(request: Request, settings: SettingsDep, _user: StaffUser, _: Posted,
           file: Annotated[UploadFile, File()],
           kind: Annotated[ImportKind | None, Form()] = None) -> Response:  # fmt: skip
    """Keep the upload and show its preview; nothing is loaded until it is confirmed."""
    token, folder = preview_folder(settings)
    try:
        preview = preview_file(_saved(file, folder), kind)
    except BaseException:
        discard_preview(settings, token)
        raise
    return render(request, "import_preview.html", title=f"导入预览：{preview.file_name}",
                  preview=preview, token=token, kind=kind.value if kind else preview.kind,
                  warnings=preview.warnings[:WARNINGS_SHOWN])  # fmt: skip


@router.post("/imports/preview/{token}")
def confirm(request: Request, token: str, session: SessionDep, settings: SettingsDep,
            user: StaffUser, _: Posted, kind: Annotated[ImportKind, Form()]) -> Response:  # fmt: skip
    """Load the previewed file as one batch and show its summary."""
    path = previewed_file(settings, token)
    summary = import_file(session, path, kind, user=user.principal.username)
    discard_preview(settings, token)
    return render(request, "import_summary.html", title=f"导入批次 #{summary.batch_id}",
                  summary=summary, text=render_summary(summary),
                  warnings=summary.warnings[:WARNINGS_SHOWN],
                  kind_label=ImportKind(summary.kind).label)  # fmt: skip


@router.post("/imports/preview/{token}/cancel")
def cancel(token: str, settings: SettingsDep, _user: StaffUser, _: Posted) -> Response:
    """Drop the previewed file: nothing was loaded."""
    discard_preview(settings, token)
    return redirect("/console/imports", "已取消导入，未写入任何数据")


@router.get("/imports/templates/{kind}.xlsx")
def template(kind: ImportKind, _: StaffUser) -> Response:
    """The template workbook of one import kind."""
    folder = Path(tempfile.mkdtemp(prefix="mm-template-"))
    out = write_template(kind, folder / f"导入模板-{kind.label}.xlsx")
    return FileResponse(out, filename=out.name, background=BackgroundTask(_remove, folder),
                        media_type=XLSX)  # fmt: skip


def _saved(upload: UploadFile, folder: Path) -> Path:
    """The upload on disk under its own base name (the importer reads names and suffixes)."""
    name = checked_name(upload.filename, "upload.xlsx")
    if Path(name).suffix.lower() not in SUFFIXES:
        raise DomainError(f"不支持的文件类型“{name}”，请上传 .xlsx 或 .csv 文件", field="file")
    path = folder / name
    with path.open("wb") as out:
        while block := upload.file.read(1 << 20):
            out.write(block)
    return path


@router.get("/imports/{batch_id}")
def batch(request: Request, batch_id: PathId, session: SessionDep, _: StaffUser) -> Response:
    """One stored batch: its counters, change set, rows held for review and where to download
    its quarantined rows."""
    row = get_or_404(session, ImportBatch, batch_id)
    changes, held = batch_review(session, batch_id)
    return render(request, "import_batch.html", title=f"导入批次 #{batch_id}", batch=row,
                  kind_label=ImportKind(row.kind).label, changes=changes, held=held,
                  warnings=batch_warnings(session, batch_id, WARNINGS_SHOWN))  # fmt: skip


@router.get("/imports/{batch_id}/quarantine.xlsx")
def quarantine(batch_id: PathId, session: SessionDep, _: StaffUser) -> Response:
    """The quarantined rows as an .xlsx the submitter can fix and import again."""
    folder = Path(tempfile.mkdtemp(prefix="mm-quarantine-"))
    out = folder / f"隔离数据-批次{batch_id}.xlsx"
    export_quarantine(session, batch_id, out)
    return FileResponse(out, filename=out.name, background=BackgroundTask(_remove, folder),
                        media_type=XLSX)  # fmt: skip


def _remove(folder: Path) -> None:
    for item in folder.iterdir():
        item.unlink()
    folder.rmdir()


@router.post("/duplicates/{candidate_id}/merge")
def merge(candidate_id: PathId, session: SessionDep, user: StaffUser, _: Posted) -> Response:
    """Merge the pair: the newer record folds into the older one."""
    kept = merge_candidate(session, candidate_id, user.principal.username)
    return redirect(
        "/console/imports#duplicates", f"已合并疑似重复 #{candidate_id}，保留企业 {kept}"
    )


@router.post("/duplicates/{candidate_id}/reject")
def reject(candidate_id: PathId, session: SessionDep, user: StaffUser, _: Posted) -> Response:
    """Keep the pair apart: they are different enterprises."""
    reject_candidate(session, candidate_id, user.principal.username)
    return redirect("/console/imports#duplicates", f"已确认 #{candidate_id} 为不同企业")
