"""Resident institutions: `matchmaker institutions commitments | evaluate | renew`."""

import json
from datetime import date
from typing import Annotated

import typer

from models.db import session_scope
from services.institutions import service as institutions

app = typer.Typer(help="入驻机构：服务承诺履约、年度评价、协议续签", no_args_is_help=True)
CLI_ACTOR = "cli"
InstitutionId = Annotated[int, typer.Argument(help="机构编号")]
Year = Annotated[int, typer.Option("--year", help="协议年度（日历年）")]


@app.command("commitments")
def commitments(
    institution_id: InstitutionId,
    year: Year,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """列出机构该年度签署的服务承诺与台账实绩（撮合成交、参加路演）。"""
    with session_scope() as session:
        result = institutions.commitments_vs_actuals(session, institution_id, year)
        if as_json:
            typer.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
            return
        typer.echo(f"{result.institution.name} {year} 年度（{result.start} 至 {result.end}）")
        for line in result.lines:
            actual = "需人工核实" if line.actual is None else f"{line.actual:g}"
            rate = "" if line.rate is None else f"  完成 {line.rate:g}%"
            typer.echo(f"- {line.description}：承诺 {_num(line.due)}{line.unit or ''}，"
                       f"实绩 {actual}{rate}")  # fmt: skip
        typer.echo(f"综合得分：{_num(result.overall)}")


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


@app.command("evaluate")
def evaluate(
    institution_id: InstitutionId,
    year: Year,
    decision: Annotated[str, typer.Option(help="keep 保留 | warn 警示 | exit 退出")],
    note: Annotated[str, typer.Option(help="评价意见")],
) -> None:
    """记录机构年度评价：按承诺履约计分，并作出保留、警示或退出的结论（记入审计日志）。"""
    with session_scope() as session:
        row = institutions.evaluate(session, institution_id, year, decision, note, CLI_ACTOR)
        typer.echo(f"已记录 {year} 年度评价：{institutions.DECISIONS[row.decision]}，"
                   f"综合得分 {_num(row.overall)}")  # fmt: skip


@app.command("renew")
def renew(
    institution_id: InstitutionId,
    start: Annotated[str, typer.Option(help="新协议起始日 YYYY-MM-DD")],
    end: Annotated[str | None, typer.Option(help="新协议到期日 YYYY-MM-DD")] = None,
) -> None:
    """续签入驻协议：新协议期间生效，原协议期间留存为历史。"""
    with session_scope() as session:
        inst = institutions.renew(session, institution_id, _day(start, "start"),
                                  _day(end, "end") if end else None, CLI_ACTOR)  # fmt: skip
        typer.echo(f"已续签 {inst.name}：{inst.agreement_start} 至 {inst.agreement_end or '长期'}")


def _day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"日期“{text}”无效，应为 YYYY-MM-DD", param_hint=f"--{field}"
        ) from None


def register(root: typer.Typer) -> None:
    """Add the `institutions` group."""
    root.add_typer(app, name="institutions")
