"""The Celery application, configured from settings, with the beat schedule.

Run a worker:  `python -m celery -A workers.celery_app worker --concurrency=2 -P prefork`
Run the beat:  `python -m celery -A workers.celery_app beat`
With `CELERY_ALWAYS_EAGER=1` (what `make demo` sets) tasks run in-process when published and
no Redis server is needed: the embedded default. docs/workers.md explains both modes.

Task names are explicit and dotted (`digests.deliver`); `workers.tasks` defines them. Only the
idempotent tasks are `acks_late`: a task acknowledged late runs again after a worker dies, so it
must be harmless to run twice.
"""

from datetime import timedelta
from typing import Any

from celery import Celery
from celery.schedules import crontab

from models.settings import Settings, get_settings


def _transport_options(settings: Settings) -> dict[str, Any]:
    return {
        "visibility_timeout": settings.celery_visibility_timeout,
        "unacked_restore_interval": settings.celery_unacked_restore_interval,
        "unacked_restore_throttle": 1,
        "unacked_mutex_expire": settings.celery_unacked_mutex_expire,
    }


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """Digests per frequency at the configured Beijing hour; the sweeper; the nightly jobs; the
    audit chain's signed anchor every 15 minutes; enterprise users' notice mails every minute."""
    hour = settings.digest_send_hour
    return {
        "digests-daily": {
            "task": "digests.dispatch",
            "schedule": crontab(minute=0, hour=hour),
            "args": ("daily",),
        },
        "digests-weekly": {
            "task": "digests.dispatch",
            "schedule": crontab(minute=0, hour=hour, day_of_week=1),
            "args": ("weekly",),
        },
        "digests-monthly": {
            "task": "digests.dispatch",
            "schedule": crontab(minute=0, hour=hour, day_of_month=1),
            "args": ("monthly",),
        },
        "digests-sweep": {"task": "digests.sweep", "schedule": timedelta(minutes=5)},
        "demands-expire": {"task": "demands.expire", "schedule": crontab(minute=5, hour=0)},
        "nightly-rerank": {"task": "nightly.rerank", "schedule": crontab(minute=30, hour=2)},
        "nightly-retrain": {"task": "nightly.retrain", "schedule": crontab(minute=30, hour=3)},
        "audit-anchor": {"task": "audit.anchor", "schedule": timedelta(minutes=15)},
        "portal-notify": {"task": "portal.notify", "schedule": timedelta(minutes=1)},
    }


def configure(app: Celery, settings: Settings) -> None:
    """Apply `settings` to `app` (broker, backend, limits, eager mode, beat schedule)."""
    options = _transport_options(settings)
    app.conf.update(
        broker_url=settings.redis_url,
        result_backend=settings.redis_url,
        broker_transport_options=options,
        result_backend_transport_options=options,
        broker_connection_retry_on_startup=True,
        task_ignore_result=True,
        result_expires=timedelta(days=1),
        task_serializer="json",
        accept_content=["json"],
        task_acks_late=False,
        worker_prefetch_multiplier=1,
        task_soft_time_limit=settings.celery_soft_time_limit,
        task_time_limit=settings.celery_hard_time_limit,
        task_always_eager=settings.celery_always_eager,
        task_eager_propagates=False,
        timezone=settings.timezone,
        enable_utc=True,
        worker_hijack_root_logger=False,
        beat_schedule=beat_schedule(settings),
    )


def create_celery_app(settings: Settings | None = None) -> Celery:
    """A Celery app for `settings` (default: the process settings), with the tasks included."""
    app = Celery("matchmaker", include=["workers.tasks"])
    configure(app, settings or get_settings())
    return app


app = create_celery_app()
