"""The FastAPI application factory."""

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from api.docs import staff_docs_router
from api.errors import install_error_handlers
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
    lifecycle,
    matches,
    portal,
    recommendations,
    staff,
    subscriptions,
)
from api.uploads import remove_stale_uploads
from api.web import router as console_router
from models.db import make_engine
from models.settings import Settings, get_settings
from services.jobs import Publisher, background_publisher

ROUTERS = (
    auth, enterprises, demands, recommendations, institutions, matches, consents, events,
    subscriptions, imports, evaluation, complaints, audit, lifecycle, staff, portal,
)  # fmt: skip


def create_app(
    settings: Settings | None = None,
    engine: Engine | None = None,
    publisher: Publisher | None = None,
) -> FastAPI:
    """Build the app over `engine` (default: the configured database).

    Jobs a request queues are published after its commit by `publisher`; by default through
    the broker, or, with eager tasks (CELERY_ALWAYS_EAGER), from a background thread, so no
    request runs a task (a slate's solver) itself."""
    settings = settings or get_settings()
    public_docs = settings.api_docs == "public"
    app = FastAPI(title="科技金融服务中心撮合引擎 techfin-matchmaker", version="0.1.0",
                  openapi_url="/openapi.json" if public_docs else None,
                  docs_url="/docs" if public_docs else None,
                  redoc_url="/redoc" if public_docs else None)  # fmt: skip
    app.state.settings = settings
    app.state.publisher = publisher or (
        background_publisher if settings.celery_always_eager else None
    )
    app.state.engine = engine or make_engine(
        settings.database_url, serialized=True, lock_timeout=settings.db_lock_timeout
    )
    install_error_handlers(app)
    app.add_middleware(BodyGuard, settings=settings, engine=app.state.engine)
    app.add_middleware(SecurityHeaders)

    @app.get("/health", tags=["meta"])
    async def health() -> dict[str, str]:
        """Liveness probe."""
        return {"status": "ok"}

    for module in ROUTERS:
        app.include_router(module.router, responses=PROBLEM_RESPONSES)
    app.include_router(console_router)  # the web console (/console, /console/static, /)
    if settings.api_docs == "staff":
        app.include_router(staff_docs_router(app))
    return app


def create_server_app() -> FastAPI:
    """The app as `matchmaker serve` runs it, once per worker process: `create_app` over the
    configured database, after removing the upload folders left by a worker that died."""
    remove_stale_uploads(get_settings())
    return create_app()


__all__ = ["create_app", "create_server_app"]
