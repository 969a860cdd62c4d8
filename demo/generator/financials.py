"""Three fiscal years per cultivated enterprise, with the gaps real files have (own RNG)."""

import random

from demo.generator.context import GenContext, new_row
from demo.generator.enterprises import Population
from models.cultivation import FinancialYear
from models.enterprise import Enterprise
from models.listing import ListingRecord

YEARS = 3


def generate_financials(
    ctx: GenContext, population: Population, records: list[ListingRecord]
) -> int:
    """Insert fiscal years for the enterprises of `records`; return how many rows."""
    ids = [r.enterprise_id for r in records]
    rng = random.Random(f"financials:{ctx.today.isoformat()}:{ids[:5]}")
    rows = [row for eid in ids for row in _years(rng, population.by_id[eid], ctx.today.year - 1)]
    ctx.stream(rows)
    return len(rows)


def _years(rng: random.Random, e: Enterprise, last: int) -> list[FinancialYear]:
    assert e.id is not None
    revenue = max(e.revenue_wan or 0.0, 500.0)
    margin = (e.net_profit_wan or 0.0) / revenue
    rd_share = (e.rd_expense_wan or revenue * 0.06) / revenue
    capital = round(rng.uniform(1500, 9000), -1)
    assets = revenue * rng.uniform(0.6, 1.6)
    rows = []
    for year in range(last, last - YEARS, -1):
        rows.append(_year(rng, e.id, year, revenue, margin, rd_share, capital, assets))
        growth = rng.uniform(0.05, 0.45)
        revenue, assets = revenue / (1 + growth), assets / (1 + growth * 0.6)
        margin += rng.gauss(0, 0.02)
    return rows


def _year(
    rng: random.Random,
    eid: int,
    year: int,
    revenue: float,
    margin: float,
    rd_share: float,
    capital: float,
    assets: float,
) -> FinancialYear:
    profit = revenue * margin
    deducted = profit * rng.uniform(0.8, 1.0) if profit > 0 else profit * rng.uniform(1.0, 1.2)
    return new_row(
        FinancialYear,
        enterprise_id=eid,
        fiscal_year=year,
        revenue_wan=round(revenue, 2),
        net_profit_wan=round(profit, 2),
        net_profit_deducted_wan=None if rng.random() < 0.08 else round(deducted, 2),
        rd_expense_wan=round(revenue * rd_share * rng.uniform(0.85, 1.15), 2),
        operating_cash_flow_wan=None
        if rng.random() < 0.1
        else round(profit * rng.uniform(0.5, 1.5), 2),
        net_assets_wan=round(assets, 2),
        share_capital_wan=capital,
        weighted_roe_pct=round(min(profit, deducted) / assets * 100, 2) if assets > 0 else None,
        equity_financing_wan=round(rng.uniform(500, 6000), -1) if rng.random() < 0.25 else 0.0,
        audited=rng.random() < 0.7,
        source="演示数据",
    )
