"""The problem-details responses every operation documents, so clients (and schemathesis) know them."""

from typing import Any

from pydantic import BaseModel


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    field: str | None = None
    errors: list[dict[str, Any]] | None = None


def _doc(description: str) -> dict[str, Any]:
    return {
        "model": Problem,
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _doc("请求无效"),
    401: _doc("未认证"),
    403: _doc("无权访问"),
    404: _doc("资源不存在"),
    409: _doc("冲突"),
    413: _doc("请求体过大"),
    422: _doc("数据校验失败"),
    429: _doc("请求过于频繁"),
}
