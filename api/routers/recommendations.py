"""Ranked institutions and products for a demand, with reasons and why-nots (staff only)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from api.deps import PathId, SessionDep, Staff
from services.pipeline.demands import check_open_for_matching
from services.recommendations.service import recommend_for_demand

router = APIRouter(tags=["recommendations"])


class RecommendationOut(BaseModel):
    """A ranked list for one demand; a mixed demand's items carry their leg (equity, loan)."""

    demand_id: int
    enterprise_name: str
    model_version: str
    items: list[dict[str, Any]]
    near_misses: list[dict[str, Any]]
    legs: list[dict[str, Any]] = []


@router.get("/demands/{demand_id}/recommendations", response_model=RecommendationOut)
def recommendations(
    demand_id: PathId,
    session: SessionDep,
    _: Staff,
    k: Annotated[int, Query(ge=1, le=50)] = 10,
) -> Response:
    """The k best institutions/products for the demand, best first (rendered in the endpoint's
    thread: the hottest route skips FastAPI's second thread hop to validate a returned dict)."""
    check_open_for_matching(session, demand_id)
    result = RecommendationOut.model_validate(
        recommend_for_demand(session, demand_id, k=k).to_dict()
    )
    return Response(result.model_dump_json(), media_type="application/json")
