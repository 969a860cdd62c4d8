"""The FastAPI application factory."""

from fastapi import FastAPI


def create_app() -> FastAPI:
    """Build the app; routers are added per resource."""
    app = FastAPI(title="科技金融服务中心 撮合引擎 techfin-matchmaker", version="0.1.0")

    @app.get("/health", tags=["meta"])
    def health() -> dict[str, str]:
        """Liveness probe."""
        return {"status": "ok"}

    return app
