"""Admission control: a bounded number of requests inside the app per worker process, and a
bounded share of them per client address."""

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


def client_share(limit: int) -> int:
    """The slots one client address may hold by default: half of `limit`, at least 1."""
    return max(1, limit // 2)


def client_address(scope: Scope) -> str:
    """The request's client address ("" when the server does not know it)."""
    client = scope.get("client")
    return str(client[0]) if client else ""


@dataclass
class _Share:
    """One client address's slots, and how many of its requests hold or wait for one."""

    slots: Semaphore
    users: int = 0


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

    One client address holds at most `per_client` of the slots (default: half, at least 1), so a
    single client (slow requests, or responses it does not read: `api.transport` bounds those)
    cannot take them all. The address is `scope["client"]`: the peer, or behind a trusted proxy
    (`FORWARDED_ALLOW_IPS`) the client the proxy names; behind an untrusted proxy every client
    shares the proxy's address, and so one share.
    """

    def __init__(
        self,
        app: ASGIApp,
        limit: int = MAX_IN_FLIGHT,
        gauge: SlotGauge | None = None,
        per_client: int = 0,
    ) -> None:
        """`per_client`: the slots one client address may hold (0: `client_share(limit)`)."""
        self.app = app
        self.limit = limit
        self.per_client = min(per_client or client_share(limit), limit)
        self.gauge = gauge or SlotGauge(limit)
        self._slots: RunVar[Semaphore] = RunVar(f"request_slots_{id(self)}")  # one per event loop
        self._shares: RunVar[dict[str, _Share]] = RunVar(f"client_shares_{id(self)}")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/health":
            await self.app(scope, receive, send)
            return
        slots, shares = self._loop_state()
        address = client_address(scope)
        share = shares.get(address)
        if share is None:
            share = shares[address] = _Share(Semaphore(self.per_client))
        share.users += 1
        try:
            await self._take(share.slots, slots)
            self.gauge.in_flight += 1
            try:
                await self.app(scope, receive, send)
            finally:
                self.gauge.in_flight -= 1
                slots.release()
                share.slots.release()
        finally:
            share.users -= 1
            if not share.users:
                del shares[address]

    async def _take(self, share: Semaphore, slots: Semaphore) -> None:
        """A slot of the client's own share first, then one of the process's: a client over its
        share waits behind its own requests, not in the queue of everyone's."""
        self.gauge.waiting += 1
        try:
            await share.acquire()
            try:
                await slots.acquire()
            except BaseException:
                share.release()
                raise
        finally:
            self.gauge.waiting -= 1

    def _loop_state(self) -> tuple[Semaphore, dict[str, "_Share"]]:
        slots, shares = self._slots.get(None), self._shares.get(None)
        if slots is None or shares is None:
            slots, shares = Semaphore(self.limit), {}
            self._slots.set(slots)
            self._shares.set(shares)
        return slots, shares


__all__ = [
    "IN_FLIGHT_ENV",
    "MAX_IN_FLIGHT",
    "Admission",
    "SlotGauge",
    "client_address",
    "client_share",
    "in_flight_limit",
]
