"""The `listing` commands' rendering and the demo tour's readiness table."""

from datetime import date

import pytest
import typer
from sqlmodel import Session

from cli.listing import register, render_overview, render_readiness, show_readiness
from models.reference import ListingTier
from services.listing import cultivation_overview, evaluate_readiness
from tests.services.listing.rows import cultivated, strong_financials


def test_readiness_text_shows_recommendation_citation_and_gaps(session: Session) -> None:
    record = cultivated(session)
    strong_financials(session, record.enterprise_id)
    text = render_readiness(
        evaluate_readiness(session, record.enterprise_id, clock=lambda: date(2026, 6, 30))
    )
    assert "推荐目标板块：科创板" in text
    assert "《上海证券交易所科创板股票上市规则（2024年4月修订）》第2.1.2条" in text
    assert "✗" in text and "差" in text  # e.g. 主板's closest standard misses something


def test_overview_counts_by_tier(session: Session) -> None:
    cultivated(session, tier=ListingTier.coaching)
    text = render_overview(cultivation_overview(session, clock=lambda: date(2026, 6, 30)))
    assert "挂牌上市培育库" in text and "辅导层" in text


def test_demo_tour_prints_a_few_readiness_tables(
    session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    for tier in (ListingTier.filing, ListingTier.coaching, ListingTier.reserve):
        strong_financials(session, cultivated(session, tier=tier).enterprise_id)
    show_readiness(session)
    out = capsys.readouterr().out
    assert "板块上市条件评估" in out and out.count("推荐目标板块") == 3


def test_register_adds_the_listing_group() -> None:
    app = typer.Typer()
    register(app)
    names = {g.name for g in app.registered_groups}
    assert names == {"listing"}
