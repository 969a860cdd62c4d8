"""Database set-up, the demo, the server and exports."""

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from api.security import secret_key_problem
from cli.digests import DIGEST_ITEMS, export_digest_items
from cli.evaluation import show_appendix_a
from cli.listing import show_readiness
from cli.match import show_recommendation
from cli.policy import show_policy_match
from demo.generator import generate_center
from demo.generator.center import DEFAULT_TODAY
from demo.tour import print_tour, show_messy_import
from models.db import get_engine, make_engine, session_scope
from models.errors import DomainError
from models.migrate import schema_problem, upgrade_to_head
from models.reference import ImportKind
from models.settings import Settings, get_settings
from services.audit.anchor import write_anchor
from services.exports.contacts import OPERATOR, export_contacts
from services.exports.service import EXPORTABLE, export_table
from services.imports.service import as_kind
from services.imports.templates import write_template


def init_db() -> None:
    """建表或将数据库结构升级到最新迁移版本（DATABASE_URL 所指的数据库）。"""
    upgrade_to_head(get_engine())
    typer.echo(f"数据库已就绪：{_shown_url()}")


def demo(
    fresh: Annotated[
        bool, typer.Option(help="先删除已有的 SQLite 数据库文件（及其审计锚点），重建演示数据")
    ] = False,
    seed: Annotated[int, typer.Option(help="随机种子")] = 42,
    enterprises: Annotated[int, typer.Option(min=1, help="生成的企业数量（至多约一百万）")] = 2000,
) -> None:
    """生成演示服务中心（写入 DATABASE_URL 所指的数据库，默认 var/matchmaker.sqlite），并打印简要导览。"""
    if fresh:
        _remove_sqlite_file()
    engine = get_engine()
    upgrade_to_head(engine)
    with session_scope(engine) as session:
        counts = generate_center(session, seed=seed, enterprises=enterprises)
    typer.echo(f"演示数据已生成（seed={seed}）：{_shown_url()}")
    with session_scope(engine) as session:
        print_tour(session, counts)
    with session_scope(engine) as session:
        show_messy_import(session, Path("var") / "demo_messy_demands.xlsx")
    for section in DEMO_SECTIONS:
        with session_scope(engine) as session:
            section(session)
    anchor_audit_chain(get_settings(), "演示数据生成后")


DEMO_SECTIONS: tuple[Callable[[Session], None], ...] = (
    lambda session: show_recommendation(session, DEFAULT_TODAY),
    show_readiness,
    show_policy_match,
    show_appendix_a,
)


def anchor_audit_chain(settings: Settings, when: str) -> None:
    """Sign the audit chain's present state (`when`: 启动时, 演示数据生成后). The embedded default
    runs no Celery beat, so `serve` anchors at each start and `demo` after building the center;
    production also runs the beat's `audit.anchor` every 15 minutes. Skipped, with a warning,
    without a configured key (an ephemeral one could not verify the anchor after a restart); a
    failure to write warns and the command goes on."""
    if not (settings.audit_anchor_key or settings.secret_key):
        typer.echo(f"警告：未设置 AUDIT_ANCHOR_KEY 或 SECRET_KEY，{when}不写审计锚点", err=True)
        return
    try:
        with session_scope() as session:
            anchor = write_anchor(session, settings)
    except (DomainError, SQLAlchemyError, OSError) as exc:
        typer.echo(f"警告：{when}未能写入审计锚点（{exc}）", err=True)
        return
    typer.echo(f"已写入审计锚点：共 {anchor.rows} 条 → {settings.audit_anchor_path}")


