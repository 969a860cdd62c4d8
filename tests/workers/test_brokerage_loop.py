"""The brokerage loop of issue #23 end to end on PostgreSQL, Redis, a real `celery worker` and a
local SMTP server: a district workbook (real xlsx) keeps what it reads and flags what it must;
an introduced bank's disbursement list links to the introduction, the demand becomes 已融资 and
leaves the next digest (run by the worker, delivered over SMTP), the recommendations and the
teasers, and 撮合贷款金额 (表A.1) rises by exactly the amount. Also: the nightly
`demands.expire`, fired by a real `celery beat`, expires a demand past its deadline."""

import random
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from ingestion.uscc import make_uscc
from models import (
    ContactPerson,
    DigestDelivery,
    Enterprise,
    EnterpriseChange,
    FinancingDemand,
    ImportRow,
)
from models.base import utcnow
from models.clock import center_today
from models.db import session_scope
from models.errors import ConflictError
from models.reference import (
    DeliveryStatus,
    DemandStatus,
    FinancingType,
    ImportOutcome,
    InstitutionKind,
    UserRole,
)
from models.settings import Settings
from services.accounts.service import Principal
from services.disclosure.service import visible_teasers
from services.evaluation import Period, appendix_a
from services.imports.service import import_file
from services.jobs import PUBLISHER_KEY
from services.pipeline import demands
from services.pipeline import service as pipeline
from services.recommendations.service import recommend_for_demand
from tests import factories as f
from tests.ingestion.helpers import write_xlsx
from tests.workers.processes import Fleet, fleet, service_env, wait_for
from tests.workers.receivers import Inbox, smtp_server
from tests.workers.test_fault_tolerance import pg_engine, redis_url  # noqa: F401 (fixture)
from workers.celery_app import beat_schedule, create_celery_app

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

RNG = random.Random(2323)
USCC = [make_uscc(RNG, "330106") for _ in range(5)]
BANK = "杭州银行股份有限公司科技支行"
AMOUNT = 2600.0
HEADER = ["需求编号", "企业名称", "统一社会信用代码", "所属行业", "成立日期", "营业收入（万元）", "融资方式",
          "拟融资金额（万元）", "期限", "联系人", "职务", "联系电话", "邮箱"]  # fmt: skip


def _workbook(folder: Path) -> Path:
    """Numbered demands. Row 2 the demand the bank will fund (contacts, a free-text industry); row 3 changed facts
    of a stored enterprise; row 4 a second open loan of a stored enterprise (overlapping range);
    row 5 an amount typed in 元 under a 万元 header; row 6 another free-text industry."""
    rows = [
        ["HZ-001", "杭州智研人工智能科技有限公司", USCC[0], "人工智能", None, None, "信用贷款", AMOUNT,
         "1年", "张三", "财务总监", "13800138000", "zhangsan@example.com"],
        ["HZ-002", "杭州老牌精密仪器有限公司", USCC[1], None, "2014-03-01", 2500, "信用贷款", "300-500",
         "12个月", None, None, None, None],
        ["HZ-003", "杭州重复需求科技有限公司", USCC[2], None, None, None, "信用贷款", 600, None, None, None,
         None, None],
        ["HZ-004", "杭州元单位科技有限公司", USCC[3], "医疗器械", None, None, "贷款", 5_000_000, None,
         "王五", None, "13900139000", None],
        ["HZ-005", "杭州光谷电子有限公司", USCC[4], "光电子器件制造", None, None, "信用贷款", "400-800",
         "24个月", "李四", "董秘", "0571-88886666", None],
    ]  # fmt: skip
    return write_xlsx(folder / "区县融资需求.xlsx", {"融资需求": [HEADER, *rows]})


def _disbursements(folder: Path, on: date) -> Path:
    header = ["企业名称", "统一社会信用代码", "机构名称", "放款金额（万元）", "放款日期"]
    row = ["杭州智研人工智能科技有限公司", USCC[0], BANK, AMOUNT, on.isoformat()]
    return write_xlsx(folder / "放款明细.xlsx", {"放款明细": [header, row]})


def _credit(session: Session, year: int) -> float:
    return float(appendix_a(session, Period.year(year)).value("credit_amount"))


