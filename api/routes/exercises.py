"""The exercise library."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import ClientDep
from api.errors import problem_responses
from api.schemas import ExercisesPublic
from programs import Category, Equipment, Exercise, Region, all_exercises, get_exercise

router = APIRouter(
    prefix="/v1/exercises", tags=["exercises"], responses=problem_responses(401, 422, 500)
)


@router.get("")
def list_exercises(
    _client: ClientDep,
    category: Category | None = None,
    region: Region | None = None,
    equipment: Annotated[
        list[Equipment] | None,
        Query(description="Only exercises doable with this equipment (repeatable)."),
    ] = None,
    level: Annotated[int | None, Query(ge=1, le=4, description="Difficulty, 1-4.")] = None,
) -> ExercisesPublic:
    """Every exercise backplan may prescribe, optionally filtered."""
    found = [
        exercise
        for exercise in all_exercises()
        if (category is None or exercise.category is category)
        and (region is None or exercise.region is region)
        and (equipment is None or exercise.usable_with(equipment))
        and (level is None or exercise.level == level)
    ]
    return ExercisesPublic(data=found)


@router.get("/{slug}", responses=problem_responses(404))
def read_exercise(_client: ClientDep, slug: Annotated[str, Path(max_length=100)]) -> Exercise:
    return get_exercise(slug)
