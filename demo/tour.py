"""The short tour `make demo` prints: what the demo center holds. Later features add sections."""

from collections.abc import Callable
from pathlib import Path

import typer
from sqlmodel import Session

from demo.generator.messy import write_messy_demands
from ingestion.uscc import is_valid_uscc
from models.reference import DealType, FinancingType, InstitutionKind
from services.evaluation import repository as repo
from services.imports.service import import_file, render_summary

TourSection = Callable[[Session], None]


def _heading(title: str) -> None:
    typer.echo("")
    typer.echo(f"== {title} ==")


def show_counts(session: Session, counts: dict[str, int]) -> None:
    """Rows per table, as generated."""
    _heading("数据概览")
    for table, n in counts.items():
        typer.echo(f"  {table:<24} {n:>7,}")


def show_enterprises(session: Session) -> None:
    """Enterprise count and the share whose USCC passes the GB 32100-2015 check."""
    _heading("科技型企业")
    codes = repo.enterprise_codes(session)
    valid = sum(1 for c in codes if c and is_valid_uscc(c))
    typer.echo(f"  企业 {len(codes):,} 家；统一社会信用代码校验通过 {valid:,} / {len(codes):,}")
    for e in repo.first_enterprises(session, 3):
        typer.echo(f"  · {e.legal_name}  {e.uscc}  行业 {e.industry_code}  {e.region_code}")


def show_institutions(session: Session) -> None:
    """Institutions by kind."""
    _heading("入驻机构")
    rows = repo.institutions_by_kind(session)
    typer.echo("  " + "；".join(f"{InstitutionKind.from_label(k).label} {n} 家" for k, n in rows))


def show_demands(session: Session) -> None:
    """Demands by financing type."""
    _heading("融资需求库")
    rows = repo.demands_by_type(session)
    typer.echo("  " + "；".join(f"{FinancingType.from_label(t).label} {n} 项" for t, n in rows))


def show_deals(session: Session) -> None:
    """Closed deals by type with their total amount."""
    _heading("已成交（全部已确认记录，含非撮合）")
    for deal_type, n, total in repo.confirmed_deals_by_type(session):
        typer.echo(f"  {DealType.from_label(deal_type).label}：{n} 笔，合计 {total:,.1f} 万元")


SECTIONS: list[TourSection] = [show_enterprises, show_institutions, show_demands, show_deals]


def show_messy_import(session: Session, path: Path) -> None:
    """Import the generated messy demand workbook and show the batch summary."""
    _heading("导入一份不规范的融资需求汇总表")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_messy_demands(session, path)
    summary = import_file(session, path, user="demo")
    typer.echo("  " + render_summary(summary).replace("\n", "\n  "))


def print_tour(session: Session, counts: dict[str, int]) -> None:
    """Print every section of the tour."""
    show_counts(session, counts)
    for section in SECTIONS:
        section(session)
