"""Celery tasks: each takes ids, opens a session, calls one service function, commits.

The logic lives in `services.digests.service`, `services.recommendations.nightly` and `services.roadshow.runs`, where a test
calls it directly. Anything a task queues (`services.jobs`) is published after its commit.
`acks_late` only on tasks that are harmless to run twice (docs/workers.md).
"""

from functools import lru_cache
from pathlib import Path
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from kombu.exceptions import ChannelError

from models.base import utcnow
from models.clock import center_today
from models.db import session_scope
from models.errors import DomainError
from models.settings import get_settings
from services.audit import anchor as audit_anchor
from services.digests import confirmations
from services.digests import service as digests
from services.digests.delivery import (
    HttpxWebhookSender,
    SmtpMailer,
    TransientDeliveryError,
    mailer_from_settings,
    webhook_sender_from_settings,
)
from services.digests.repository import ClaimBusyError
from services.pipeline import demands
from services.portal import notices
from services.portal import repository as portal_repo
from services.recommendations import nightly
from services.roadshow import runs as slate_runs
from workers.celery_app import app

IDEMPOTENT: dict[str, Any] = {"acks_late": True, "reject_on_worker_lost": True}


@lru_cache(maxsize=1)
def mailer() -> SmtpMailer:
    """This process's SMTP mailer (built after the fork, from settings)."""
    return mailer_from_settings(get_settings())


@lru_cache(maxsize=1)
def webhook_sender() -> HttpxWebhookSender:
    """This process's webhook client (one connection pool per process)."""
    return webhook_sender_from_settings(get_settings())


@app.task(name="digests.dispatch", **IDEMPOTENT)
def dispatch_digests(frequency: str) -> dict[str, Any]:
    """Build the current period of one frequency (beat); deliveries are queued after commit."""
    with session_scope() as session:
        report = digests.run_current_period(session, frequency, utcnow())
    return {"period": report.period, "created": report.created}


@app.task(name="digests.run_period", **IDEMPOTENT)
def run_digest_period(period: str) -> dict[str, Any]:
    """Build one named period (e.g. a missed one), deliveries queued after commit."""
    with session_scope() as session:
        report = digests.run_digest_period(session, period, utcnow())
    return {"period": report.period, "created": report.created}


@app.task(name="digests.deliver", bind=True, max_retries=None, **IDEMPOTENT)
def deliver_digest(self: Any, delivery_id: int) -> str:
    """Deliver one digest; transient failures come back after the backoff the service chose."""
    try:
        with session_scope() as session:
            outcome = digests.deliver(session, delivery_id, mailer(), webhook_sender(), utcnow)
    except ClaimBusyError as exc:
        raise self.retry(exc=exc, countdown=get_settings().digest_claim_lock_timeout) from exc
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status.value


@app.task(name=confirmations.CONFIRM_TASK, bind=True, max_retries=5)
def confirmation_mail(self: Any, subscription_id: int) -> bool:
    """Mail a new confirmation code to a subscription's unconfirmed address (not acks_late:
    each run issues a new code); an SMTP hiccup is retried after the digest backoff."""
    settings = get_settings()
    try:
        with session_scope() as session:
            return confirmations.send_confirmation(
                session, subscription_id, mailer(), utcnow(),
                hours=settings.subscription_confirm_hours, mail_from=settings.mail_from,
                domain=settings.mail_domain,
            )  # fmt: skip
    except TransientDeliveryError as exc:
        raise self.retry(exc=exc, countdown=settings.digest_retry_base_seconds) from exc


