"""The Celery app's configuration, and the embedded (eager) mode and CLI end to end on SQLite."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from models.settings import Settings
from tests.workers.receivers import smtp_server
from workers import tasks
from workers.celery_app import app, create_celery_app

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_app_is_configured_from_settings() -> None:
    settings = Settings(
        redis_url="redis://cache.internal:6380/3",
        celery_visibility_timeout=77,
        celery_soft_time_limit=11,
        celery_hard_time_limit=22,
        celery_always_eager=True,
        digest_send_hour=9,
    )
    conf = create_celery_app(settings).conf
    assert conf.broker_url == conf.result_backend == "redis://cache.internal:6380/3"
    assert conf.broker_transport_options["visibility_timeout"] == 77
    assert (conf.task_soft_time_limit, conf.task_time_limit) == (11, 22)
    assert conf.task_always_eager is True and conf.worker_prefetch_multiplier == 1
    schedule = conf.beat_schedule
    assert schedule["digests-daily"]["args"] == ("daily",)
    assert schedule["digests-weekly"]["schedule"].hour == {9}
    assert {e["task"] for e in schedule.values()} == {
        "digests.dispatch",
        "digests.sweep",
        "nightly.rerank",
        "nightly.retrain",
        "audit.anchor",
        "portal.notify",
        "demands.expire",
    }
    expire = schedule["demands-expire"]["schedule"]  # just after midnight at the center
    assert (expire.hour, expire.minute) == ({0}, {5}) and conf.timezone == "Asia/Shanghai"


def test_task_names_are_explicit_and_only_idempotent_ones_ack_late() -> None:
    assert tasks.deliver_digest.name == "digests.deliver"
    late = {name for name, task in app.tasks.items() if not name.startswith("celery.")}
    assert late >= {"digests.deliver", "roadshow.schedule", "nightly.retrain"}
    acks_late = {n: app.tasks[n].acks_late for n in late}
    assert acks_late == {
        "digests.dispatch": True,
        "digests.run_period": True,
        "digests.deliver": True,
        "digests.sweep": True,
        "nightly.rerank": True,
        "nightly.retrain": False,
        "roadshow.schedule": False,
        "subscriptions.confirmation_mail": False,
        "audit.anchor": True,
        "portal.notify": True,
        "demands.expire": True,
    }


EAGER_SCRIPT = """
from datetime import date, timedelta
import typer
from cli import digests as digests_cli
from models import Enterprise, FinancingDemand, Institution, Subscription
from models.base import utcnow
from models.db import get_engine, session_scope
from models.migrate import upgrade_to_head
from models.reference import FinancingType, InstitutionKind
from services.digests.service import run_digest_period

upgrade_to_head(get_engine())
with session_scope() as s:
    inst = Institution(name="嵌入模式机构", kind=InstitutionKind.bank,
                       agreement_start=date(2020, 1, 1))
    ent = Enterprise(legal_name="嵌入模式企业有限公司", normalized_name="嵌入模式", industry_code="I65")
    s.add_all([inst, ent]); s.flush()
    s.add(FinancingDemand(enterprise_id=ent.id, financing_type=FinancingType.loan,
                          amount_min_wan=100, amount_max_wan=300,
                          updated_at=utcnow() - timedelta(hours=1)))
    for n, freq in enumerate(["daily", "daily", "weekly"]):
        s.add(Subscription(institution_id=inst.id, name=f"订阅{n}", frequency=freq,
                           email=f"e{n}@example.com"))
with session_scope() as s:
    report = run_digest_period(s, "2030-01-01", utcnow())  # published after commit, run eagerly
