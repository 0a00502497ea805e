"""Weekly plans."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api import reads
from api.deps import ClockDep, PlansReader
from api.errors import problem_responses
from api.routing import Route
from api.schemas import PlanPublic
from programs import IsoWeek

router = APIRouter(
    prefix="/v1/users/{user_id}",
    tags=["plans"],
    responses=problem_responses(401, 403, 404, 422, 500),
    route_class=Route,
)


@router.get("/plan", response_model=PlanPublic)
async def read_plan(
    request: Request,
    user: PlansReader,
    now: ClockDep,
    week: Annotated[
        str | None,
        Query(
            pattern=r"^\d{4}-W\d{2}$",
            description="ISO week; default: this week in the person's time zone.",
            examples=["2026-W48"],
        ),
    ] = None,
) -> Response:
    """The plan for one ISO week. A week that has begun is stored the first time
    it is served and keeps its sessions and ids; a later week is a preview. When
    the person is not ready the plan has status `recovering` or `refer`, its
    guidance, and no sessions. Each session and exercise carries its HealthKit
    workout activity type (`healthkit_activity`) and Health Connect exercise
    type (`health_connect_exercise`), as names. Scope `plans:read`."""
    the_week = None if week is None else IsoWeek.parse(week)
    return reads.respond(await reads.plan(request.app.state, ref=user, week=the_week, now=now))
