"""`matchmaker digests …`: run a period by hand, list dead letters, replay one.

These commands work in-process (no worker, no Redis needed): a period's deliveries are sent
right here, one attempt each; what fails transiently is left `failed` for the sweeper.
"""

from dataclasses import astuple, fields
from pathlib import Path
from typing import Annotated

import typer

from models.base import utcnow
from models.db import session_scope
from models.settings import get_settings
from services.digests import service as digests
from services.digests.delivery import mailer_from_settings, webhook_sender_from_settings
from services.digests.repository import ClaimBusyError
from services.exports.service import write_rows
from services.jobs import PUBLISHER_KEY, Job

_STATUS_WORDS = {
    "delivered": "送达",
    "failed": "待重试",
    "dead": "已放弃",
    "busy": "处理中",
    "error": "出错（留待重试）",
}

FREQUENCY_LABELS = {"daily": "每日", "weekly": "每周", "monthly": "每月"}
DIGEST_ITEMS = "digest-items"


def _deliver_in_process(delivery_ids: list[int]) -> dict[str, int]:
    settings = get_settings()
    mailer, webhooks = mailer_from_settings(settings), webhook_sender_from_settings(settings)
    counts = dict.fromkeys(_STATUS_WORDS, 0)
    for delivery_id in delivery_ids:
        try:
            with session_scope() as session:
                outcome = digests.deliver(session, delivery_id, mailer, webhooks, utcnow)
            key = outcome.status.value if outcome.claimed else "busy"
        except ClaimBusyError:
            key = "busy"
        except Exception as exc:  # one delivery's unforeseen failure never stops the others
            typer.echo(f"推送记录 {delivery_id} 发送出错（已回滚，稍后重试）：{exc!r}", err=True)
            key = "error"
        counts[key] = counts.get(key, 0) + 1
    return counts


def _summary(counts: dict[str, int]) -> str:
    return "，".join(f"{word} {counts.get(k, 0)} 条" for k, word in _STATUS_WORDS.items())


def run(
    period: Annotated[
        str, typer.Option(help="周期：2024-03-01（日）、2024-W09（周）或 2024-03（月）")
    ],
) -> None:
    """生成某一周期的项目推送，并在本进程内发送。"""
    jobs: list[Job] = []
    with session_scope() as session:
        session.info[PUBLISHER_KEY] = jobs.append
        report = digests.run_digest_period(session, period, utcnow())
    typer.echo(
        f"周期 {report.period}（{FREQUENCY_LABELS.get(report.frequency, report.frequency)}）：订阅 {report.subscriptions} 个，"
        f"新建推送 {report.created} 条，已存在 {report.already_existing} 条，"
        f"无新项目 {report.empty} 个，因入驻协议未生效暂停 {report.paused} 个"
    )
    counts = _deliver_in_process([int(job.args[0]) for job in jobs])
    typer.echo(f"发送结果：{_summary(counts)}")


def export_digest_items(period: str, out: Path, fmt: str) -> int:
    """`export digest-items`: one row per demand the period's digests contained or would
    contain (subscription_id, institution_id, demand_id, financing_type); nothing is written."""
    with session_scope() as session:
        items = digests.digest_items(session, period, utcnow())
    header = [f.name for f in fields(digests.DigestItem)]
    return write_rows(header, (list(astuple(i)) for i in items), out, fmt, sheet=DIGEST_ITEMS)


def dead() -> None:
    """列出已放弃重试的推送（新的在前）。"""
    with session_scope() as session:
        rows = digests.dead_letters(session)
        lines = [
            f"{d.id}\t订阅 {d.subscription_id}\t{d.period}\t{d.channel.label}\t"
            f"尝试 {d.attempts} 次\t{d.last_error or ''}"
            for d in rows
        ]
    typer.echo("\n".join(lines) if lines else "没有已放弃的推送。")


def replay(delivery_id: Annotated[int, typer.Argument(help="推送记录编号")]) -> None:
    """为已放弃的推送重置重试次数并立即发送。"""
    jobs: list[Job] = []
    with session_scope() as session:
        session.info[PUBLISHER_KEY] = jobs.append
        digests.replay(session, delivery_id, actor="cli")
    counts = _deliver_in_process([int(job.args[0]) for job in jobs])
    typer.echo(f"已重新发送推送 {delivery_id}：{_summary(counts)}")


def register(app: typer.Typer) -> None:
    """Add the `digests` command group to the `matchmaker` app."""
    group = typer.Typer(help="项目推送（deal-flow digests）", no_args_is_help=True)
    group.command("run")(run)
    group.command("dead")(dead)
    group.command("replay")(replay)
    app.add_typer(group, name="digests")
