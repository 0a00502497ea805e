"""The exercise library."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from api import reads
from api.deps import PageDep, ReadPlans
from api.errors import problem_responses
from api.routing import Route
from api.schemas import ExercisesPublic
from programs import Category, Equipment, Exercise, Region, get_exercise

router = APIRouter(
    prefix="/v1/exercises",
    tags=["exercises"],
    responses=problem_responses(401, 403, 422, 500),
    route_class=Route,
    dependencies=[ReadPlans],
)


@router.get("", response_model=ExercisesPublic)
async def list_exercises(
    request: Request,
    paging: PageDep,
    category: Category | None = None,
    region: Region | None = None,
    equipment: Annotated[
        list[Equipment] | None,
        Query(description="Only exercises doable with this equipment (repeatable)."),
    ] = None,
    level: Annotated[int | None, Query(ge=1, le=4, description="Difficulty, 1-4.")] = None,
) -> Response:
    """Every exercise backplan may prescribe, optionally filtered, by slug. Each
    carries its HealthKit and Health Connect activity names. Scope `plans:read`."""
    filters = reads.ExerciseFilters(category, region, equipment, level)
    return reads.respond(await reads.exercises(request.app.state.caches, paging, filters))


@router.get("/{slug}", responses=problem_responses(404))
def read_exercise(slug: Annotated[str, Path(max_length=100)]) -> Exercise:
    """One exercise. Scope `plans:read`."""
    return get_exercise(slug)
