"""``rank-offline`` and ``eval-offline`` commands (offline investor-ranking evaluation)."""

from __future__ import annotations

from pathlib import Path

import typer

from matching.offline.service import (
    eval_offline,
    rank_offline,
    results_json,
    results_table,
    write_rankings,
)


def register(app: typer.Typer) -> None:
    """Add the ``rank-offline`` and ``eval-offline`` commands to ``app``."""

    @app.command("rank-offline")
    def rank_offline_cmd(
        history: Path = typer.Option(
            ...,
            "--history",
            exists=True,
            dir_okay=False,
            help="History CSV (one row per round and investor).",
        ),
        queries: Path = typer.Option(
            ...,
            "--queries",
            exists=True,
            dir_okay=False,
            help="Query CSV (round columns + query_id).",
        ),
        k: int = typer.Option(10, "--k", min=1, help="Investors per query."),
        out: Path = typer.Option(..., "--out", dir_okay=False, help="Output ranking CSV."),
        random_state: int = typer.Option(0, "--random-state"),
    ) -> None:
        """Rank investors for each query round using only the history."""
        rows = rank_offline(history, queries, k, random_state)
        write_rankings(rows, out)
        typer.echo(f"wrote {len(rows)} rows to {out}")

    @app.command("eval-offline")
    def eval_offline_cmd(
        history: Path = typer.Option(..., "--history", exists=True, dir_okay=False),
        split_date: str = typer.Option(..., "--split-date", help="YYYY-MM-DD; train before."),
        k: int = typer.Option(10, "--k", min=1),
        end_date: str | None = typer.Option(None, "--end-date", help="Exclusive test end."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
        with_implicit: bool = typer.Option(
            False, "--with-implicit", help="Also evaluate implicit ALS (needs `implicit`)."
        ),
        random_state: int = typer.Option(0, "--random-state"),
    ) -> None:
        """Train before --split-date, evaluate on later rounds against baselines."""
        results = eval_offline(history, split_date, k, end_date, with_implicit, random_state)
        typer.echo(results_json(results, split_date, k) if as_json else results_table(results, k))
