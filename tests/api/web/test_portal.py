"""The enterprise portal in Debian's Chromium: an enterprise user submits a demand (a refused
form changes nothing), follows it to an introduction, grants consent to the institution it cannot
name yet, answers the survey after the deal; the notice mails reach a real local SMTP server
exactly once each."""

from datetime import date
from typing import Any

from sqlmodel import Session

from models import Institution, Match
from models.db import make_engine, session_scope
from models.reference import PipelineStage, UserRole
from services.accounts.service import create_user
from services.digests.delivery import SmtpMailer
from services.pipeline import service as pipeline
from tests import factories
from tests.api.web.conftest import PASSWORD, Center, screenshot, sign_in
from tests.services.portal.test_notices import run
from tests.workers.receivers import smtp_server


def _enterprise_user(engine: Any, username: str) -> str:
    """A new enterprise with its portal user; the institution it will be introduced to."""
    with Session(engine) as session:
        ent = factories.enterprise(session)
        create_user(session, username, PASSWORD, UserRole.enterprise, None,
                    enterprise_id=ent.id, email="cfo@qiye.example")  # fmt: skip
        session.commit()
    return username


def _deal(engine: Any, match_id: int) -> None:
    with session_scope(engine) as session:
        for stage in (PipelineStage.meeting, PipelineStage.due_diligence, PipelineStage.term_sheet):
            match = session.get(Match, match_id)
            assert match is not None
            pipeline.move_match(session, match_id, stage, match.version, actor="mm")
        pipeline.record_deal(session, match_id=match_id, amount_wan=400, closed_on=date.today(),
                             actor="mm")  # fmt: skip


def test_enterprise_user_submits_follows_consents_and_answers_the_survey(
    browser: Any, center: Center
) -> None:
    engine = make_engine(center.database_url)
    with Session(engine) as session:
        bank = session.get(Institution, center.own_institution)
        assert bank is not None
        bank_id, bank_name = bank.id or 0, bank.name
    page = sign_in(browser, center, _enterprise_user(engine, "qiye_web"))
    assert page.url.endswith("/console/portal")
    assert page.get_by_role("navigation", name="主导航").get_by_role("link").all_inner_texts() == [
        "我的需求与对接", "提交需求", "信息授权", "投诉与建议"
    ]  # fmt: skip
    page.get_by_role("link", name="提交需求").click()
    page.get_by_label("融资方式").select_option(label="贷款")
    page.get_by_label("拟融资金额下限（万元）").fill("800")
    page.get_by_label("拟融资金额上限（万元）").fill("300")
    page.get_by_role("button", name="提交需求").click()
    assert "下限 800 万元大于上限 300 万元" in page.locator(".flash").inner_text()
    page.goto("/console/portal")
    assert page.get_by_text("尚未提交融资需求").is_visible()  # the refusal stored nothing
    page.get_by_role("link", name="提交需求").click()
    page.get_by_label("融资方式").select_option(label="贷款")
    page.get_by_label("拟融资金额下限（万元）").fill("300")
    page.get_by_label("拟融资金额上限（万元）").fill("800")
    page.get_by_label("资金用途").fill("研发中心建设")
    page.get_by_role("button", name="提交需求").click()
    assert "状态：待对接" in page.locator(".flash").inner_text()
    assert page.locator("#demand-status").inner_text() == "待对接"
    demand_id = int(page.url.rstrip("/").rsplit("/", 1)[1])

    with smtp_server() as (port, inbox):
        mailer = SmtpMailer("127.0.0.1", port, timeout=10)
        with session_scope(engine) as session:
            match_id = pipeline.introduce(session, demand_id=demand_id, institution_id=bank_id,
                                          actor="mm").id or 0  # fmt: skip
        run(engine, mailer)
        page.goto("/console/portal")
        row = page.locator(f"#introductions-table tr[data-match='{match_id}']")
        assert "已引荐" in row.locator(".stage").inner_text()
        assert "授权后显示机构名称" in row.inner_text() and bank_name not in page.content()
        assert page.locator(".demand-status").first.inner_text() == "对接中"
        row.get_by_role("button", name="授权该机构").click()
        assert "的机构授权" in page.locator(".flash").inner_text()
        assert bank_name in row.locator(".institution").inner_text()
        screenshot(page, "portal-introduction")

        _deal(engine, match_id)
        run(engine, mailer)
        page.goto("/console/portal")
        assert "成交" in row.locator(".stage").inner_text()
        row.get_by_role("link", name="填写满意度调查").click()
        page.get_by_label("满意", exact=True).check()
        page.get_by_label("意见与建议").fill("对接及时，感谢中心")
        page.get_by_role("button", name="提交评价").click()
        assert "满意度调查已提交" in page.locator(".flash").inner_text()
        assert page.locator(".survey-link").count() == 0
        run(engine, mailer)
        keys = sorted(inbox.unique())
    assert len(inbox) == 2 and inbox.resent() == 0
    assert [k.split("-")[1] for k in keys] == ["introduction", "survey"]
    page.goto("/console/portal")
    assert page.locator("#notices + table tbody tr").count() == 2
    page.goto("/console/portal/complaints")
    assert "满意度 4" in page.locator("#complaints-table").inner_text()
    page.goto("/console/demands")
    assert page.get_by_role("heading", name="无权访问").is_visible()
    engine.dispose()
