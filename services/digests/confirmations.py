"""The confirmation mail of a subscription's e-mail address (see services/digests/subscriptions.py).

The code is generated here, in the worker, so it never travels through the broker: the task
carries the subscription id only. Each mail issues a new code; the previous one stops working.
Services never commit: the task around `send_confirmation` does.
"""

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlmodel import Session

from models import Institution, Subscription
from services.digests.checks import normalize_email
from services.digests.delivery import Mailer, PermanentDeliveryError
from services.digests.subscriptions import issue_confirmation

CONFIRM_TASK = "subscriptions.confirmation_mail"


def confirmation_mail(
    sub: Subscription,
    institution: str,
    to: str,
    token: str,
    hours: int,
    *,
    mail_from: str,
    domain: str,
) -> EmailMessage:
    """The mail that asks the address's owner to pass the code on, or to ignore it; it names
    the institution that asks, so the owner knows to whom the code would go."""
    message = EmailMessage()
    message["Subject"] = "【科技金融服务中心】请确认项目推送的接收邮箱"
    message["From"] = mail_from
    message["To"] = to
    message["Date"] = format_datetime(datetime.now().astimezone())
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(
        f"您好！入驻本中心的机构“{institution}”将本邮箱登记为其项目推送订阅"
        f"“{sub.name}”（编号 {sub.id}）的接收地址。\n\n"
        f"如您同意接收，请将以下确认码告知该机构，由其在系统中提交（{hours} 小时内有效）：\n\n"
        f"    {token}\n\n"
        "如非您本人或贵机构的安排，请忽略本邮件：确认之前，本邮箱不会收到任何推送。\n"
    )
    return message


def send_confirmation(
    session: Session,
    subscription_id: int,
    mailer: Mailer,
    now: datetime,
    *,
    hours: int,
    mail_from: str,
    domain: str,
) -> bool:
    """Issue a new code for an unconfirmed address and mail it; False if there is nothing to
    confirm (confirmed already, no address, subscription gone). Raises DeliveryError."""
    sub = session.get(Subscription, subscription_id)
    if sub is None or sub.email_confirmed or not sub.email:
        return False
    try:
        to = normalize_email(sub.email)
    except ValueError as exc:
        raise PermanentDeliveryError(str(exc)) from exc
    institution = session.get(Institution, sub.institution_id)
    name = institution.name if institution else f"机构 {sub.institution_id}"
    token = issue_confirmation(session, sub, now, hours)
    mailer.send(confirmation_mail(sub, name, to, token, hours, mail_from=mail_from, domain=domain))
    return True