def _stored(session: Session) -> dict[str, int]:
    """A bank with a loan product and a daily e-mail subscription; two stored enterprises, the
    second with an open loan demand of 500–800 万元. Ids by role."""
    bank = f.institution(session, name=BANK, kind=InstitutionKind.bank, regions_served=["3301"])
    f.loan_product(session, bank, min_amount_wan=100.0, max_amount_wan=5000.0)
    sub = f.subscription(session, institution_id=bank.id, frequency="daily",
                         email="dealflow@hzbank.example.com")  # fmt: skip
    old = f.enterprise(session, uscc=USCC[1], legal_name="杭州老牌精密仪器有限公司",
                       normalized_name="老牌精密仪器", region_code="330106",
                       founded_on=date(2015, 3, 1), revenue_wan=1200.0)  # fmt: skip
    dup = f.enterprise(session, uscc=USCC[2], legal_name="杭州重复需求科技有限公司",
                       normalized_name="重复需求科技", region_code="330106")  # fmt: skip
    f.demand(session, dup, financing_type=FinancingType.loan, amount_min_wan=500.0,
             amount_max_wan=800.0, source_ref="HZ-000")  # fmt: skip
    return {"bank": bank.id or 0, "sub": sub.id or 0, "old": old.id or 0}


def _digest(engine: Engine, app_broker: str, inbox: Inbox, period: str, sub_id: int) -> list[int]:
    """Ask the worker to run `period`; the demand refs of the mail it delivers over SMTP."""
    create_celery_app(Settings(redis_url=app_broker)).send_task("digests.run_period",
                                                                args=[period])  # fmt: skip
    seen = len(inbox)
    assert wait_for(lambda: len(inbox) > seen, timeout=60, interval=0.2), "no digest mail"
    with Session(engine) as session:
        row = session.exec(select(DigestDelivery).where(DigestDelivery.period == period,
                                                        DigestDelivery.subscription_id == sub_id)).one()  # fmt: skip
        assert row.status == DeliveryStatus.delivered
    message = inbox.messages[-1]
    assert message["To"] == "dealflow@hzbank.example.com"
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    body = text.get_payload(decode=True).decode("utf-8")
    return [int(n) for n in re.findall(r"需求编号 (\d+)", body)]


def _demand_of(session: Session, uscc: str) -> FinancingDemand:
    ent = session.exec(select(Enterprise).where(Enterprise.uscc == uscc)).one()
    query = select(FinancingDemand).where(FinancingDemand.enterprise_id == ent.id)
    return session.exec(query).one()


def _import_checks(session: Session, tmp_path: Path, ids: dict[str, int]) -> None:
    summary = import_file(session, _workbook(tmp_path), "demands", user="区县专员")
    counts = (summary.inserted, summary.held, summary.quarantined, summary.contacts_stored)
    assert counts == (3, 1, 1, 2)
    contacts = {c.name: c for c in session.exec(select(ContactPerson))}
    assert set(contacts) == {"张三", "李四"} and contacts["张三"].phone == "13800138000"
    firms = {e.uscc: e for e in session.exec(select(Enterprise))}
    assert (firms[USCC[0]].industry_code, firms[USCC[4]].industry_code) == ("I65", "C39")
    warnings = {(w.row, w.rule) for w in summary.warnings}
    assert (5, "amount_unit") in warnings and USCC[3] not in firms  # 元: held, not stored
    changed = {(c["field"], c["old"], c["new"]) for c in summary.changes}
    assert changed == {("founded_on", "2015-03-01", "2014-03-01"),
                       ("revenue_wan", "1200.0", "2500.0")}  # fmt: skip
    stored = session.exec(
        select(EnterpriseChange).where(EnterpriseChange.batch_id == summary.batch_id)
    )
    assert {c.enterprise_id for c in stored} == {ids["old"]}
    rows = {
        r.row_number: r
        for r in session.exec(select(ImportRow).where(ImportRow.batch_id == summary.batch_id))
    }
    assert rows[4].outcome is ImportOutcome.review  # the duplicate: in the review queue
    assert "待复核" in (rows[5].reason or "") and "疑为以“元”填写" in (rows[5].reason or "")
    duplicate = next(r for r in summary.held_rows if r["row"] == 4)
    assert "金额区间重叠" in duplicate["message"]
    dup_demands = session.exec(
        select(FinancingDemand).join(Enterprise).where(Enterprise.uscc == USCC[2])
    )
    assert len(dup_demands.all()) == 1  # the second open demand waits for review


