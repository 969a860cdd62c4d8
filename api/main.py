"""The FastAPI application factory."""

import gc
import os
import sys

from fastapi import FastAPI
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp, Receive, Scope, Send

from api.admission import IN_FLIGHT_ENV, MAX_IN_FLIGHT, Admission, in_flight_limit
from api.errors import install_error_handlers, problem
from api.problems import PROBLEM_RESPONSES
from api.routers import (
    audit,
    auth,
    complaints,
    consents,
    demands,
    enterprises,
    evaluation,
    events,
    imports,
    institutions,
    matches,
    recommendations,
    subscriptions,
)
from api.web import router as console_router
from matching.service import on_world_loaded
from models.db import make_engine, reader_engine
from models.settings import Settings, get_settings

MAX_BODY_BYTES = 20 * 1024 * 1024  # uploads of spreadsheets included
ROUTERS = (
    auth, enterprises, demands, recommendations, institutions, matches, consents, events,
    subscriptions, imports, evaluation, complaints, audit,
)  # fmt: skip


class BodyLimit:
    """413 for a declared `Content-Length` over `MAX_BODY_BYTES` (or not a number).

    A plain ASGI middleware: `BaseHTTPMiddleware` would cost every request a task and a stream.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            length = next((v for k, v in scope["headers"] if k == b"content-length"), None)
            if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
                response = problem(413, f"请求体超过 {MAX_BODY_BYTES // (1024 * 1024)} MB 上限",
                                   instance=scope["path"])  # fmt: skip
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the app over `engine` (default: the configured database)."""
    settings = settings or get_settings()
    app = FastAPI(title="科技金融服务中心撮合引擎 techfin-matchmaker", version="0.1.0")
    app.state.settings = settings
    app.state.engine = engine or make_engine(settings.database_url, serialized=True)
    app.state.reader = reader_engine(app.state.engine)  # read-only routes (`api.routing`)
    install_error_handlers(app)
    app.add_middleware(BodyLimit)
    requested = int(os.environ.get(IN_FLIGHT_ENV) or MAX_IN_FLIGHT)
    app.add_middleware(Admission, limit=in_flight_limit(requested, app.state.engine))

    # First in the route table: routes are matched in order, and the probe should cost nothing.
    @app.get("/health", tags=["meta"])
    async def health() -> dict[str, str]:
        """Liveness probe."""
        return {"status": "ok"}

    for module in ROUTERS:
        app.include_router(module.router, responses=PROBLEM_RESPONSES)
    app.include_router(console_router)  # the web console (/console, /console/static, /)

    return app


# Young-generation thresholds for a server: a request allocates thousands of short-lived objects
# (mostly freed by reference counting); collecting every 700 allocations promotes whatever a
# request in flight holds, and the promotions trigger full collections.
SERVER_GC_THRESHOLDS = (10_000, 20, 100)
# A thread back from the database waits for the GIL at most this long (Python's default: 5 ms).
# The audit chain's lock is held across three round trips of one request; with 5 ms, its holder
# queued behind the worker's busy threads after each, and audited reads of both workers waited
# for the lock (1.5-1.7 waiters on average under saturation; 0.45 with 1 ms and 4 in flight).
SERVER_SWITCH_INTERVAL = 0.001


def _settle_heap() -> None:
    """Collect, then move every object alive now out of the collector's sight (`gc.freeze`).

    What is alive after start-up (modules, the app: ~300,000 objects) and after a load of the
    matching world (~60,000 more, free of reference cycles) lives until the process ends or the
    world is replaced; a full collection over them took 150–400 ms, a pause of every request of
    the worker. Frozen objects are still freed by reference counting when dropped.
    """
    gc.collect()
    gc.freeze()


def create_server_app() -> FastAPI:
    """The app as `matchmaker serve` runs it, once per worker process: `create_app` plus a garbage
    collector tuned for a long-lived server (frozen start-up heap, larger young generations) and
    a shorter GIL switch interval."""
    app = create_app()
    sys.setswitchinterval(SERVER_SWITCH_INTERVAL)
    gc.set_threshold(*SERVER_GC_THRESHOLDS)
    _settle_heap()
    on_world_loaded(_settle_heap)
    return app


__all__ = ["create_app", "create_server_app"]
