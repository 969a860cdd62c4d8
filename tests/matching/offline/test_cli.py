"""The ``rank-offline`` / ``eval-offline`` commands through Typer's test runner."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli.offline import register
from matching.offline.data import ROUND_COLUMNS

from .synth import make_rows


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def _write(path: Path, rows: list[dict[str, str]], columns: list[str]) -> Path:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    tmp = tmp_path_factory.mktemp("offline")
    rows = make_rows(n_companies=70, n_investors=25, seed=5)
    cut = "2012-01-01"
    history = _write(tmp / "H.csv", [r for r in rows if r["funded_at"] < cut],
                     ["investor_name", *ROUND_COLUMNS])  # fmt: skip
    queries: list[dict[str, str]] = []
    seen: set[tuple[str, str, str]] = set()
    for r in rows:
        key = (r["company_permalink"], r["funded_at"], r["raised_amount_usd"])
        if r["funded_at"] >= cut and key not in seen:
            seen.add(key)
            queries.append({**r, "query_id": f"q{len(queries)}"})
    q_plain = _write(tmp / "Q.csv", queries, ["query_id", *ROUND_COLUMNS])
    q_leak = _write(tmp / "Qleak.csv", queries, ["query_id", "investor_name", *ROUND_COLUMNS])
    return history, q_plain, q_leak


def _rank(app: typer.Typer, history: Path, queries: Path, out: Path, k: int) -> list[dict]:
    args = ["rank-offline", "--history", str(history), "--queries", str(queries),
            "--k", str(k), "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    with open(out, newline="") as fh:
        return list(csv.DictReader(fh))


def test_rank_offline_writes_k_rows_per_query(
    app: typer.Typer, files: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    history, queries, leak = files
    rows = _rank(app, history, queries, tmp_path / "R.csv", 7)
    assert list(rows[0]) == ["query_id", "rank", "investor_name", "score"]
    with open(queries, newline="") as fh:
        qids = [r["query_id"] for r in csv.DictReader(fh)]
    assert [r["query_id"] for r in rows] == [q for q in qids for _ in range(7)]
    assert [int(r["rank"]) for r in rows] == list(range(1, 8)) * len(qids)
    with open(history, newline="") as fh:
        raw_names = {r["investor_name"] for r in csv.DictReader(fh)}
    assert {r["investor_name"] for r in rows} <= raw_names
    leaked = _rank(app, history, leak, tmp_path / "R2.csv", 7)
    assert leaked == rows  # an investor column in the queries is ignored


def test_eval_offline_table_and_json(app: typer.Typer, files: tuple[Path, Path, Path]) -> None:
    history = str(files[0])
    args = ["eval-offline", "--history", history, "--split-date", "2011-07-01", "--k", "5"]
    table = CliRunner().invoke(app, args)
    assert table.exit_code == 0, table.output
    assert "learned-ranker" in table.output and "Recall@5" in table.output
    js = CliRunner().invoke(app, [*args, "--json"])
    assert js.exit_code == 0, js.output
    payload = json.loads(js.output)
    names = [r["model"] for r in payload["results"]]
    assert names == ["global-popularity", "category+round-popularity", "learned-ranker"]
    for r in payload["results"]:
        for part in ("overall", "new_relationships"):
            assert 0.0 <= r[part]["recall"] <= 1.0


def test_eval_offline_with_implicit(app: typer.Typer, files: tuple[Path, Path, Path]) -> None:
    pytest.importorskip("implicit")
    args = ["eval-offline", "--history", str(files[0]), "--split-date", "2011-07-01",
            "--k", "5", "--with-implicit", "--json"]  # fmt: skip
    js = CliRunner().invoke(app, args)
    assert js.exit_code == 0, js.output
    names = [r["model"] for r in json.loads(js.output)["results"]]
    assert names == ["global-popularity", "category+round-popularity", "implicit-als",
                     "learned-ranker"]  # fmt: skip


def test_a_query_file_without_query_id_is_one_chinese_line(
    app: typer.Typer, files: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    history, queries, _ = files
    with open(queries, newline="") as fh:
        rows = list(csv.DictReader(fh))
    bare = _write(tmp_path / "Q.csv", rows, list(ROUND_COLUMNS))
    args = ["rank-offline", "--history", str(history), "--queries", str(bare),
            "--out", str(tmp_path / "R.csv")]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert f"错误：{bare} 缺少列：query_id" in result.output
    bad_date = CliRunner().invoke(app, ["eval-offline", "--history", str(history),
                                        "--split-date", "2012-13-01"])  # fmt: skip
    assert bad_date.exit_code == 2 and "YYYY-MM-DD" in bad_date.output