def test_the_brokerage_loop_end_to_end(pg_engine: Engine, tmp_path: Path) -> None:  # noqa: F811
    broker = redis_url(10)  # its own database (see `redis_url`)
    app = create_celery_app(Settings(redis_url=broker))
    today = center_today()
    with session_scope(pg_engine) as session:
        session.info[PUBLISHER_KEY] = lambda job: app.send_task(job.name, args=job.args)
        ids = _stored(session)
        _import_checks(session, tmp_path, ids)
        funded = _demand_of(session, USCC[0])
        other = _demand_of(session, USCC[4])
        funded_id, other_id = funded.id or 0, other.id or 0
        pipeline.introduce(session, demand_id=funded_id, institution_id=ids["bank"],
                           actor="mm_zhang", at=utcnow() - timedelta(days=30))  # fmt: skip
        assert DemandStatus(funded.status) is DemandStatus.open
    with smtp_server() as (port, inbox):
        env = service_env(pg_engine.url.render_as_string(hide_password=False), broker, port)
        with fleet(env, tmp_path, workers=1) as group:
            first = _digest(pg_engine, broker, inbox, "2030-01-01", ids["sub"])
            assert {funded_id, other_id} <= set(first), group.logs()
            with session_scope(pg_engine) as session:
                before = _credit(session, today.year)
                deals = import_file(
                    session, _disbursements(tmp_path, today), "deals", user="导入员"
                )
                assert (deals.inserted, deals.related["deals_linked"]) == (1, 1)
                state = demands.demand_state(session, funded_id)
                assert (state.demand.status, state.demand.amount_raised_wan, state.remaining_wan) == (
                    DemandStatus.funded, AMOUNT, 0)  # fmt: skip
                assert _credit(session, today.year) == before + AMOUNT  # exactly the amount
                demands.edit(
                    session, other_id, {"amount_max_wan": 900}, note="企业追加", actor="mm_zhang"
                )  # fmt: skip  (changed: due in the next digest)
            second = _digest(pg_engine, broker, inbox, "2030-01-02", ids["sub"])
            assert other_id in second and funded_id not in second, group.logs()
            assert "Traceback" not in group.logs(), group.logs()
    with Session(pg_engine) as session:
        with pytest.raises(ConflictError, match="已融资"):
            demands.check_open_for_matching(session, funded_id)  # what the API and CLI call
        assert recommend_for_demand(session, other_id, k=5).items  # an open one still ranks
        staff = Principal("mm_zhang", UserRole.matchmaker, None)
        bank = Principal("bank_user", UserRole.institution, ids["bank"])
        for who in (staff, bank):
            shown = {t.demand_id for t in visible_teasers(session, who, 0, 100)[0]}
            assert other_id in shown and funded_id not in shown


def _status(engine: Engine, demand_id: int) -> DemandStatus:
    with Session(engine) as session:
        demand = session.get(FinancingDemand, demand_id)
        assert demand is not None
        return DemandStatus(demand.status)


def test_the_nightly_beat_expires_a_demand_past_its_deadline(
    pg_engine: Engine,  # noqa: F811
    tmp_path: Path,
) -> None:
    assert beat_schedule(Settings())["demands-expire"]["task"] == "demands.expire"
    broker = redis_url(9)
    yesterday = center_today() - timedelta(days=1)
    with session_scope(pg_engine) as session:
        ent = f.enterprise(session)
        late = f.demand(session, ent, deadline=yesterday).id or 0
        due = f.demand(session, ent, deadline=center_today()).id or 0
    env = service_env(pg_engine.url.render_as_string(hide_password=False), broker, 1,
                      FAST_BEAT_EXPIRE="1")  # fmt: skip
    with fleet(env, tmp_path, workers=1) as group:
        group.start_beat("tests.workers.fastbeat", 0)
        expired = wait_for(lambda: _status(pg_engine, late) is DemandStatus.expired,
                           timeout=60, interval=0.5)  # fmt: skip
        logs = group.logs()
    assert expired, logs
    assert _status(pg_engine, due) is DemandStatus.pending  # its deadline is today: still open
    assert _fleet_ran_expire(group), logs


def _fleet_ran_expire(group: Fleet) -> bool:
    text = "".join(p.read_text(errors="replace") for p in group.log_dir.glob("worker*.log"))
    return "demands.expire" in text
