"""Rendering: the Jinja2 environment, flash messages, and HTML error pages for console routes.

Console routes use `ConsoleRoute`, which turns what the API answers as problem+json into pages:
no session → the login form; 403/404/409/422 → an error page in Chinese, or, for a form post that
a service refused (a `DomainError`), back to the form's page with the reason shown.
"""

import json
from collections.abc import Callable, Coroutine
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from api.web.auth import LoginRequired
from models.clock import center_zone
from models.errors import DomainError
from models.reference import (
    PIPELINE_ORDER,
    Collateral,
    ConsentScope,
    FinancingType,
    LabelledEnum,
    PipelineStage,
    Qualification,
    Stage,
)

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
FLASH_COOKIE = "mm_flash"
SITE_NAME = "科技金融服务中心撮合平台"
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def _number(value: object, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}".rstrip("0").rstrip(".") if digits else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _when(value: datetime | date | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(center_zone()).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


ENUMS: dict[str, type[LabelledEnum]] = {
    "qualification": Qualification, "financing": FinancingType, "collateral": Collateral,
    "stage": Stage, "scope": ConsentScope,
}  # fmt: skip


def _labels(values: list[str] | None, kind: str, empty: str = "—") -> str:
    """Stored enum values as their Chinese labels, joined with 、."""
    enum = ENUMS[kind]
    known = {m.value: m.label for m in enum}
    return "、".join(known.get(v, v) for v in values or []) or empty


def _label(value: object) -> str:
    label = getattr(value, "label", None)
    return label if isinstance(label, str) else ("—" if value is None else str(value))


templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.filters.update(num=_number, when=_when, label=_label, labels=_labels)
templates.env.globals.update(
    site_name=SITE_NAME, stage_order=[*PIPELINE_ORDER, PipelineStage.closed_lost]
)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    """A page, with the signed-in user, their CSRF token and any flash message."""
    user = getattr(request.state, "console_user", None)
    flash = _read_flash(request)
    response = templates.TemplateResponse(
        request, template, {"user": user, "csrf_token": user.csrf_token if user else "",
                            "flash": flash, **context}, status_code=status_code,
    )  # fmt: skip
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(url: str, message: str | None = None, kind: str = "ok") -> RedirectResponse:
    """303 to `url`, with a message shown once on the next page."""
    response = RedirectResponse(url, status_code=303)
    if message:
        value = quote(json.dumps({"kind": kind, "text": message}, ensure_ascii=False))
        response.set_cookie(
            FLASH_COOKIE, value, max_age=60, httponly=True, samesite="lax", path="/"
        )
    return response


def _read_flash(request: Request) -> dict[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        data = json.loads(unquote(raw))
    except ValueError:
        return None
    return {"kind": str(data.get("kind", "ok")), "text": str(data.get("text", ""))[:500]}


def back_url(request: Request) -> str:
    """The page a form was posted from (same site, console only), else the console home."""
    referer = urlsplit(request.headers.get("referer", ""))
    same_host = not referer.netloc or referer.netloc == request.url.netloc
    if same_host and referer.path.startswith("/console/"):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return "/console/"


def error_page(request: Request, status: int, message: str) -> Response:
    """An error page in Chinese with the status code."""
    titles = {400: "请求无效", 403: "无权访问", 404: "页面不存在", 409: "操作冲突",
              413: "文件过大", 422: "填写有误", 429: "请求过于频繁"}  # fmt: skip
    return render(request, "error.html", status_code=status,
                  title=titles.get(status, "出错了"), message=message, status=status)  # fmt: skip


def _validation_message(exc: RequestValidationError) -> str:
    fields = [str(e["loc"][-1]) for e in exc.errors() if e.get("loc")]
    return "表单填写有误：" + "、".join(dict.fromkeys(fields)) if fields else "表单填写有误"


async def _handle(request: Request, exc: Exception) -> Response:
    if isinstance(exc, LoginRequired):
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"/console/login?next={target}", status_code=303)
    if isinstance(exc, DomainError) and request.method == "POST":
        return redirect(back_url(request), exc.message, kind="error")
    if isinstance(exc, DomainError):
        return error_page(request, exc.status_code, exc.message)
    if isinstance(exc, RequestValidationError):
        return error_page(request, 422, _validation_message(exc))
    assert isinstance(exc, HTTPException)
    return error_page(request, exc.status_code, str(exc.detail))


class ConsoleRoute(APIRoute):
    """A route whose errors are pages, not problem+json."""

    def get_route_handler(self) -> Handler:
        """Wrap the handler so login, permission and domain errors render as pages."""
        handler = super().get_route_handler()

        async def console_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except (LoginRequired, DomainError, RequestValidationError, HTTPException) as exc:
                return await _handle(request, exc)

        return console_handler
