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
"""

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi.routing import APIRoute
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from models.db import ReadOnlySession

F = TypeVar("F", bound=Callable[..., Any])


def read_only(endpoint: F) -> F:
    """Mark an endpoint that never writes: its unit of work may read outside a transaction.

    Only for endpoints whose every path is a read (no audit, no disclosure log): a write through
    its session is refused.
    """
    endpoint.read_only = True  # type: ignore[attr-defined]
    return endpoint


def _unit_of_work(endpoint: Callable[..., Any], args: Any, kwargs: dict[str, Any]) -> Any:
    result = endpoint(*args, **kwargs)
    for value in kwargs.values():
        if isinstance(value, Session) and not isinstance(value, ReadOnlySession):
            value.commit()
    return result


def offloaded(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """A coroutine function that runs `endpoint` and commits its session in the thread pool
    (`endpoint` itself if it is a coroutine function)."""
    if inspect.iscoroutinefunction(endpoint):
        return endpoint

    @functools.wraps(endpoint)
    async def run(*args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(_unit_of_work, endpoint, args, kwargs)

    return run


class OffloadedRoute(APIRoute):
    """An API route whose plain function endpoint runs, with its commit, in one thread hop."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, offloaded(endpoint), **kwargs)
        self.read_only: bool = getattr(endpoint, "read_only", False)


__all__ = ["OffloadedRoute", "offloaded", "read_only"]