def serve(
    host: Annotated[str, typer.Option(help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="监听端口")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="uvicorn 工作进程数")] = 1,
) -> None:
    """启动 API（/docs）与网页控制台（/）：uvicorn 的 N 个工作进程。"""
    import uvicorn

    from api.transport import GuardedHttpToolsProtocol

    settings = get_settings()
    weak = secret_key_problem(settings.secret_key)
    if weak:  # a guessable key lets anyone forge an administrator's token
        typer.echo(
            f"错误：{weak}（可用 `make demo` 写入 .env，或设置环境变量 SECRET_KEY）", err=True
        )
        raise typer.Exit(2)
    engine = make_engine(settings.database_url)
    try:
        problem = schema_problem(engine)  # no schema, or an older one: every request would fail
    finally:
        engine.dispose()
    if problem:
        typer.echo(f"错误：{problem}", err=True)
        raise typer.Exit(2)
    anchor_audit_chain(settings, "启动时")  # once per start, in this process (not per worker)
    if not settings.secret_key:
        # Several workers must share one signing key; an ephemeral one serves a local run only.
        os.environ["SECRET_KEY"] = secrets.token_urlsafe(48)
        typer.echo("警告：未设置 SECRET_KEY，已为本次运行生成临时密钥（重启后令牌失效）", err=True)
    # Workers import numpy, scikit-learn and OR-Tools: give them time to answer the health check.
    # Header time and size, untaken responses, connections per address: `api.transport`.
    options: dict[str, Any] = {"timeout_keep_alive": settings.keep_alive_timeout,
                               **proxy_options(settings)}  # fmt: skip
    uvicorn.run("api.main:create_server_app", factory=True, host=host, port=port,
                workers=workers, timeout_worker_healthcheck=60, http=GuardedHttpToolsProtocol,
                **options)  # fmt: skip


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's proxy-header options: `X-Forwarded-For`/`-Proto` are believed only from the
    proxies in FORWARDED_ALLOW_IPS (none by default; uvicorn's own default trusts 127.0.0.1, so
    any local process could pose as any client and slip past the login throttle)."""
    trusted = settings.forwarded_allow_ips.strip()
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted or None}


def export(
    kind: Annotated[
        str,
        typer.Argument(
            help=f"导出内容，可选：{', '.join([*EXPORTABLE, DIGEST_ITEMS, 'contacts'])}"
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="输出文件")],
    fmt: Annotated[str, typer.Option("--format", help="csv 或 xlsx")] = "csv",
    batch: Annotated[int | None, typer.Option(help="导入批次编号（import-rows）")] = None,
    period: Annotated[
        str | None, typer.Option(help="推送周期（digest-items），如 2026-W27、2026-07-06、2026-07")
    ] = None,
    user: Annotated[
        str,
        typer.Option(help="操作人（contacts：须为管理员账号；省略时为服务器上的运维人员）"),
    ] = OPERATOR,
) -> None:
    """导出一张表（含编号，列名即字段名）；digest-items 为某一周期推送所含（或将含）的需求；
    contacts（联系人，个人信息）仅限管理员，并记入审计日志。"""
    if kind == DIGEST_ITEMS:
        if period is None:
            raise typer.BadParameter("导出 digest-items 需要 --period", param_hint="--period")
        count = export_digest_items(period, out, fmt)
    else:
        filters = {"batch_id": batch} if batch is not None else None
        with session_scope() as session:
            if kind == "contacts":
                count = export_contacts(session, out, fmt, actor=user)
            else:
                count = export_table(session, kind, out, fmt, filters)
    typer.echo(f"已导出 {count} 行 → {out}")


def template(
    kind: Annotated[str, typer.Argument(help=f"导入类型：{', '.join(ImportKind)}（或中文名称）")],
    out: Annotated[Path, typer.Option("--out", help="输出的 .xlsx 文件")],
) -> None:
    """写出一种导入类型的模板表格：中文表头、示例行、填写说明工作表。"""
    chosen = as_kind(kind)
    assert chosen is not None
    write_template(chosen, out)
    typer.echo(f"已写出{chosen.label}导入模板 → {out}")


def _shown_url() -> str:
    return make_url(get_settings().database_url).render_as_string(hide_password=True)


def _remove_sqlite_file() -> None:
    """`demo --fresh`: delete the SQLite file, and the audit anchors signed for its chain (kept,
    they would make `audit verify` report the rebuilt, shorter chain as cut off)."""
    settings = get_settings()
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        for suffix in ("", "-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)
        Path(settings.audit_anchor_path).unlink(missing_ok=True)


def register(app: typer.Typer) -> None:
    """Add these commands to the `matchmaker` app."""
    app.command("init-db")(init_db)
    app.command()(demo)
    app.command()(serve)
    app.command()(export)
    app.command()(template)
