"""Importing a file (`import_file`) and exporting a batch's quarantined rows.

It never commits: the caller's unit of work (`models.db.session_scope`, or the request) does,
so a file that fails halfway leaves the database exactly as it was before the batch.
"""

from __future__ import annotations

import gc
import hashlib
import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session

from ingestion.headers import HeaderMap, load_mapping, map_headers
from ingestion.quarantine import write_quarantine
from ingestion.readers import Sheet, Source, open_source
from ingestion.validate import FIELD_LABELS, REQUIRED, RowHeld, RowParser, RowRejected
from models import ImportBatch, ImportWarning
from models.errors import DomainError, NotFoundError
from models.reference import ImportKind, ImportOutcome
from services.audit.repository import append_audit
from services.imports import repository
from services.imports.kinds import ENTERPRISE_LABELS, Loader
from services.imports.load import CHUNK_SIZE, BatchWriter, ImportSummary, close_batch, new_batch
from services.pipeline.links import link_new_deals, recount

Progress = Callable[[int], None]
#: Warnings the text summary quotes (the JSON and the batch page list every one).
WARNINGS_SHOWN = 5
#: First-generation threshold of the garbage collector while a file loads (default 700).
GC_THRESHOLD = 50_000
#: The thresholds saved by the imports running at once on several threads (the web server).
_SAVED: list[tuple[int, ...]] = []
_SAVED_LOCK = threading.Lock()


def file_sha256(path: Path) -> str:
    """SHA-256 of the file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def as_kind(kind: ImportKind | str | None) -> ImportKind | None:
    """An `ImportKind` from its value ('demands') or Chinese label ('融资需求')."""
    if kind is None or isinstance(kind, ImportKind):
        return kind
    try:
        return ImportKind.from_label(kind)
    except ValueError:
        choices = "、".join(f"{k.value}（{k.label}）" for k in ImportKind)
        raise DomainError(f"未知的导入类型“{kind}”，可选：{choices}", field="kind") from None


def import_file(
    session: Session,
    path: Path,
    kind: ImportKind | str | None = None,
    sheet: str | None = None,
    mapping: Path | None = None,
    user: str = "system",
    *,
    chunk_size: int = CHUNK_SIZE,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import one spreadsheet as one batch; every row read gets exactly one outcome.

    `kind` is detected from the header when not given; `mapping` is a file of header → field
    overrides (JSON or `列名 = field` lines). `progress` is called with the rows done after each
    chunk. Raises `DomainError` (Chinese message) for a file that cannot be imported at all.
    """
    overrides, mapped_kind = load_mapping(mapping) if mapping else ({}, None)
    wanted = as_kind(kind) or mapped_kind
    source = open_source(path, wanted, sheet, overrides)
    request = _Request(path, wanted, sheet, overrides, user, chunk_size, progress)
    try:
        with _fewer_collections():
            return _import_source(session, source, request)
    finally:
        source.close()


