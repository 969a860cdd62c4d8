"""The FastAPI application factory."""

from fastapi import FastAPI, Request, Response
from sqlalchemy.engine import Engine
from starlette.middleware.base import RequestResponseEndpoint

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
from api.security import LoginThrottle
from api.web import router as console_router
from models.db import make_engine
from models.settings import Settings, get_settings

MAX_BODY_BYTES = 20 * 1024 * 1024  # uploads of spreadsheets included
ROUTERS = (
    auth, enterprises, demands, recommendations, institutions, matches, consents, events,
    subscriptions, imports, evaluation, complaints, audit,
)  # fmt: skip


async def _limit_body(request: Request, call_next: RequestResponseEndpoint) -> Response:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
        return problem(413, f"请求体超过 {MAX_BODY_BYTES // (1024 * 1024)} MB 上限",
                       instance=request.url.path)  # fmt: skip
    return await call_next(request)


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the app over `engine` (default: the configured database)."""
    settings = settings or get_settings()
    app = FastAPI(title="科技金融服务中心撮合引擎 techfin-matchmaker", version="0.1.0")
    app.state.settings = settings
    app.state.engine = engine or make_engine(settings.database_url, serialized=True)
    app.state.login_throttle = LoginThrottle()
    install_error_handlers(app)
    app.middleware("http")(_limit_body)
    for module in ROUTERS:
        app.include_router(module.router, responses=PROBLEM_RESPONSES)
    app.include_router(console_router)  # the web console (/console, /console/static, /)

    @app.get("/health", tags=["meta"])
    def health() -> dict[str, str]:
        """Liveness probe."""
        return {"status": "ok"}

    return app


__all__ = ["create_app"]