@app.task(name=notices.NOTIFY_TASK, **IDEMPOTENT)
def notify_enterprises() -> dict[str, int]:
    """Insert the notices due to enterprise users, then mail each pending one (each exactly
    once: unique keys and claimed sends, see services/portal/notices.py); beat, every minute."""
    settings = get_settings()
    with session_scope() as session:
        created = notices.collect(session, utcnow())
        pending = portal_repo.pending_notices(session)
    sent = 0
    for notice_id in pending:
        with session_scope() as session:
            status = notices.send(session, notice_id, mailer(), utcnow(),
                                  mail_from=settings.mail_from, domain=settings.mail_domain,
                                  base_url=settings.console_url)  # fmt: skip
        sent += status is not None and status.value == "sent"
    return {"created": created, "sent": sent}


def broker_backlog() -> int:
    """Messages waiting in the default queue (0 in eager mode, where nothing waits).

    A queue the broker does not know has nothing waiting: on Redis that is every *empty* queue
    (kombu's passive declare looks for the list, which Redis drops with its last message), so
    a "not found" there is 0, not an error: the sweep must run exactly when the queue is empty.
    """
    if app.conf.task_always_eager:
        return 0
    with app.connection_for_read() as connection:
        queue = app.conf.task_default_queue
        try:
            declared = connection.default_channel.queue_declare(queue, passive=True)
        except ChannelError as exc:
            if str(getattr(exc, "reply_code", "")) != "404":
                raise
            return 0
        return int(declared.message_count)


@app.task(name="digests.sweep", **IDEMPOTENT)
def sweep_digests() -> int:
    """Requeue deliveries left pending or failed for too long (lost publishes, lost messages)."""
    after, backlog = get_settings().digest_sweep_after_seconds, broker_backlog()
    with session_scope() as session:
        ids = digests.requeue_unfinished(session, utcnow(), after, queued=backlog)
    return len(ids)


@app.task(name="nightly.rerank", **IDEMPOTENT)
def nightly_rerank() -> str:
    """Re-rank open demands in batch."""
    with session_scope() as session:
        return nightly.rerank_open_demands(session, utcnow()).message


@app.task(name="nightly.retrain")
def nightly_retrain() -> str:
    """Retrain the ranker when enough new deals were confirmed (not acks_late: costly twice)."""
    settings = get_settings()
    with session_scope() as session:
        report = nightly.retrain_if_due(
            session,
            Path(settings.reranker_model_dir),
            utcnow(),
            settings.retrain_min_new_outcomes,
            settings.retrain_min_outcomes,
        )
    return report.message


@app.task(name="demands.expire", **IDEMPOTENT)
def expire_demands() -> list[int]:
    """Expire the demands whose deadline has passed at the center (beat, after midnight)."""
    with session_scope() as session:
        return demands.expire_overdue(session, center_today())


@app.task(name="audit.anchor", **IDEMPOTENT)
def anchor_audit_chain() -> int:
    """Sign the audit chain's length and head and append them to the anchor file (beat)."""
    with session_scope() as session:
        return audit_anchor.write_anchor(session, get_settings()).rows


@app.task(name=slate_runs.SCHEDULE_TASK)
def schedule_roadshow(run_id: int) -> str:
    """Draw the slate of one queued run (not acks_late: a solver run is costly twice).

    Running is committed before the solver starts, so the console shows it; any error ends
    the run `failed` with its reason, and a redelivered message finds it no longer queued."""
    with session_scope() as session:
        if not slate_runs.start_run(session, run_id, utcnow()):
            return "skipped"
    try:
        with session_scope() as session:
            return slate_runs.finish_run(session, run_id, utcnow()).status.value
    except Exception as exc:
        with session_scope() as session:
            slate_runs.fail_run(session, run_id, failure_message(exc), utcnow())
        if isinstance(exc, DomainError):  # a refusal, not a fault: recorded, nothing to retry
            return "failed"
        raise


def failure_message(exc: Exception) -> str:
    """A run's failure in Chinese: a domain refusal as it is, anything else named."""
    if isinstance(exc, DomainError):
        return exc.message
    if isinstance(exc, SoftTimeLimitExceeded):
        return "排程超出任务时限，已中止；请缩短求解时限后重试"
    return f"排程出错：{exc!r}"