@dataclass(frozen=True, slots=True)
class _Request:
    """What `import_file` was asked, as the steps below need it."""

    path: Path
    wanted: ImportKind | None
    sheet: str | None
    overrides: dict[str, str]
    user: str
    chunk_size: int
    progress: Progress | None


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often while a file loads, then as before.

    A load allocates millions of short-lived objects; with the default first-generation
    threshold (700) the collector runs thousands of times: ~15 % of an import's CPU. At
    `GC_THRESHOLD` it saves most of that (with the objects from before the import frozen, peak
    RSS of a 100,000-row CSV stays within 2 MB of what the threshold 10,000 gave).
    """
    with _SAVED_LOCK:  # the first to start lowers the rate, the last to finish restores it
        _SAVED.append(gc.get_threshold())
        if len(_SAVED) == 1:
            gc.set_threshold(max(_SAVED[0][0], GC_THRESHOLD), *_SAVED[0][1:])
            gc.freeze()  # what was there before is not scanned again: full collections cost less
    try:
        yield
    finally:
        with _SAVED_LOCK:
            saved = _SAVED.pop()
            if not _SAVED:
                gc.set_threshold(*saved)
                gc.unfreeze()


def _import_source(session: Session, source: Source, request: _Request) -> ImportSummary:
    path, wanted, user = request.path, request.wanted, request.user
    kind = batch_kind(source, wanted)
    sheets = [s for s in source.sheets if wanted is not None or s.kind is kind]
    headers = [checked_header(s, kind, request.overrides) for s in sheets]
    sha = file_sha256(path)
    first = sheets[0].name if len(sheets) == 1 and sheets[0].name else None
    batch, previous = new_batch(
        session, file_name=path.name, sha256=sha, kind=kind, sheet=request.sheet or first, user=user
    )
    assert batch.id is not None
    summary = ImportSummary(batch.id, path.name, sha, kind.value, encoding=source.encoding)
    summary.previous_batch_id = previous
    summary.notes.extend(source.notes)
    summary.notes.extend(f"工作表“{s.name}”识别为其他类型（{s.kind.label if s.kind else '未知'}），未导入"
                         for s in source.sheets if s not in sheets)  # fmt: skip
    writer = BatchWriter(session, batch, summary)
    loader = Loader(session, kind, writer)
    for current, header in zip(sheets, headers, strict=True):
        _describe_sheet(summary, current, header)
        _load_sheet(loader, writer, current, header, request)
        summary.skipped_blank += current.skipped.blank
        summary.skipped_subtotal.extend(_where(current.name, n) for n in current.skipped.subtotal)
    summary.related = dict(sorted(loader.related.items()))
    summary.contacts_stored = loader.contacts_stored
    if kind is ImportKind.deals:
        _link_deals(session, summary, user)
    close_batch(session, batch, summary)
    append_audit(session, actor=user, action="import", entity="import_batch", entity_id=batch.id,
                 detail=_audit_detail(summary))  # fmt: skip
    return summary


def _link_deals(session: Session, summary: ImportSummary, user: str) -> None:
    """Tie the batch's deals to their introductions; the others join the 待关联成交 queue."""
    done = link_new_deals(session, repository.batch_entity_ids(session, summary.batch_id), user)
    updated = repository.batch_entity_ids(session, summary.batch_id, ImportOutcome.updated)
    note = f"导入批次 #{summary.batch_id} 更正了已关联的成交"
    recounted = recount(session, updated, user, note)
    if recounted:
        summary.related["demands_recounted"] = len(recounted)
    summary.related["deals_linked"] = len(done.linked)
    summary.related["deals_unlinked"] = len(done.queued)
    if done.queued:
        summary.notes.append(f"{len(done.queued)} 笔成交未能唯一对应已引荐的撮合，已列入待关联成交"
                             "（matchmaker deals unlinked）")  # fmt: skip


def batch_kind(source: Source, wanted: ImportKind | None) -> ImportKind:
    """The kind the file is imported as: the one asked for, else its first sheet's."""
    if not source.sheets:
        raise DomainError("文件中未找到可识别的表头（应含“企业名称”“统一社会信用代码”等列）")
    kind = wanted or source.sheets[0].kind
    if kind is None:
        raise DomainError("无法从表头判断导入类型，请用 --kind 指定")
    return kind


def checked_header(current: Sheet, kind: ImportKind, overrides: dict[str, str]) -> HeaderMap:
    """The sheet's header mapped to `kind`'s fields; `DomainError` if a required one is missing."""
    header = map_headers(current.columns, kind, overrides)
    mapped = set(header.fields.values())
    missing = [need for need in REQUIRED[kind] if not set(need.split("|")) & mapped]
    if missing:
        names = "、".join(
            "或".join(FIELD_LABELS.get(f, f) for f in need.split("|")) for need in missing
        )
        where = f"工作表“{current.name}”" if current.name else "文件"
        unmapped = "、".join(header.unmapped) or "无"
        raise DomainError(
            f"{where}缺少{kind.label}的必填列：{names}（未识别的列：{unmapped}；可用 --mapping 指定列对应）"
        )
    return header


def _describe_sheet(summary: ImportSummary, current: Sheet, header: HeaderMap) -> None:
    summary.sheets.append(current.name or "(CSV)")
    summary.unmapped_columns.extend(c for c in header.unmapped if c not in summary.unmapped_columns)
    summary.fuzzy_headers.update(header.fuzzy)


def _load_sheet(
    loader: Loader,
    writer: BatchWriter,
    current: Sheet,
    header: HeaderMap,
    request: _Request,
) -> None:
    parser = RowParser(current.name, header)
    while chunk := list(itertools.islice(current.rows, request.chunk_size)):
        parsed = parser.parse_many(chunk)
        loader.prefetch(row for row in parsed if not row.problems)
        for row in parsed:
            if row.problems:
                writer.quarantine(row)
                continue
            try:
                outcome, entity_id = loader.handle(row)
            except RowHeld as exc:
                writer.hold(row, exc.problem)
                continue
            except RowRejected as exc:
                writer.quarantine(row, [exc.problem])
                continue
            writer.record(row, outcome, entity_id)
        loader.flush()
        if request.progress is not None:
            request.progress(writer.summary.rows_read)


