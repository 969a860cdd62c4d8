"""The FastAPI application factory."""

import gc
import os
import sys

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from sqlalchemy.engine import Engine

from api.admission import IN_FLIGHT_ENV, MAX_IN_FLIGHT, Admission, SlotGauge, in_flight_limit
from api.docs import staff_docs_router
from api.errors import install_error_handlers, problem
from api.guards import BodyGuard, SecurityHeaders
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
from api.uploads import remove_stale_uploads
from api.web import router as console_router
from models.db import make_engine, reader_engine
from models.settings import Settings, get_settings
from services.recommendations.service import on_world_loaded

ROUTERS = (
    auth, enterprises, demands, recommendations, institutions, matches, consents, events,
    subscriptions, imports, evaluation, complaints, audit,
)  # fmt: skip


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the app over `engine` (default: the configured database)."""
    settings = settings or get_settings()
    public_docs = settings.api_docs == "public"
    app = FastAPI(title="科技金融服务中心撮合引擎 techfin-matchmaker", version="0.1.0",
                  openapi_url="/openapi.json" if public_docs else None,
                  docs_url="/docs" if public_docs else None,
                  redoc_url="/redoc" if public_docs else None)  # fmt: skip
    app.state.settings = settings
    app.state.engine = engine or make_engine(
        settings.database_url, serialized=True, lock_timeout=settings.db_lock_timeout
    )
    app.state.reader = reader_engine(app.state.engine)  # read-only routes (`api.routing`)
    install_error_handlers(app)
    requested = int(os.environ.get(IN_FLIGHT_ENV) or MAX_IN_FLIGHT)
    app.state.slots = SlotGauge(in_flight_limit(requested, app.state.engine))
    app.add_middleware(Admission, limit=app.state.slots.limit, gauge=app.state.slots,
                       per_client=settings.max_in_flight_per_client)  # fmt: skip
    # Outside the slots: a body is vetted (and a small public one read) before a slot is taken.
    app.add_middleware(BodyGuard, settings=settings, engine=app.state.engine)
    app.add_middleware(SecurityHeaders)

    # First in the route table: routes are matched in order, and the probe should cost nothing.
    @app.get("/health", tags=["meta"])
    async def health() -> Response:
        """Liveness probe: 503 while every request slot of this process is taken."""
        slots: SlotGauge = app.state.slots
        numbers = {"in_flight": slots.in_flight, "limit": slots.limit, "waiting": slots.waiting}
        if not slots.saturated:
            return JSONResponse({"status": "ok", **numbers})
        detail = (f"服务繁忙：{slots.limit} 个请求名额已全部占用（处理中 {slots.in_flight}，"
                  f"排队 {slots.waiting}）")  # fmt: skip
        response = problem(503, detail, instance="/health", in_flight=slots.in_flight,
                           limit=slots.limit, waiting=slots.waiting)  # fmt: skip
        response.headers["Retry-After"] = "1"
        return response

    for module in ROUTERS:
        app.include_router(module.router, responses=PROBLEM_RESPONSES)
    app.include_router(console_router)  # the web console (/console, /console/static, /)
    if settings.api_docs == "staff":
        app.include_router(staff_docs_router(app))
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
    remove_stale_uploads(get_settings())  # left by a worker that died mid-import
    sys.setswitchinterval(SERVER_SWITCH_INTERVAL)
    gc.set_threshold(*SERVER_GC_THRESHOLDS)
    _settle_heap()
    on_world_loaded(_settle_heap)
    return app


__all__ = ["create_app", "create_server_app"]
