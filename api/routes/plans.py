"""Weekly plans."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import planning
from api.deps import ClockDep, SessionDep, UserDep
from api.errors import problem_responses
from api.schemas import PlanPublic
from programs import IsoWeek

router = APIRouter(
    prefix="/v1/users/{user_id}", tags=["plans"], responses=problem_responses(401, 404, 422, 500)
)


@router.get("/plan")
def read_plan(
    user: UserDep,
    session: SessionDep,
    now: ClockDep,
    week: Annotated[
        str | None,
        Query(
            pattern=r"^\d{4}-W\d{2}$",
            description="ISO week; default: this week in the person's time zone.",
            examples=["2026-W48"],
        ),
    ] = None,
) -> PlanPublic:
    """The plan for one ISO week. A week that has begun is stored the first time
    it is served and keeps its sessions and ids; a later week is a preview. When
    the person is not ready the plan has status `recovering` or `refer`, its
    guidance, and no sessions."""
    the_week = None if week is None else IsoWeek.parse(week)
    return planning.serve_plan(session, user=user, week=the_week, now=now)
