"""A generated center served by the real app (uvicorn, in a thread) and Debian's Chromium.

The browser is the distribution's `/usr/bin/chromium` driven by Playwright, never a download. Outside
CI the tests skip when Chromium or Playwright is missing; under CI (`CI` set) they fail instead.
"""

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import uvicorn
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.main import create_app
from demo.generator import generate_center
from models import FinancingDemand, Institution, Subscription
from models.db import make_engine
from models.migrate import upgrade_to_head
from models.reference import DemandStatus, FinancingType, InstitutionKind, UserRole
from models.settings import Settings
from services.accounts.service import create_user, use_password_hasher
from services.jobs import Publisher
from services.recommendations.service import recommend_for_demand
from workers.celery_app import create_celery_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
PASSWORD = "console-pass-2026"
SECRET = "web-console-test-secret-0123456789abcdef"
ROOT = Path(__file__).resolve().parents[3]
# The README's screenshots are refreshed only on request (`UPDATE_SCREENSHOTS=1`); an ordinary
# test run writes its PNGs under var/ so it never dirties the working tree.
SCREENSHOTS = ROOT / ("docs" if os.environ.get("UPDATE_SCREENSHOTS") else "var") / "screenshots"
LENDERS = (InstitutionKind.bank, InstitutionKind.guarantee)
use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@dataclass(frozen=True)
class Center:
    """What the tests need to know about the generated center."""

    base_url: str
    demand_id: int
    enterprise_id: int
    own_institution: int
    other_institution: int
    database_url: str
    broker_url: str | None  # where the app publishes jobs (None: no test Redis)


def _broker() -> str | None:
    """The test Redis on database 10 (emptied), where the console publishes its jobs for a
    real worker (tests/workers/test_fault_tolerance.py lists the numbers taken)."""
    base = os.environ.get("TEST_REDIS_URL")
    if not base:
        return None
    url = base.rsplit("/", 1)[0] + "/10"
    redis.Redis.from_url(url).flushdb()
    return url


def _publisher(broker: str | None) -> Publisher | None:
    if broker is None:
        return None
    app = create_celery_app(Settings(redis_url=broker))
    return lambda job: app.send_task(job.name, args=job.args, kwargs=job.kwargs)


def _browser_or_skip() -> None:
    missing = None
    if shutil.which(CHROMIUM) is None:
        missing = f"Chromium 不在 {CHROMIUM}（make test 会用 apt 安装 chromium）"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing = "未安装 Python 包 playwright（pip install -e .[dev]）"
    if missing and os.environ.get("CI"):
        pytest.fail(missing)
    if missing:
        pytest.skip(missing)


def _lending_demand(session: Session) -> int:
    """An open loan demand with at least ten ranked institutions, a lender among them, asking
    under 1,000 万元 (the console's deal of 1,234.5 万元 must exceed its upper bound)."""
    query = select(FinancingDemand).where(
        FinancingDemand.status == DemandStatus.open,
        FinancingDemand.financing_type == FinancingType.loan,
        FinancingDemand.amount_max_wan < 1000,
    )
    lenders = {
        i.id for i in session.exec(select(Institution).where(col(Institution.kind).in_(LENDERS)))
    }
    for demand in session.exec(query.order_by(col(FinancingDemand.id))):
        items = recommend_for_demand(session, demand.id or 0, k=20).items
        if len({i.institution_id for i in items}) >= 10 and items[0].institution_id in lenders:
            return demand.id or 0
    raise AssertionError("生成的中心里没有可推荐 10 家以上机构的贷款需求")


def _seed(engine: Engine) -> tuple[int, int, int]:
    with Session(engine) as session:
        generate_center(session, enterprises=300)
        session.commit()
        subscribed = session.exec(
            select(Subscription.institution_id).order_by(col(Subscription.id))
        )
        own = subscribed.first() or 1
        other = session.exec(select(Institution.id).where(Institution.id != own)).first() or 2
        for name, role, inst in [("mm", UserRole.matchmaker, None), ("eva", UserRole.evaluator, None),
                                 ("inst_a", UserRole.institution, own),
                                 ("inst_b", UserRole.institution, other)]:  # fmt: skip
            create_user(session, name, PASSWORD, role, inst)
        demand = _lending_demand(session)
        session.commit()
    return demand, own, other


def _enterprise_of(engine: Engine, demand_id: int) -> int:
    with Session(engine) as session:
        demand = session.get(FinancingDemand, demand_id)
        assert demand is not None
        return demand.enterprise_id


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def center(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Center]:
    """A 300-enterprise center in a temporary SQLite file, served on 127.0.0.1."""
    _browser_or_skip()
    path = tmp_path_factory.mktemp("web") / "center.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_to_head(engine)
    demand, own, other = _seed(engine)
    settings = Settings(secret_key=SECRET, database_url=f"sqlite:///{path}")
    port, broker = _free_port(), _broker()
    app = create_app(settings, engine, _publisher(broker))
    config = uvicorn.Config(app, host="127.0.0.1", port=port,
                            log_level="warning", ws="none", lifespan="off")  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    _wait_started(server)
    yield Center(f"http://127.0.0.1:{port}", demand, _enterprise_of(engine, demand), own, other,
                 settings.database_url, broker)  # fmt: skip
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


def _wait_started(server: uvicorn.Server, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn 未能在时限内启动")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def browser(center: Center) -> Iterator[Any]:
    """Debian's Chromium under Playwright (headless)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def screenshot(page: Any, name: str, *, full_page: bool = False) -> Path:
    """Save a PNG of `page` (the 1366×900 viewport, or the whole page) under SCREENSHOTS."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    out = SCREENSHOTS / f"{name}.png"
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(out), full_page=full_page, animations="disabled")
    return out


def sign_in(browser: Any, center: Center, username: str) -> Any:
    """A fresh browser context signed in as `username`; returns its page."""
    context = browser.new_context(base_url=center.base_url, locale="zh-CN",
                                  viewport={"width": 1366, "height": 900})  # fmt: skip
    page = context.new_page()
    page.goto("/console/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    return page
