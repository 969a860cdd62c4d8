"""Admission control: a bounded number of requests inside the app per worker process."""

from dataclasses import dataclass

from anyio import Semaphore
from anyio.lowlevel import RunVar
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool
from starlette.types import ASGIApp, Receive, Scope, Send

# Per worker process; `matchmaker serve --max-in-flight` overrides it. Under saturation 4 gave the
# most requests per CPU second and the fewest waiters on the audit chain's lock (8 and 16: more
# threads competing for the GIL). A slow request (an import, a report) holds one of the 4.
MAX_IN_FLIGHT = 4
IN_FLIGHT_ENV = "MATCHMAKER_MAX_IN_FLIGHT"


def in_flight_limit(requested: int, engine: Engine) -> int:
    """`requested`, if the engine's pool has that many connections (ValueError if not): a
    request holds at most one at a time."""
    pool = engine.pool
    overflow = getattr(pool, "_max_overflow", 0)
    if isinstance(pool, QueuePool) and overflow >= 0:  # (-1: no limit)
        capacity = pool.size() + overflow
        if requested > capacity:
            raise ValueError(
                f"每个进程同时处理的请求数（{requested}）不得超过数据库连接池容量（{capacity}）"
            )
    return requested


@dataclass
class SlotGauge:
    """How many requests hold a slot and how many wait for one (this process), for `/health`."""

    limit: int
    in_flight: int = 0
    waiting: int = 0

    @property
    def saturated(self) -> bool:
        """Every slot is taken: a new request would wait."""
        return self.in_flight >= self.limit


class Admission:
    """At most `limit` requests inside the app at once (per worker process); the others wait their
    turn on the event loop, first come first served. `/health` is never held back.

    A request keeps its database connection from the caller's lookup to the commit, across
    thread-pool hops. Without a bound, more concurrent requests than pooled connections could
    take every worker thread waiting for a connection, while the requests holding the
    connections wait for a thread: a deadlock until the pool times out. With `limit` at most the
    pool's capacity (SQLAlchemy's default: 5 + 10 overflow) and the thread limit (40), a request
    inside always finds both (it holds at most one connection at a time); `in_flight_limit`
    refuses a larger one. The same bound lets requests run on the event loop itself
    (`api.routing`): their checkout never waits. It also keeps the number of threads competing
    for the GIL small, so a request, once admitted, runs to the end quickly.
    """

    def __init__(
        self, app: ASGIApp, limit: int = MAX_IN_FLIGHT, gauge: SlotGauge | None = None
    ) -> None:
        self.app = app
        self.limit = limit
        self.gauge = gauge or SlotGauge(limit)
        self._slots: RunVar[Semaphore] = RunVar(f"request_slots_{id(self)}")  # one per event loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/health":
            await self.app(scope, receive, send)
            return
        slots = self._slots.get(None)
        if slots is None:
            slots = Semaphore(self.limit)
            self._slots.set(slots)
        self.gauge.waiting += 1
        try:
            await slots.acquire()
        finally:
            self.gauge.waiting -= 1
        self.gauge.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.gauge.in_flight -= 1
            slots.release()


__all__ = ["IN_FLIGHT_ENV", "MAX_IN_FLIGHT", "Admission", "SlotGauge", "in_flight_limit"]
