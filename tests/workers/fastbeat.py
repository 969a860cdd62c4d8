"""The worker app with a beat schedule firing one fixed period every second (worker tests only).

Two beat processes started on this app double every dispatch of the period, as two beats
misconfigured in production would. The sweeper runs every 3 s: a dispatcher killed between its
commit and its publish, or a worker killed between taking a message off the Redis list and
recording it as unacknowledged (kombu's window), leaves pending rows only the sweeper requeues.
"""

import os

from workers.celery_app import app

PERIOD = os.environ.get("FAST_BEAT_PERIOD", "")  # empty: the sweeper alone

app.conf.beat_schedule = {"digests-sweep-fast": {"task": "digests.sweep", "schedule": 3.0}}
if PERIOD:
    app.conf.beat_schedule["digests-fast"] = {
        "task": "digests.run_period",
        "schedule": 1.0,
        "args": (PERIOD,),
    }

if os.environ.get("FAST_BEAT_EXPIRE"):  # the nightly expiry, every second
    app.conf.beat_schedule["demands-expire-fast"] = {"task": "demands.expire", "schedule": 1.0}

__all__ = ["app"]
