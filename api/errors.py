"""RFC 9457 problem details for every error, with a Chinese message and the field at fault."""

import functools
import re
import sqlite3
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from models.errors import DomainError, InvalidDataError

PROBLEM_JSON = "application/problem+json"

_TITLES = {
    400: "请求无效",
    401: "未认证",
    403: "无权访问",
    404: "资源不存在",
    405: "方法不允许",
    408: "请求超时",
    409: "冲突",
    413: "请求体过大",
    422: "数据校验失败",
    429: "请求过于频繁",
    431: "请求头过大",
    500: "服务器内部错误",
    503: "服务暂不可用",
}
# A request that met a database lock held past the wait (`db_lock_timeout`) is asked to come
# back after this many seconds.
BUSY_RETRY_AFTER_S = 5
_LOCK_SQLSTATES = frozenset({"55P03"})  # PostgreSQL lock_not_available (lock_timeout, NOWAIT)


def title_of(status: int) -> str:
    """The Chinese title of a status code."""
    return _TITLES.get(status, "错误")


def problem(
    status: int, detail: str, *, instance: str, field: str | None = None, **extra: Any
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title_of(status),
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if field is not None:
        body["field"] = field
    body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    extra = {"errors": exc.errors} if isinstance(exc, InvalidDataError) else {}
    return problem(exc.status_code, exc.message, instance=request.url.path, field=exc.field,
                   **extra)  # fmt: skip


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or str(loc[-1] if loc else "")


# Pydantic's error types in Chinese, with their limits (`ctx`); others keep pydantic's message.
_REASONS = {
    "missing": "必填", "extra_forbidden": "不允许的字段", "string_type": "应为文本",
    "int_type": "应为整数", "int_parsing": "应为整数", "int_from_float": "应为整数",
    "float_type": "应为数字", "float_parsing": "应为数字", "bool_type": "应为布尔值",
    "bool_parsing": "应为布尔值", "date_type": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）", "datetime_type": "应为日期时间",
    "datetime_parsing": "应为日期时间", "enum": "应为以下之一：{expected}",
    "literal_error": "应为以下之一：{expected}", "string_too_long": "最多 {max_length} 个字符",
    "string_too_short": "至少 {min_length} 个字符", "too_long": "最多 {max_length} 项",
    "greater_than": "应大于 {gt}", "greater_than_equal": "应不小于 {ge}", "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}", "list_type": "应为列表", "model_type": "应为对象",
    "dict_type": "应为对象", "json_invalid": "不是有效的 JSON", "string_pattern_mismatch": "格式不符",
}  # fmt: skip


def _reason(error: Any) -> str:
    template = _REASONS.get(error["type"])
    ctx = {k: str(v).replace(" or ", "、") for k, v in (error.get("ctx") or {}).items()}
    try:
        return str(error["msg"]) if template is None else template.format(**ctx)
    except (KeyError, IndexError):
        return str(error["msg"])


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field_of(e["loc"]), "reason": _reason(e), "type": e["type"]}
        for e in exc.errors()
    ]
    first = errors[0]["field"] if errors else None
    summary = "；".join(f"字段“{e['field']}”无效（{e['reason']}）" for e in errors[:5])
    return problem(422, f"请求数据无效：{summary}", instance=request.url.path, field=first,
                   errors=errors)  # fmt: skip


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "错误")
    response = problem(exc.status_code, detail, instance=request.url.path)
    response.headers.update(exc.headers or {})
    if exc.status_code == 405:
        response.headers["Allow"] = ", ".join(allowed_methods(request.app, request.url.path))
    return response


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method the app serves on `path`, across routers (RFC 9110 `Allow`)."""
    methods: set[str] = set()
    for template, operations in app.openapi()["paths"].items():
        if _template_regex(template).fullmatch(path):
            methods.update(m.upper() for m in operations)
    return sorted(methods)


@functools.lru_cache(maxsize=512)
def _template_regex(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)))


def is_lock_timeout(exc: BaseException) -> bool:
    """True for a database error that only says another transaction held a lock too long:
    SQLite's "database is locked" / busy, PostgreSQL's lock_not_available."""
    orig = getattr(exc, "orig", exc)
    if isinstance(orig, sqlite3.OperationalError):
        text = str(orig).lower()
        return "locked" in text or "busy" in text
    return getattr(orig, "sqlstate", None) in _LOCK_SQLSTATES


def busy_problem(instance: str, why: str = "数据库正忙（另一项写入尚未完成）") -> JSONResponse:
    """503 + Retry-After: the database is busy with another write (or every pooled connection
    is taken); the request changed nothing."""
    response = problem(503, f"{why}，本次请求未做任何更改，请 {BUSY_RETRY_AFTER_S} 秒后重试",
                       instance=instance)  # fmt: skip
    response.headers["Retry-After"] = str(BUSY_RETRY_AFTER_S)
    return response


async def _operational_error(request: Request, exc: Exception) -> JSONResponse:
    if not is_lock_timeout(exc):
        raise exc  # anything else stays a server error
    return busy_problem(request.url.path)


async def _pool_timeout(request: Request, exc: Exception) -> JSONResponse:
    # Every pooled connection stayed taken past `pool_timeout`: the worker is overloaded.
    return busy_problem(request.url.path, "服务繁忙（数据库连接已全部占用）")


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    # Last line of defence: services validate first, so this means a concurrent conflict.
    return problem(409, "数据冲突：违反唯一性或引用完整性约束", instance=request.url.path)


def install_error_handlers(app: FastAPI) -> None:
    """Route every error through problem details."""
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(OperationalError, _operational_error)
    app.add_exception_handler(PoolTimeout, _pool_timeout)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
