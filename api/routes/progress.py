"""Progress through the stages."""

from __future__ import annotations

from fastapi import APIRouter

from api import planning
from api.deps import ClockDep, ReadPlans, SessionDep, UserDep
from api.errors import problem_responses
from api.routing import Route
from programs import Progress

router = APIRouter(
    prefix="/v1/users/{user_id}",
    tags=["progress"],
    responses=problem_responses(401, 403, 404, 500),
    route_class=Route,
)


@router.get("/progress", dependencies=[ReadPlans])
def read_progress(user: UserDep, session: SessionDep, now: ClockDep) -> Progress:
    """Stage and weeks in it, each week's sessions planned and done, adherence,
    mean pain and aerobic minutes, the current streak, and what the next stage
    still needs. Scope `plans:read`."""
    return planning.serve_progress(session, user=user, now=now)
