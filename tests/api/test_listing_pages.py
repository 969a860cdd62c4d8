"""Scheduling a coaching session from the console: it becomes a training people can sign in to."""

import re

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from models.reference import ListingTier
from services.listing.plan import load_plan
from tests.api.conftest import PASSWORD, World
from tests.api.db_state import snapshot


def _csrf(page: str) -> str:
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    return token[1]


def test_a_coaching_session_is_scheduled_as_a_training(
    client: TestClient, world_engine: tuple[Engine, World]
) -> None:
    page = client.get("/console/login")
    client.post("/console/login", data={"username": "mm", "password": PASSWORD,
                                        "csrf_token": _csrf(page.text)})  # fmt: skip
    board = client.get("/console/listing")
    assert board.status_code == 200 and "培育库分布" in board.text
    token = _csrf(board.text)
    item = next(i for i in load_plan().coaching_plan[ListingTier.reserve] if not i.per_board)
    before = snapshot(world_engine[0])
    wrong = client.post("/console/listing/coaching", data={
        "csrf_token": token, "item": "nowhere:x", "day": "2026-12-20"})  # fmt: skip
    assert "请选择辅导计划条目" in wrong.text and snapshot(world_engine[0]) == before
    made = client.post("/console/listing/coaching", follow_redirects=False, data={
        "csrf_token": token, "item": f"reserve:{item.key}", "day": "2026-12-20",
        "starts": "14:00", "ends": "16:30", "venue": "中心二楼"})  # fmt: skip
    assert made.status_code == 303 and made.headers["location"].startswith("/console/events/")
    event = client.get(made.headers["location"])
    assert f"上市培育·{item.title}" in event.text and "2026-12-20 14:00" in event.text
    assert 'id="signin-url"' in event.text
