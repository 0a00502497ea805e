"""Progress through the stages."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api import reads
from api.deps import ClockDep, PlansReader
from api.errors import problem_responses
from api.routing import Route
from programs import Progress

router = APIRouter(
    prefix="/v1/users/{user_id}",
    tags=["progress"],
    responses=problem_responses(401, 403, 404, 500),
    route_class=Route,
)


@router.get("/progress", response_model=Progress)
async def read_progress(request: Request, user: PlansReader, now: ClockDep) -> Response:
    """Stage and weeks in it, each week's sessions planned and done, adherence,
    mean pain and aerobic minutes, the current streak, and what the next stage
    still needs. Scope `plans:read`."""
    return reads.respond(await reads.progress(request.app.state, ref=user, now=now))
