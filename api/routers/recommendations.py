"""Ranked institutions and products for a demand, with reasons and why-nots (staff only)."""

import threading
import weakref
from collections import OrderedDict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from api.deps import PathId, SessionDep, Staff
from api.routing import OffloadedRoute, read_only
from services.recommendations.service import Recommendation, recommend_for_demand

router = APIRouter(route_class=OffloadedRoute, tags=["recommendations"])


class RecommendationOut(BaseModel):
    """A ranked list for one demand."""

    demand_id: int
    enterprise_name: str
    model_version: str
    items: list[dict[str, Any]]
    near_misses: list[dict[str, Any]]


class RenderedLists:
    """The response body of each ranked list served lately, kept while the list is the one the
    service hands out (LRU-bounded, thread-safe).

    `recommend_for_demand` returns the same read-only object for the same question until the
    data it was ranked from changes; then it ranks again and returns a new object. So a body is
    looked up by the identity of the object it was rendered from (checked through a weak
    reference: an id can be reused once its object is gone), never by the question.
    """

    def __init__(self, maxsize: int = 2048) -> None:
        self.maxsize = maxsize
        self._bodies: OrderedDict[int, tuple[weakref.ref[Recommendation], bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def body(self, rec: Recommendation) -> bytes:
        """The JSON of `rec` as `RecommendationOut` (rendered on its first request only)."""
        with self._lock:
            found = self._bodies.get(id(rec))
            if found is not None and found[0]() is rec:
                self._bodies.move_to_end(id(rec))
                return found[1]
        body = RecommendationOut.model_validate(rec.to_dict()).model_dump_json().encode()
        with self._lock:
            self._bodies[id(rec)] = (weakref.ref(rec), body)
            while len(self._bodies) > self.maxsize:
                self._bodies.popitem(last=False)
        return body


_RENDERED = RenderedLists()


@router.get("/demands/{demand_id}/recommendations", response_model=RecommendationOut)
@read_only
def recommendations(
    demand_id: PathId,
    session: SessionDep,
    _: Staff,
    k: Annotated[int, Query(ge=1, le=50)] = 10,
) -> Response:
    """The k best institutions/products for the demand, best first."""
    result = recommend_for_demand(session, demand_id, k=k)
    return Response(_RENDERED.body(result), media_type="application/json")