print("eager created", report.created)
app = typer.Typer()
digests_cli.register(app)
app(["digests", "run", "--period", "2030-W01"], standalone_mode=False)
app(["digests", "dead"], standalone_mode=False)
"""


def test_eager_mode_and_cli_deliver_without_a_broker(tmp_path: Path) -> None:
    with smtp_server() as (port, inbox):
        env = dict(os.environ)
        env.update(
            DATABASE_URL=f"sqlite:///{tmp_path / 'eager.sqlite'}",
            CELERY_ALWAYS_EAGER="1",
            REDIS_URL="redis://127.0.0.1:1/0",  # nothing listens: eager mode must not need it
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(port),
            DIGEST_RANK_WITH_CORE="0",
            PYTHONWARNINGS="ignore",
        )
        done = subprocess.run(
            [sys.executable, "-c", EAGER_SCRIPT],
            env=env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "eager created 2" in done.stdout
    assert "新建推送 1 条" in done.stdout and "送达 1 条" in done.stdout
    assert "没有已放弃的推送" in done.stdout
    assert len(inbox.unique()) == 3


def test_the_backlog_of_an_empty_redis_queue_is_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    """Redis drops a list with its last message, and kombu's passive declare then reports the
    queue as unknown: that must read as 0 waiting (the sweep runs exactly then), not fail."""
    base = os.environ.get("TEST_REDIS_URL")
    if not base:
        pytest.skip("Redis not available (run through `make test`)")
    url = base.rsplit("/", 1)[0] + "/14"
    redis.Redis.from_url(url).flushdb()
    celery = create_celery_app(Settings(redis_url=url, celery_always_eager=False))
    monkeypatch.setattr(tasks, "app", celery)
    assert tasks.broker_backlog() == 0
    for n in range(3):
        celery.send_task("digests.deliver", args=[n])
    assert tasks.broker_backlog() == 3
    redis.Redis.from_url(url).flushdb()
    assert tasks.broker_backlog() == 0


LEGACY_SCRIPT = """
from datetime import date, timedelta
import typer
from sqlmodel import Session, select
from cli import digests as digests_cli
from models import DigestDelivery, Enterprise, FinancingDemand, Institution, Subscription
from models.base import utcnow
from models.db import get_engine, session_scope
from models.migrate import upgrade_to_head
from models.reference import FinancingType, InstitutionKind

upgrade_to_head(get_engine())
with session_scope() as s:
    inst = Institution(name="遗留数据机构", kind=InstitutionKind.bank,
                       agreement_start=date(2020, 1, 1))
    ent = Enterprise(legal_name="遗留数据企业有限公司", normalized_name="遗留数据", industry_code="I65")
    s.add_all([inst, ent]); s.flush()
    s.add(FinancingDemand(enterprise_id=ent.id, financing_type=FinancingType.loan,
                          amount_min_wan=100, amount_max_wan=300,
                          updated_at=utcnow() - timedelta(hours=1)))
    for n, email in enumerate(["a@example.com", "v@example.com\\r\\nBcc: x@evil.example",
                               "b@example.com"]):
        s.add(Subscription(institution_id=inst.id, name=f"订阅{n}", frequency="daily", email=email))
app = typer.Typer()
digests_cli.register(app)
app(["digests", "run", "--period", "2030-01-01"], standalone_mode=False)
with Session(get_engine()) as s:
    for d in s.exec(select(DigestDelivery).order_by(DigestDelivery.id)):
        print("row", d.subscription_id, d.status.value, d.last_error)
"""


def test_a_legacy_crlf_address_neither_crashes_the_run_nor_holds_up_the_others(
    tmp_path: Path,
) -> None:
    with smtp_server() as (port, inbox):
        env = dict(os.environ)
        env.update(
            DATABASE_URL=f"sqlite:///{tmp_path / 'legacy.sqlite'}",
            CELERY_ALWAYS_EAGER="1",
            REDIS_URL="redis://127.0.0.1:1/0",
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(port),
            DIGEST_RANK_WITH_CORE="0",
            PYTHONWARNINGS="ignore",
        )
        done = subprocess.run(
            [sys.executable, "-c", LEGACY_SCRIPT],
            env=env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "新建推送 3 条" in done.stdout and "送达 2 条" in done.stdout
    assert "已放弃 1 条" in done.stdout
    rows = [line.split(" ", 3) for line in done.stdout.splitlines() if line.startswith("row ")]
    assert [r[2] for r in rows] == ["delivered", "dead", "delivered"]
    assert "接收邮箱无效" in rows[1][3]
    assert len(inbox.unique()) == 2
    assert all("evil" not in str(m) for m in inbox.messages)
