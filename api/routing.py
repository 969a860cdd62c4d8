"""The route class of the API routers: a plain function endpoint and its commit in one thread hop.

FastAPI runs a `def` endpoint in the thread pool and then, because it is not a coroutine, hops to
the pool a second time to validate its return value; the request's session then commits in a third
hop, when its dependency exits. `OffloadedRoute` hands FastAPI a coroutine that runs, in one hop,
the endpoint and then the commit of the request's session (the unit of work ends where the
endpoint ends, as before, only without waiting for the event loop in between). The response is
validated and serialised on the loop without another hop; the session dependency then has
nothing left to do but close (see `api.deps.get_session`), and rolls back if the endpoint or the
commit failed. The signature (so the dependencies, parameters and OpenAPI schema) is the
endpoint's own, through `__wrapped__`.

A shorter unit of work also shortens what it holds: the audit chain's lock is taken by the
append of an audited read and released by the commit, now in the same thread, right after it.

An endpoint marked `@read_only` gets a `ReadOnlySession` (see `api.deps.get_session`): on
PostgreSQL its statements run without BEGIN and COMMIT, so there is nothing to commit.

**On the event loop.** On PostgreSQL a read-only endpoint, and one marked `@on_loop` (a short
write: an audited read, a disclosure), run on the event loop itself, without a thread hop. Under
saturation a hop cost more than such a request's own work: the thread's wake-up, and the GIL
handed back and forth between the loop and the threads of the other requests in flight (see
docs/benchmarks.md, "API load"). Running there is safe because nothing it does can wait on
something that needs the loop:
- autocommit reads wait for no lock (MVCC), and an `@on_loop` unit of work takes the audit
  chain's lock only if it is free (`models.db.NO_WAIT`): if it is held, the attempt is rolled
  back and the whole unit of work runs again in the thread pool, where it may wait;
- the pool's checkout never waits: `api.admission` keeps no more requests inside than the
  pool has connections, and each holds one at most.
What it blocks instead is the worker's loop, for the length of the endpoint: a paged read, an
audited read, or a ranking (a first one after the data changed: a few ms; a reload of the
matching world: ~0.3 s). Everything else (other writes, imports, reports) and every route on
SQLite, where BEGIN takes the database's write lock, keeps its hop. A unit of work rolls back
in the hop that ran it if it fails, so no transaction keeps a lock while it waits for the loop
(the console's routes commit in their hop as well: `api.web.render.ConsoleRoute`).

Limits: a SELECT still waits for a table's exclusive lock, so DDL on a table the API reads
(a migration, `VACUUM FULL`) stops the workers' loops until it ends: migrate with the API
stopped. A new connection is opened on the loop too (pool growth, recycling, after a server
restart): `models.db` gives up connecting after 10 s.
"""

import contextlib
import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from fastapi.routing import APIRoute
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from models.db import NO_WAIT, ReadOnlySession, WouldWait

F = TypeVar("F", bound=Callable[..., Any])


def read_only(endpoint: F) -> F:
    """Mark an endpoint that never writes: its unit of work may read outside a transaction.

    Only for endpoints whose every path is a read (no audit, no disclosure log): a write through
    its session is refused.
    """
    endpoint.read_only = True  # type: ignore[attr-defined]
    return endpoint


def on_loop(endpoint: F) -> F:
    """Mark a short endpoint that writes (an audited read, a disclosure) to run on the event
    loop on PostgreSQL, as read-only ones do (see the module's docstring)."""
    endpoint.on_loop = True  # type: ignore[attr-defined]
    return endpoint


def reads_on_loop(arguments: Iterable[Any]) -> bool:
    """True when the request's session (among `arguments`) is a `ReadOnlySession`: its work may
    run on the event loop."""
    return any(isinstance(value, ReadOnlySession) for value in arguments)


def lookup_on_loop(session: Session) -> bool:
    """True when a plain look-up through `session` may run on the event loop: on PostgreSQL
    (where `ReadOnlySession`s are too), where a SELECT waits for no row lock (only for DDL's
    exclusive table lock)."""
    return session.get_bind().dialect.name == "postgresql"


def _sessions(kwargs: dict[str, Any]) -> list[Session]:
    return [
        v for v in kwargs.values() if isinstance(v, Session) and not isinstance(v, ReadOnlySession)
    ]


def unit_of_work(endpoint: Callable[..., Any], args: Any, kwargs: dict[str, Any]) -> Any:
    """The endpoint, then the commit of its session; a rollback in the same hop if either fails."""
    sessions = _sessions(kwargs)
    try:
        result = endpoint(*args, **kwargs)
        for session in sessions:
            session.commit()
    except BaseException:
        for session in sessions:
            with contextlib.suppress(Exception):  # the endpoint's error is the one to report
                session.rollback()
        raise
    return result


def _try_on_loop(
    endpoint: Callable[..., Any], args: Any, kwargs: dict[str, Any]
) -> tuple[bool, Any]:
    """(True, result) of the unit of work run here without waiting for a lock, or (False, None)
    when it would have had to wait (rolled back: nothing of it remains)."""
    sessions = _sessions(kwargs)
    for session in sessions:
        session.info[NO_WAIT] = True
    try:
        return True, unit_of_work(endpoint, args, kwargs)
    except WouldWait:
        return False, None
    finally:
        for session in sessions:
            session.info.pop(NO_WAIT, None)


def offloaded(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """A coroutine function that runs `endpoint` and commits its session in the thread pool, or
    on the event loop where the module's docstring says (`endpoint` itself if it is a coroutine
    function)."""
    if inspect.iscoroutinefunction(endpoint):
        return endpoint
    short = getattr(endpoint, "on_loop", False)

    @functools.wraps(endpoint)
    async def run(*args: Any, **kwargs: Any) -> Any:
        if reads_on_loop(kwargs.values()):
            return endpoint(*args, **kwargs)  # autocommit reads: nothing to commit
        if short and all(lookup_on_loop(s) for s in _sessions(kwargs)):
            done, result = _try_on_loop(endpoint, args, kwargs)
            if done:
                return result
        return await run_in_threadpool(unit_of_work, endpoint, args, kwargs)

    return run


class OffloadedRoute(APIRoute):
    """An API route whose plain function endpoint runs, with its commit, in one thread hop."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, offloaded(endpoint), **kwargs)
        self.read_only: bool = getattr(endpoint, "read_only", False)


__all__ = [
    "OffloadedRoute",
    "lookup_on_loop",
    "offloaded",
    "on_loop",
    "read_only",
    "reads_on_loop",
    "unit_of_work",
]
