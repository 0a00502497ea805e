"""The exercise library."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from api import reads
from api.caching import Body
from api.deps import PageDep, ReadPlans
from api.errors import problem_responses
from api.pagination import page
from api.routing import Route
from api.schemas import ExercisesPublic
from programs import Category, Equipment, Exercise, Region, all_exercises, get_exercise

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
    kit = None if equipment is None else tuple(sorted(set(equipment)))
    key = ("exercises", paging.limit, paging.cursor, category, region, kit, level)

    def compute() -> Body:
        return reads.body_of(_exercises(paging, category, region, equipment, level))

    # The library is part of the code: its pages change only with a deploy.
    return reads.respond(
        await reads.cached(request.app.state.caches, key, topic=None, compute=compute)
    )


def _exercises(
    paging: PageDep,
    category: Category | None,
    region: Region | None,
    equipment: list[Equipment] | None,
    level: int | None,
) -> ExercisesPublic:
    after = paging.after_text("exercises") or ""
    found = [
        exercise
        for exercise in sorted(all_exercises(), key=lambda exercise: exercise.slug)
        if exercise.slug > after
        and (category is None or exercise.category is category)
        and (region is None or exercise.region is region)
        and (equipment is None or exercise.usable_with(equipment))
        and (level is None or exercise.level == level)
    ]
    items, cursor = page(found, paging, kind="exercises", key=lambda exercise: [exercise.slug])
    return ExercisesPublic(items=items, next_cursor=cursor)


@router.get("/{slug}", responses=problem_responses(404))
def read_exercise(slug: Annotated[str, Path(max_length=100)]) -> Exercise:
    """One exercise. Scope `plans:read`."""
    return get_exercise(slug)