def _where(sheet: str, number: int) -> str:
    return f"{sheet}!{number}" if sheet else str(number)


def _audit_detail(summary: ImportSummary) -> dict[str, Any]:
    keys = (
        "file_name",
        "sha256",
        "kind",
        "rows_read",
        "inserted",
        "updated",
        "unchanged",
        "merged",
        "quarantined",
        "held",
        "review",
        "changes_total",
        "contacts_stored",
    )
    return {k: getattr(summary, k) for k in keys}


def batch_warnings(session: Session, batch_id: int, limit: int) -> list[ImportWarning]:
    """The first `limit` warnings stored for a batch, in sheet and row order."""
    return repository.warnings_of(session, batch_id, limit)


def export_quarantine(session: Session, batch_id: int, out: Path) -> int:
    """Write the batch's quarantined rows to `out` (.xlsx); return how many were written."""
    if session.get(ImportBatch, batch_id) is None:
        raise NotFoundError(f"导入批次 {batch_id} 不存在")
    return write_quarantine(repository.quarantined_rows(session, batch_id), batch_id, out)


def batch_review(
    session: Session, batch_id: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A stored batch's change set and its rows held for review, as the summary lists them."""
    changes = [
        {"enterprise_id": c.enterprise_id, "legal_name": name, "sheet": c.sheet,
         "row": c.row_number, "field": c.field, "label": ENTERPRISE_LABELS.get(c.field, c.field),
         "old": c.old_value, "new": c.new_value}
        for c, name in repository.batch_changes(session, batch_id)
    ]  # fmt: skip
    held = [{"sheet": r.sheet, "row": r.row_number, "message": r.reason}
            for r in repository.held_rows(session, batch_id)]  # fmt: skip
    return changes, held


def render_summary(summary: ImportSummary) -> str:
    """A readable Chinese summary of one import batch."""
    kind = ImportKind(summary.kind).label
    lines = [
        f"导入批次 #{summary.batch_id}：{summary.file_name}（{kind}，{'、'.join(summary.sheets)}"
        + (f"，编码 {summary.encoding}" if summary.encoding else "")
        + "）",
        f"读取 {summary.rows_read} 行：新增 {summary.inserted}，更新 {summary.updated}，未变 {summary.unchanged}，"
        f"合并 {summary.merged}，隔离 {summary.quarantined}，待复核 {summary.held}；疑似重复待复核 {summary.review}",
    ]
    if summary.changes_total:
        lines.append(f"变更已有企业 {summary.changes_total} 项（旧值→新值）：")
        lines.extend(f"  - {c['legal_name']}：{c['label']} {c['old'] or '（空）'} → {c['new']}"
                     for c in summary.changes[:20])  # fmt: skip
    if summary.held:
        lines.append("待复核的行（未导入）：")
        lines.extend(f"  - {r['message']}" for r in summary.held_rows[:20])
    if summary.related:
        lines.append("关联记录：" + "，".join(f"{k} {v}" for k, v in summary.related.items()))
    if summary.contacts_stored:
        lines.append(
            f"联系人：保存 {summary.contacts_stored} 位（个人信息，经企业授权方可向机构披露）"
        )
    if summary.warnings:
        lines.append(f"提示 {len(summary.warnings)} 条（--json 的 warnings 列出全部），例如：")
        lines.extend(f"  - {_where(w.sheet, w.row)} {w.column}：{w.message}"
                     for w in summary.warnings[:WARNINGS_SHOWN])  # fmt: skip
    if summary.skipped_blank or summary.skipped_subtotal:
        subtotal = "、".join(summary.skipped_subtotal) or "无"
        lines.append(f"跳过空行 {summary.skipped_blank} 行；合计/小计行：{subtotal}")
    if summary.unmapped_columns:
        lines.append("未识别的列（未导入）：" + "、".join(summary.unmapped_columns))
    if summary.fuzzy_headers:
        lines.append(
            "按近似匹配识别的列：" + "，".join(f"{k}→{v}" for k, v in summary.fuzzy_headers.items())
        )
    if summary.previous_batch_id:
        lines.append(f"提示：同一文件（SHA-256 相同）已于批次 #{summary.previous_batch_id} 导入过")
    lines.extend(f"提示：{note}" for note in summary.notes)
    if summary.quarantine_samples:
        lines.append("隔离原因示例：")
        lines.extend(f"  - {reason}" for reason in summary.quarantine_samples)
    return "\n".join(lines)
