"""``rank-offline`` and ``eval-offline`` commands (offline investor-ranking evaluation)."""

from pathlib import Path
from typing import Annotated

import typer

from matching.offline.data import MissingColumnsError
from services.recommendations.offline import (
    eval_offline,
    rank_offline,
    results_json,
    results_table,
    write_rankings,
)


def _refuse(exc: ValueError) -> typer.Exit:
    """A CSV without the columns it needs, or a date that is no YYYY-MM-DD: one Chinese line."""
    if isinstance(exc, MissingColumnsError):
        typer.echo(f"错误：{exc.path} 缺少列：{'、'.join(exc.missing)}", err=True)
    else:
        typer.echo(f"错误：无法读取输入（日期须为 YYYY-MM-DD）：{exc}", err=True)
    return typer.Exit(2)


History = Annotated[Path, typer.Option("--history", exists=True, dir_okay=False,
                                        help="历史 CSV（每轮融资、每个投资方一行）")]  # fmt: skip
RandomState = Annotated[int, typer.Option("--random-state", help="随机种子")]


def register(app: typer.Typer) -> None:
    """Add the ``rank-offline`` and ``eval-offline`` commands to ``app``."""

    @app.command("rank-offline")
    def rank_offline_cmd(
        history: History,
        queries: Annotated[Path, typer.Option("--queries", exists=True, dir_okay=False,
                                              help="查询 CSV（融资轮次各列 + query_id）")],
        out: Annotated[Path, typer.Option("--out", dir_okay=False, help="输出排序 CSV")],
        k: Annotated[int, typer.Option("--k", min=1, help="每个查询列出的投资方数")] = 10,
        random_state: RandomState = 0,
    ) -> None:  # fmt: skip
        """仅根据历史数据，为每个查询轮次排序投资方。"""
        try:
            rows = rank_offline(history, queries, k, random_state)
        except ValueError as exc:
            raise _refuse(exc) from exc
        write_rankings(rows, out)
        typer.echo(f"已写入 {len(rows)} 行 → {out}")

    @app.command("eval-offline")
    def eval_offline_cmd(
        history: History,
        split_date: Annotated[str, typer.Option("--split-date",
                                                help="切分日 YYYY-MM-DD：之前训练，之后评估")],
        k: Annotated[int, typer.Option("--k", min=1, help="每轮列出的投资方数")] = 10,
        end_date: Annotated[str | None, typer.Option("--end-date", help="评估截止日（不含）")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="输出 JSON 而非表格")] = False,
        with_implicit: Annotated[bool, typer.Option(
            "--with-implicit", help="同时评估隐式反馈 ALS（需安装 implicit）")] = False,
        random_state: RandomState = 0,
    ) -> None:  # fmt: skip
        """在 --split-date 之前训练，在之后的轮次上与基线方法对比评估。"""
        try:
            results = eval_offline(history, split_date, k, end_date, with_implicit, random_state)
        except ValueError as exc:
            raise _refuse(exc) from exc
        typer.echo(results_json(results, split_date, k) if as_json else results_table(results, k))
