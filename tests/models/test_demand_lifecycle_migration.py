"""Migration 0011_demand_lifecycle maps the old demand statuses, fills the amount raised from
confirmed deals, marks deals recorded on a match as linked, and checks the new statuses."""

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from models.migrate import alembic_config

NOW = "'2026-01-01 00:00:00'"


def _at_0010(url: str) -> None:
    command.upgrade(alembic_config(url), "0010_api_key_owner")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO enterprise (id, legal_name, qualifications, normalized_name, "
                          f"created_at, updated_at) VALUES (1, '甲公司', '[]', '甲', {NOW}, {NOW})"))  # fmt: skip
        conn.execute(text("INSERT INTO institution (id, name, kind, regions_served, created_at) "
                          f"VALUES (1, '乙银行', 'bank', '[]', {NOW})"))  # fmt: skip
        for i, status in enumerate(["open", "matched", "closed", "withdrawn"], start=1):
            conn.execute(text(
                "INSERT INTO financing_demand (id, enterprise_id, financing_type, amount_min_wan, "
                "amount_max_wan, collateral_offered, status, confidentiality, created_at, "
                f"updated_at) VALUES ({i}, 1, 'loan', 100, 800, '[]', '{status}', 'teaser', "
                f"{NOW}, {NOW})"))  # fmt: skip
        conn.execute(text("INSERT INTO match (id, demand_id, institution_id, stage, reasons, "
                          f"version, created_at) VALUES (1, 2, 1, 'closed_won', '[]', 1, {NOW})"))  # fmt: skip
        for deal_id, match_id, status in [(1, "1", "confirmed"), (2, "1", "rejected"),
                                          (3, "NULL", "confirmed")]:  # fmt: skip
            conn.execute(text(
                "INSERT INTO deal (id, deal_type, amount_wan, closed_on, enterprise_id, "
                f"institution_id, match_id, status, created_at) VALUES ({deal_id}, 'loan', 300, "
                f"'2025-06-01', 1, 1, {match_id}, '{status}', {NOW})"))  # fmt: skip
    engine.dispose()


def test_statuses_amounts_and_links_after_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    _at_0010(url)
    command.upgrade(alembic_config(url), "head")
    engine = create_engine(url)
    with engine.connect() as conn:
        demands = conn.execute(text("SELECT status, amount_raised_wan FROM financing_demand "
                                    "ORDER BY id")).all()  # fmt: skip
        links = conn.execute(text("SELECT link_status FROM deal ORDER BY id")).scalars().all()
    assert [tuple(d) for d in demands] == [
        ("open", 0),
        ("funded", 300),
        ("funded", 0),
        ("withdrawn", 0),
    ]
    assert links == ["linked", "linked", "unlinked"]
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("UPDATE financing_demand SET status = 'matched' WHERE id = 1"))
    with engine.begin() as conn:
        conn.execute(text("UPDATE financing_demand SET status = 'paused' WHERE id = 1"))
    engine.dispose()
    command.downgrade(alembic_config(url), "0010_api_key_owner")
    engine = create_engine(url)
    with engine.connect() as conn:
        statuses = conn.execute(text("SELECT status FROM financing_demand ORDER BY id")).scalars()
        assert list(statuses) == ["open", "closed", "closed", "withdrawn"]
    engine.dispose()
