"""Matching commands: `recommend` a ranked list for a demand, `train` and publish the ranker,
`model use rules|VERSION` to switch the served model (or roll back), `model list`."""

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlmodel import Session

from matching.explain import Explained
from models.base import utcnow
from models.db import session_scope
from models.demand import FinancingDemand
from models.paging import rows_of
from models.reference import DemandStatus, FinancingType
from models.settings import get_settings
from services.pipeline.demands import check_open_for_matching
from services.recommendations.published import published_models, served_ranker, use_model
from services.recommendations.service import Recommendation, recommend_for_demand, train_reranker

ModelDir = Annotated[
    Path | None, typer.Option("--model-dir", help="模型文件目录（默认 RERANKER_MODEL_DIR）")
]
Today = Annotated[str | None, typer.Option("--today", help="排序基准日 YYYY-MM-DD（默认今天）")]
AsJson = Annotated[bool, typer.Option("--json", help="输出 JSON")]


def parse_day(text: str | None) -> date | None:
    """A YYYY-MM-DD option's day (None: today, as the services default)."""
    return datetime.strptime(text, "%Y-%m-%d").date() if text else None


KIND_LABELS = {
    "loan": "贷款",
    "equity": "股权",
    "syndicate": "联合投资",
    "loan+guarantee": "银担合作",
}


def _item_lines(item: Explained) -> list[str]:
    kind = KIND_LABELS.get(item.kind, item.kind)
    cost = f"  综合年化 {item.annual_cost_pct:.2f}%" if item.annual_cost_pct is not None else ""
    head = (
        f"{item.rank:>3}. {item.score:6.3f}  {item.institution_name} · {item.product_name}"
        f"（{kind}）{cost}"
    )
    reasons = "；".join(f"{r.label}：{r.text}" for r in item.top_reasons())
    return [head, *(f"       {note}" for note in item.notes), f"       理由：{reasons}"]


def _print_items(items: list[Explained]) -> None:
    if not items:
        typer.echo("  没有满足全部硬性条件的机构。")
    for item in items:
        typer.echo("\n".join(_item_lines(item)))


def _print_table(rec: Recommendation) -> None:
    typer.echo(
        f"融资需求 #{rec.demand_id}（{rec.enterprise_name}） 推荐机构  模型 {rec.model_version}"
    )
    if len(rec.legs) > 1:
        for leg in rec.legs:
            typer.echo(f"【{leg.label}部分】{leg.amount_min_wan:,.0f}–{leg.amount_max_wan:,.0f} 万元"
                       f"（{leg.basis}）")  # fmt: skip
            _print_items(rec.leg_items(leg.leg))
    else:
        _print_items(rec.items)
    if rec.near_misses:
        typer.echo("未推荐但接近的机构（原因）：")
    for miss in rec.near_misses:
        why = "；".join(f.text for f in miss.failures)
        typer.echo(f"   ×  {miss.institution_name} · {miss.product_name}：{why}")


def recommend(
    demand_id: Annotated[int, typer.Argument(help="融资需求编号")],
    k: Annotated[int, typer.Option("--k", min=1, help="推荐数量")] = 10,
    as_json: AsJson = False,
    today: Today = None,
) -> None:
    """为一项融资需求推荐机构及其产品/投资偏好，附评分理由（使用当前启用的模型）。"""
    with session_scope() as session:
        check_open_for_matching(session, demand_id)  # a closed or paused demand: 409, no list
        rec = recommend_for_demand(session, demand_id, k, parse_day(today))
    if as_json:
        typer.echo(json.dumps(rec.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print_table(rec)


def train(
    model_dir: ModelDir = None,
    min_outcomes: Annotated[int, typer.Option(help="训练所需的最少确认成交笔数")] = 200,
    today: Today = None,
) -> None:
    """用已确认的成交训练排序模型（LambdaMART），发布并启用（成交过少时沿用规则排序）。"""
    folder = model_dir or Path(get_settings().reranker_model_dir)
    with session_scope() as session:
        report = train_reranker(session, folder, parse_day(today), min_outcomes)
    typer.echo(f"确认成交 {report.n_outcomes} 笔")
    if report.fallback_reason:
        typer.echo(f"未训练：{report.fallback_reason}")
        return
    typer.echo(
        f"已发布并启用模型 {report.version} → {report.path}（回退：matchmaker model use rules）"
    )
    for name, value in report.metrics.items():
        typer.echo(f"  {name:<22} {value:.4f}")


model_app = typer.Typer(help="排序模型：查看已发布的模型，切换或回退所有排序使用的模型。",
                        no_args_is_help=True)  # fmt: skip


@model_app.command("use")
def model_use(
    choice: Annotated[str, typer.Argument(help="rules（规则排序）或已发布的模型版本，如 ltr-…")],
    as_json: AsJson = False,
) -> None:
    """启用规则排序或某一已发布的模型（API、控制台、推送、夜间重排与路演均随之切换）。"""
    with session_scope() as session:
        served = use_model(session, choice, actor="cli", at=utcnow())
    if as_json:
        typer.echo(json.dumps({"served": served}, ensure_ascii=False))
    else:
        typer.echo(f"当前启用的排序模型：{served}")


@model_app.command("list")
def model_list(as_json: AsJson = False) -> None:
    """列出已发布的模型及其留出集指标，标出当前启用的一个。"""
    with session_scope() as session:
        served = served_ranker(session).model_version
        rows: list[dict[str, Any]] = [{"version": m.version, "served": m.served, "n_outcomes": m.n_outcomes,
                 "n_won": m.n_won, "metrics": m.metrics, "created_at": m.created_at.isoformat()}
                for m in published_models(session)]  # fmt: skip
    if as_json:
        typer.echo(json.dumps({"served": served, "models": rows}, ensure_ascii=False, indent=2))
        return
    typer.echo(f"当前启用：{served}")
    for row in rows:
        mark = "*" if row["served"] else " "
        recall = row["metrics"].get("recall10_learned")
        typer.echo(f" {mark} {row['version']}  成交 {row['n_outcomes']}  "
                   f"Recall@10 {'—' if recall is None else f'{recall:.3f}'}  "
                   f"{row['created_at'][:10]}")  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add these commands to the `matchmaker` app."""
    app.command()(recommend)
    app.command()(train)
    app.add_typer(model_app, name="model")


def show_recommendation(session: Session, today: date) -> None:
    """Tour section: ranked institutions for an open loan demand and an open equity demand."""
    typer.echo("")
    typer.echo("== 撮合推荐（按阶段、行业、额度等排序，附理由） ==")
    for financing_type in (FinancingType.loan, FinancingType.equity):
        rows = rows_of(session, FinancingDemand, "id", 60, financing_type=financing_type)
        for demand in (d for d in rows if DemandStatus(d.status).is_open_for_matching):
            rec = recommend_for_demand(session, demand.id or 0, k=5, today=today)
            if len(rec.items) >= 3:  # show a demand the center can act on
                _print_table(rec)
                break
