"""`matchmaker import` and `matchmaker duplicates …`: thin wrappers over `services.imports.service`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from models.db import session_scope
from models.errors import DomainError
from models.reference import ImportKind
from services.imports.duplicates import merge_candidate, pending_candidates, reject_candidate
from services.imports.load import ImportSummary
from services.imports.service import export_quarantine, import_file, render_summary

PROGRESS_THRESHOLD = 5000
duplicates = typer.Typer(help="疑似重复企业的人工复核队列", no_args_is_help=True)


def _fail(exc: DomainError) -> typer.Exit:
    typer.echo(f"错误：{exc.message}", err=True)
    return typer.Exit(2)


def import_command(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="表格文件：.xlsx / .csv / .tsv")
    ],
    kind: Annotated[
        str | None, typer.Option(help=f"数据类型：{', '.join(ImportKind)}（省略时自动识别）")
    ] = None,
    sheet: Annotated[str | None, typer.Option(help="只导入此工作表（xlsx）")] = None,
    mapping: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="表头 → 字段的映射文件")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出批次摘要")] = False,
    user: Annotated[str, typer.Option(help="导入人（记录在批次上）")] = "cli",
    quarantine_out: Annotated[
        Path | None, typer.Option("--quarantine-out", help="将隔离的行写入此 .xlsx")
    ] = None,
) -> None:
    """导入表格：企业、融资需求、挂牌上市培育、机构、贷款产品、投资偏好、成交或活动。"""
    try:
        with session_scope() as session:
            summary = _run_import(session, file, kind, sheet, mapping, user, show=not as_json)
            if quarantine_out is not None and summary.quarantined:
                export_quarantine(session, summary.batch_id, quarantine_out)
    except DomainError as exc:
        raise _fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(render_summary(summary))
        if quarantine_out is not None and summary.quarantined:
            typer.echo(f"隔离行已导出：{quarantine_out}（修改后可直接重新导入）")


def _run_import(
    session: Any,
    file: Path,
    kind: str | None,
    sheet: str | None,
    mapping: Path | None,
    user: str,
    *,
    show: bool,
) -> ImportSummary:
    estimate = _estimated_rows(file)
    if not show or estimate < PROGRESS_THRESHOLD:
        return import_file(session, file, kind, sheet, mapping, user)
    with typer.progressbar(length=estimate, label="导入中", file=sys.stderr) as bar:
        done = 0

        def advance(rows: int) -> None:
            nonlocal done
            bar.update(max(0, rows - done))
            done = rows

        return import_file(session, file, kind, sheet, mapping, user, progress=advance)


def _estimated_rows(file: Path) -> int:
    """Lines of a CSV (counted fast), or a rough guess from an xlsx's compressed size."""
    if file.suffix.lower() in (".xlsx", ".xlsm"):
        return file.stat().st_size // 40
    with file.open("rb") as fh:
        return sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b""))


@duplicates.command("list")
def list_duplicates(
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
    limit: Annotated[int, typer.Option(help="最多列出条数")] = 200,
) -> None:
    """列出待复核的疑似重复企业（相似度高的在前）。"""
    with session_scope() as session:
        pairs = pending_candidates(session, limit)
    if as_json:
        typer.echo(json.dumps(pairs, ensure_ascii=False, indent=2))
        return
    if not pairs:
        typer.echo("没有待复核的疑似重复企业")
    for p in pairs:
        typer.echo(
            f"#{p['id']}  相似度 {p['similarity']}  [{p['enterprise_id']}] {p['enterprise_name']}"
            f"  ⇄  [{p['candidate_id']}] {p['candidate_name']}"
        )


@duplicates.command("merge")
def merge_duplicate(
    candidate_id: Annotated[int, typer.Argument(help="疑似重复编号（duplicates list）")],
    user: Annotated[str, typer.Option(help="操作人")] = "cli",
) -> None:
    """合并：较新的记录并入较早的记录。"""
    try:
        with session_scope() as session:
            kept = merge_candidate(session, candidate_id, user)
    except DomainError as exc:
        raise _fail(exc) from exc
    typer.echo(f"已合并疑似重复 #{candidate_id}，保留企业 {kept}")


@duplicates.command("reject")
def reject_duplicate(
    candidate_id: Annotated[int, typer.Argument(help="疑似重复编号（duplicates list）")],
    user: Annotated[str, typer.Option(help="操作人")] = "cli",
) -> None:
    """不合并：二者是不同的企业。"""
    try:
        with session_scope() as session:
            reject_candidate(session, candidate_id, user)
    except DomainError as exc:
        raise _fail(exc) from exc
    typer.echo(f"已确认 #{candidate_id} 为不同企业")


def register(app: typer.Typer) -> None:
    """Add `import` and the `duplicates` group to the `matchmaker` app."""
    app.command("import")(import_command)
    app.add_typer(duplicates, name="duplicates")
