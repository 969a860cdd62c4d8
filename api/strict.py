"""Request bodies take JSON types as declared: no silent coercion of "5" to 5 or true to 1.

Pydantic's lax mode would accept a string for a number or a boolean for an integer; the
OpenAPI schema promises otherwise, so input models check the JSON types before validation.
Dates, datetimes and enums still arrive as strings, as JSON requires.
"""

import types
from datetime import date, datetime
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, model_validator

from models.errors import DomainError

_JSON_TYPES: dict[type, tuple[type, ...]] = {
    bool: (bool,),
    int: (int,),
    float: (int, float),
    str: (str,),
}


def _scalar_types(annotation: Any) -> tuple[type, ...] | None:
    """The JSON types allowed for a (possibly optional) scalar annotation, else None."""
    if get_origin(annotation) in (Union, types.UnionType):
        options = [a for a in get_args(annotation) if a is not type(None)]
        return _scalar_types(options[0]) if len(options) == 1 else None
    if annotation in (date, datetime):
        return (str,)  # ISO 8601 text in JSON, never a number
    if isinstance(annotation, type) and not issubclass(annotation, bool | int | float | str):
        return None
    if annotation is bool or annotation in _JSON_TYPES:
        return _JSON_TYPES[annotation]
    return None


INT32 = 2_147_483_647  # the database's INTEGER columns
YEARS = range(1900, 2200)  # dates outside this are typos, and overflow with time zones


def _matches(value: Any, allowed: tuple[type, ...]) -> bool:
    if value is None:
        return True
    if allowed == (int,) and isinstance(value, float):
        return value.is_integer()  # JSON Schema counts 3.0 as an integer
    return isinstance(value, allowed) and not (isinstance(value, bool) and bool not in allowed)


def _element_types(annotation: Any) -> tuple[type, ...] | None:
    if get_origin(annotation) in (Union, types.UnionType):
        options = [a for a in get_args(annotation) if a is not type(None)]
        return _element_types(options[0]) if len(options) == 1 else None
    if get_origin(annotation) is list and get_args(annotation):
        return _scalar_types(get_args(annotation)[0])
    return None


def _check_range(name: str, value: Any, scalar: tuple[type, ...] | None) -> None:
    # Well-typed but implausible values break a business rule (400), not the schema (422).
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if scalar == (int,) and numeric and abs(value) > INT32:
        raise DomainError(f"字段“{name}”的值 {value} 超出范围（±{INT32}）", field=name)


class StrictJSON(BaseModel):
    """Mixin for request bodies: reject values whose JSON type differs from the declared one,
    and unknown fields (no mass assignment; the schema says `additionalProperties: false`)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _reject_coercion(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for name, field in cls.model_fields.items():
            if name not in data:
                continue
            value, scalar = data[name], _scalar_types(field.annotation)
            _check_range(name, value, scalar)
            if scalar is not None and not _matches(value, scalar):
                raise ValueError(f"字段“{name}”类型错误或超出范围：应为 {scalar[-1].__name__}")
            element = _element_types(field.annotation)
            if (
                element is not None
                and isinstance(value, list)
                and not all(_matches(v, element) for v in value)
            ):
                raise ValueError(f"字段“{name}”的元素类型错误：应为 {element[-1].__name__}")
        return data

    @model_validator(mode="after")
    def _plausible_dates(self) -> "StrictJSON":
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, date) and value.year not in YEARS:
                message = f"字段“{name}”的日期 {value.isoformat()} 超出 1900–2199 年范围"
                raise DomainError(message, field=name)
        return self
