"""Notice mails to enterprise users through a real local SMTP server (aiosmtpd): an introduction,
an institution's request for consent, the survey of a closed introduction; each exactly once,
however often and however concurrently the task runs."""

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email.header import decode_header, make_header

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import Match, PortalNotice
from models.base import utcnow
from models.db import session_scope
from models.reference import NoticeStatus, PipelineStage, UserRole
from services.accounts.service import Principal
from services.digests.delivery import SmtpMailer
from services.pipeline import service as pipeline
from services.portal import notices
from services.portal import repository as repo
from tests import factories
from tests.workers.receivers import Inbox, smtp_server
from workers import tasks


@dataclass(frozen=True)
class Seeded:
    """The ids a test moves."""

    match: int
    demand: int
    bank: int
    user: int


@pytest.fixture
def seeded(committing_engine: Engine) -> Seeded:
    with Session(committing_engine) as session:
        bank = factories.institution(session, kind="bank", name="丙科技银行")
        ent = factories.enterprise(session)
        demand = factories.demand(session, ent)
        match = factories.match(session, demand, bank)
        user = factories.enterprise_user(session, enterprise_id=ent.id, email="cfo@qiye.example")
        factories.enterprise_user(session, email=None)  # no address: never mailed
        other = factories.enterprise_user(session)  # another enterprise: nothing of this
        session.commit()
        assert other.enterprise_id != ent.id
        return Seeded(match.id or 0, demand.id or 0, bank.id or 0, user.id or 0)


@pytest.fixture
def inbox() -> Iterator[tuple[SmtpMailer, Inbox]]:
    with smtp_server() as (port, received):
        yield SmtpMailer("127.0.0.1", port, timeout=10), received


def run(engine: Engine, mailer: SmtpMailer) -> None:
    """What the `portal.notify` task does, over `engine`."""
    with session_scope(engine) as session:
        notices.collect(session, utcnow())
        pending = repo.pending_notices(session)
    for notice_id in pending:
        with session_scope(engine) as session:
            notices.send(session, notice_id, mailer, utcnow(), mail_from="center@example.com",
                         domain="center.example", base_url="https://center.example")  # fmt: skip


def _subjects(received: Inbox) -> list[str]:
    return sorted(str(make_header(decode_header(str(m["Subject"])))) for m in received.messages)


def _close(engine: Engine, match_id: int) -> None:
    with session_scope(engine) as session:
        for stage in (PipelineStage.meeting, PipelineStage.due_diligence,
                      PipelineStage.term_sheet, PipelineStage.closed_won):  # fmt: skip
            match = session.get(Match, match_id)
            assert match is not None
            pipeline.move_match(session, match_id, stage, match.version, actor="mm")


def test_introduction_and_survey_are_mailed_once_each(
    committing_engine: Engine, seeded: Seeded, inbox: tuple[SmtpMailer, Inbox]
) -> None:
    mailer, received = inbox
    run(committing_engine, mailer)
    run(committing_engine, mailer)
    assert received.accepted == [
        f"<portal-introduction-{seeded.match}-{seeded.user}@center.example>"
    ]
    mail = received.messages[0]
    assert mail["To"] == "cfo@qiye.example"
    body = mail.get_payload(decode=True).decode()
    assert f"编号 {seeded.demand}" in body and "https://center.example/console/portal" in body
    assert "丙科技银行" not in body  # the portal, not the mail, shows what consent allows
    _close(committing_engine, seeded.match)
    for _ in range(3):
        run(committing_engine, mailer)
    assert len(received) == 2 and received.resent() == 0
    assert _subjects(received)[1].startswith("【科技金融服务中心】满意度调查邀请")
    with Session(committing_engine) as session:
        statuses = session.exec(select(PortalNotice.status)).all()
    assert statuses == [NoticeStatus.sent, NoticeStatus.sent]


def test_an_institutions_request_asks_for_consent_once(
    committing_engine: Engine, inbox: tuple[SmtpMailer, Inbox]
) -> None:
    mailer, received = inbox
    with session_scope(committing_engine) as session:
        bank = factories.institution(session, kind="bank")
        demand = factories.demand(session)
        user = factories.enterprise_user(session, enterprise_id=demand.enterprise_id)
        asker = Principal("inst", UserRole.institution, bank.id)
        match = pipeline.request_introduction(session, demand_id=demand.id or 0,
                                              principal=asker, message="希望对接")  # fmt: skip
        ids = (match.id, user.id)
    run(committing_engine, mailer)
    run(committing_engine, mailer)
    assert received.accepted == [f"<portal-consent_request-{ids[0]}-{ids[1]}@center.example>"]
    assert "授权请求" in _subjects(received)[0]


@pytest.mark.postgres
def test_concurrent_runs_mail_each_notice_once(
    committing_engine: Engine, seeded: Seeded, inbox: tuple[SmtpMailer, Inbox]
) -> None:
    if committing_engine.dialect.name != "postgresql":
        pytest.skip("concurrent claims are checked on PostgreSQL")
    mailer, received = inbox
    threads = [threading.Thread(target=run, args=(committing_engine, mailer)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(received) == 1 and received.resent() == 0


def test_the_celery_task_sends_through_smtp_exactly_once(
    committing_engine: Engine, seeded: Seeded, inbox: tuple[SmtpMailer, Inbox],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    mailer, received = inbox
    monkeypatch.setattr(tasks, "mailer", lambda: mailer)
    monkeypatch.setattr(tasks, "session_scope", lambda: session_scope(committing_engine))
    first = tasks.notify_enterprises.apply().get()
    again = tasks.notify_enterprises.apply().get()
    assert first == {"created": 1, "sent": 1} and again == {"created": 0, "sent": 0}
    assert len(received) == 1
