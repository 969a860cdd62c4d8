"""Domain errors carrying their HTTP status and a Chinese message for the user."""

from typing import Any

from pydantic import ValidationError


class DomainError(Exception):
    """A rule of the domain was broken; `message` is shown to the user as is."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFoundError(DomainError):
    """The record does not exist (or the caller may not know that it does)."""

    status_code = 404


class ForbiddenError(DomainError):
    """The caller's role may not do this (whatever the record)."""

    status_code = 403


class ConflictError(DomainError):
    """A unique key or an optimistic-concurrency check failed."""

    status_code = 409


class InvalidDataError(DomainError):
    """Input failed validation; `errors` lists every field at fault."""

    status_code = 422

    def __init__(self, message: str, errors: list[dict[str, Any]]) -> None:
        first = errors[0]["field"] if errors else None
        super().__init__(message, field=first)
        self.errors = errors


_TEMPLATES = {
    "enum": "取值“{value}”无效，应为：{expected}",
    "literal_error": "取值“{value}”无效，应为：{expected}",
    "missing": "必填字段缺失",
    "greater_than_equal": "不能小于 {ge}（实际为 {value}）",
    "greater_than": "必须大于 {gt}（实际为 {value}）",
    "less_than_equal": "不能大于 {le}（实际为 {value}）",
    "string_too_short": "长度不能少于 {min_length} 个字符",
    "string_too_long": "长度不能超过 {max_length} 个字符",
}


def _chinese_reason(err: Any) -> str:
    ctx = dict(err.get("ctx") or {})
    template = _TEMPLATES.get(err["type"])
    if template is None:
        return f"格式不正确（{err['msg']}）"
    return template.format(value=err.get("input"), **ctx)


def translate_validation_error(entity: str, exc: ValidationError) -> InvalidDataError:
    """Turn a pydantic error into one naming each field and reason in Chinese."""
    errors = [
        {
            "field": ".".join(str(p) for p in err["loc"]),
            "value": err.get("input"),
            "reason": _chinese_reason(err),
        }
        for err in exc.errors()
    ]
    summary = "；".join(f"字段“{e['field']}”{e['reason']}" for e in errors)
    return InvalidDataError(f"{entity}数据无效：{summary}", errors)
