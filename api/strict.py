"""Request bodies take JSON types as declared: no silent coercion of "5" to 5 or true to 1.

Pydantic's lax mode would accept a string for a number or a boolean for an integer; the
OpenAPI schema promises otherwise, so input models check the JSON types before validation.
Dates, datetimes and enums still arrive as strings, as JSON requires.

Text holds no C0 control character but tab, line feed and carriage return: a NUL byte is
stored by SQLite as it is and refused by PostgreSQL (a 500), and the others (a vertical tab,
a bell) are no text anyone types. They are refused with a 422 naming the field, and the
OpenAPI schema says so with a `pattern` on every free-text string.
"""

import re
import types
from datetime import date, datetime
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, GetJsonSchemaHandler, field_validator, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

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


#: The C0 control characters text may not hold (all but tab, line feed and carriage return).
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: The same rule as a JSON Schema `pattern` (ECMA-262), for the OpenAPI document.
NO_CONTROL_PATTERN = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F]*$"
CONTROL_MESSAGE = "不能包含控制字符（如 NUL 字节 \\x00），制表符、换行和回车除外"

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


def has_control_characters(value: Any) -> bool:
    """Whether `value` (text, or a list or mapping holding text) holds a forbidden control."""
    if isinstance(value, str):
        return CONTROL_CHARACTERS.search(value) is not None
    if isinstance(value, list | tuple | set | frozenset):
        return any(map(has_control_characters, value))
    if isinstance(value, dict):
        return any(map(has_control_characters, value)) or any(
            map(has_control_characters, value.values())
        )
    return False


def _forbid_controls(schema: dict[str, Any]) -> None:
    """Add `NO_CONTROL_PATTERN` to the free-text strings of a property's JSON schema."""
    if schema.get("type") == "string" and not {"format", "pattern", "enum", "const"} & set(schema):
        schema["pattern"] = NO_CONTROL_PATTERN
    for option in schema.get("anyOf", []):
        _forbid_controls(option)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            _forbid_controls(schema[key])


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

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        if has_control_characters(value):
            raise ValueError(CONTROL_MESSAGE)
        return value

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The model's schema, its free-text strings carrying `NO_CONTROL_PATTERN`."""
        json_schema = handler(core_schema)
        for prop in handler.resolve_ref_schema(json_schema).get("properties", {}).values():
            _forbid_controls(prop)
        return json_schema

    @model_validator(mode="after")
    def _plausible_dates(self) -> "StrictJSON":
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, date) and value.year not in YEARS:
                message = f"字段“{name}”的日期 {value.isoformat()} 超出 1900–2199 年范围"
                raise DomainError(message, field=name)
        return self
