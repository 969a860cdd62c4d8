"""Notice mails to enterprise users: an introduction, an institution's request for consent, the
satisfaction survey of a closed introduction. Each is sent exactly once.

`collect` inserts one `PortalNotice` per (kind, match, user) under a unique key, so however often
it runs (beat, two workers at once) a notice exists once; `send` claims a pending notice with a
conditional UPDATE before mailing it, so of two senders one mails it. The mail's Message-ID is
the key: a crash after the SMTP server accepted a mail but before `sent` was committed leaves
the notice `sending`, and it is not sent again (a receiver that dedupes on Message-ID would
absorb a resend anyway). The mails name no institution: the portal shows what consent allows.
"""

from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from sqlmodel import Session

from models import PortalNotice, User
from models.reference import NoticeKind, NoticeStatus, PipelineStage
from services.digests.delivery import DeliveryError, Mailer
from services.disclosure.service import consenting_institutions
from services.portal import repository as repo

NOTIFY_TASK = "portal.notify"
MAX_ATTEMPTS = 5  # a transient SMTP failure is retried at the next run, up to this many times
PORTAL_PATH = "/console/portal"
_TEXT = {
    NoticeKind.introduction: "中心已将您的融资需求（编号 {demand}）引荐给一家入驻机构，"
    "您可以在企业门户查看对接进度。",
    NoticeKind.consent_request: "一家入驻机构申请与您的融资需求（编号 {demand}）对接，"
    "需要您授权后中心才会向其披露企业信息。请登录企业门户决定是否授权。",
    NoticeKind.survey: "您的融资需求（编号 {demand}）的一项对接已结束，"
    "请登录企业门户填写满意度调查，帮助中心改进服务。",
}


def notice_key(kind: NoticeKind, match_id: int, user_id: int) -> str:
    """The notice's unique key and Message-ID local part."""
    return f"portal-{kind.value}-{match_id}-{user_id}"


def _kinds(row: Any, consented: Callable[[int, int], bool]) -> list[NoticeKind]:
    """The notices a candidate row calls for."""
    if row.introduced_at is not None:
        closed = PipelineStage(row.stage).is_closed
        return [NoticeKind.introduction, *([NoticeKind.survey] if closed else [])]
    if row.requested and not consented(row.enterprise_id, row.institution_id):
        return [NoticeKind.consent_request]
    return []


def collect(session: Session, now: datetime) -> int:
    """Insert the notices now due (each once, whoever else runs this); how many were new."""
    new = 0

    def consented(enterprise_id: int, institution_id: int) -> bool:
        return institution_id in consenting_institutions(session, enterprise_id, now)

    for row in repo.notice_candidates(session):
        for kind in _kinds(row, consented):
            new += repo.add_notice(session, {
                "key": notice_key(kind, row.match_id, row.user_id), "kind": kind.value,
                "user_id": row.user_id, "match_id": row.match_id, "attempts": 0,
                "status": NoticeStatus.pending.value, "created_at": now,
            })  # fmt: skip
    return new


def notice_mail(
    notice: PortalNotice, user: User, demand_id: int, *, mail_from: str, domain: str,
    base_url: str, now: datetime,
) -> EmailMessage:  # fmt: skip
    """The mail of one notice, in Chinese; its Message-ID is the notice's key."""
    kind = NoticeKind(notice.kind)
    message = EmailMessage()
    message["Subject"] = f"【科技金融服务中心】{kind.label}（需求编号 {demand_id}）"
    message["From"] = mail_from
    message["To"] = user.email or ""
    message["Date"] = format_datetime(now)
    message["Message-ID"] = f"<{notice.key}@{domain}>"
    message["X-Matchmaker-Notice"] = notice.key
    message.set_content(
        f"{user.username}，您好！\n\n{_TEXT[kind].format(demand=demand_id)}\n\n"
        f"企业门户：{base_url.rstrip('/')}{PORTAL_PATH}\n\n"
        "本邮件由系统自动发送，请勿直接回复。\n"
    )
    return message


def send(
    session: Session, notice_id: int, mailer: Mailer, now: datetime, *, mail_from: str,
    domain: str, base_url: str,
) -> NoticeStatus | None:  # fmt: skip
    """Claim a pending notice and mail it; None when someone else has claimed it. A mail the
    server refused ends `failed` with the reason; a transient failure waits for the next run."""
    if not repo.claim_notice(session, notice_id):
        return None
    notice = session.get(PortalNotice, notice_id)
    assert notice is not None  # claimed just now
    user = session.get(User, notice.user_id)
    demand_id = repo.demand_of_match(session, notice.match_id)
    if user is None or not user.email or not user.active:
        repo.finish_notice(session, notice_id, NoticeStatus.failed, None, "用户已停用或没有邮箱")
        return NoticeStatus.failed
    mail = notice_mail(notice, user, demand_id, mail_from=mail_from, domain=domain,
                       base_url=base_url, now=now)  # fmt: skip
    try:
        mailer.send(mail)
    except DeliveryError as exc:
        again = exc.transient and notice.attempts < MAX_ATTEMPTS
        status = NoticeStatus.pending if again else NoticeStatus.failed
        repo.finish_notice(session, notice_id, status, None, exc.message[:480])
        return status
    repo.finish_notice(session, notice_id, NoticeStatus.sent, now, None)
    return NoticeStatus.sent
