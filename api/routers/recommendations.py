"""Ranked institutions and products for a demand, with reasons and why-nots (staff only)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import PathId, SessionDep, Staff
from api.routing import OffloadedRoute
from matching.service import recommend_for_demand

router = APIRouter(route_class=OffloadedRoute, tags=["recommendations"])


class RecommendationOut(BaseModel):
    """A ranked list for one demand."""

    demand_id: int
    enterprise_name: str
    model_version: str
    items: list[dict[str, Any]]
    near_misses: list[dict[str, Any]]


@router.get("/demands/{demand_id}/recommendations", response_model=RecommendationOut)
def recommendations(
    demand_id: PathId,
    session: SessionDep,
    _: Staff,
    k: Annotated[int, Query(ge=1, le=50)] = 10,
) -> RecommendationOut:
    """The k best institutions/products for the demand, best first."""
    result = recommend_for_demand(session, demand_id, k=k)
    return RecommendationOut.model_validate(result.to_dict())
