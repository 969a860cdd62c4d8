"""Generic create/get helpers that validate before anything reaches the database."""

from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel

from models.errors import ConflictError, NotFoundError, translate_validation_error

T = TypeVar("T", bound=SQLModel)


def validated(model_cls: type[T], data: dict[str, Any] | SQLModel) -> T:
    """Build a table object through pydantic validation (table models skip it in __init__)."""
    payload = data.model_dump() if isinstance(data, SQLModel) else data
    try:
        return model_cls.model_validate(payload)
    except ValidationError as exc:
        raise translate_validation_error(model_cls.__name__, exc) from exc


def add(session: Session, obj: T) -> T:
    """Insert and flush, turning a unique-key violation into a Chinese ConflictError."""
    try:
        with session.begin_nested():
            session.add(obj)
            session.flush()
    except IntegrityError as exc:
        raise ConflictError(f"{type(obj).__name__}违反唯一性或完整性约束：{exc.orig}") from exc
    return obj


def create(session: Session, model_cls: type[T], data: dict[str, Any] | SQLModel) -> T:
    """Validate `data` as `model_cls` and insert it."""
    return add(session, validated(model_cls, data))


def get_or_404(session: Session, model_cls: type[T], obj_id: int) -> T:
    """Fetch by primary key or raise NotFoundError."""
    obj = session.get(model_cls, obj_id)
    if obj is None:
        raise NotFoundError(f"{model_cls.__name__} {obj_id} 不存在")
    return obj
