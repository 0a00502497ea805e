"""The exercise library: data integrity and the lookup helpers."""

from __future__ import annotations

import re

import pytest

from programs.errors import UnknownExercise
from programs.library import EXERCISES, DoseKind, Exercise, all_exercises, get_exercise
from programs.models import Category, Equipment, Region

KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

# Names from INTEGRATION.md ("Labels health platforms understand") plus the two
# precise types the library uses beyond that list.
HEALTHKIT_ACTIVITIES = frozenset(
    {
        "walking",
        "cycling",
        "swimming",
        "flexibility",
        "coreTraining",
        "traditionalStrengthTraining",
        "functionalStrengthTraining",
        "yoga",
        "pilates",
        "preparationAndRecovery",
        "elliptical",
        "waterFitness",
    }
)
HEALTH_CONNECT_EXERCISES = frozenset(
    {
        "EXERCISE_TYPE_STRETCHING",
        "EXERCISE_TYPE_STRENGTH_TRAINING",
        "EXERCISE_TYPE_CALISTHENICS",
        "EXERCISE_TYPE_PILATES",
        "EXERCISE_TYPE_YOGA",
        "EXERCISE_TYPE_WALKING",
        "EXERCISE_TYPE_BIKING",
        "EXERCISE_TYPE_SWIMMING_POOL",
        "EXERCISE_TYPE_OTHER_WORKOUT",
        "EXERCISE_TYPE_ELLIPTICAL",
    }
)
# Slugs the DOMAIN guide's evidence and stages name.
DOMAIN_SLUGS = (
    "knees-to-chest",
    "cat-camel",
    "hip-flexor-stretch",
    "hamstring-stretch",
    "shoulder-stretch",
    "triceps-stretch",
    "curl-up",
    "side-plank-knees",
    "side-plank",
    "bird-dog",
    "dead-bug",
    "glute-bridge",
    "back-extension",
    "pallof-press",
    "hip-hinge",
    "walking",
    "cycling",
    "swimming",
)
CORE_REGIONS = frozenset({Region.abdominal_front, Region.abdominal_side, Region.back_extensor})
FORBIDDEN_ADVICE = ("belt", "corset", "traction", "bed rest")


def _ids(exercise: Exercise) -> str:
    return exercise.slug


def test_library_is_large_enough() -> None:
    assert len(EXERCISES) >= 40
    assert all_exercises() == EXERCISES


def test_slugs_are_unique() -> None:
    slugs = [e.slug for e in EXERCISES]
    duplicates = sorted({s for s in slugs if slugs.count(s) > 1})
    assert duplicates == []


@pytest.mark.parametrize("exercise", EXERCISES, ids=_ids)
def test_slug_is_kebab_case(exercise: Exercise) -> None:
    assert KEBAB.fullmatch(exercise.slug), exercise.slug


@pytest.mark.parametrize("exercise", EXERCISES, ids=_ids)
def test_variants_exist_in_the_same_category(exercise: Exercise) -> None:
    for variant in (exercise.easier, exercise.harder):
        if variant is None:
            continue
        assert variant != exercise.slug
        other = get_exercise(variant)
        assert other.category == exercise.category, (exercise.slug, variant)


@pytest.mark.parametrize("exercise", EXERCISES, ids=_ids)
def test_level_is_one_to_four(exercise: Exercise) -> None:
    assert 1 <= exercise.level <= 4


@pytest.mark.parametrize("exercise", EXERCISES, ids=_ids)
def test_text_is_complete(exercise: Exercise) -> None:
    assert exercise.name.strip()
    assert 3 <= len(exercise.instructions) <= 6
    assert 1 <= len(exercise.cues) <= 3
    assert 1 <= len(exercise.cautions) <= 3
    for line in (*exercise.instructions, *exercise.cues, *exercise.cautions):
        assert line.strip() == line
        assert line, exercise.slug
        assert line.endswith("."), line


@pytest.mark.parametrize("exercise", EXERCISES, ids=_ids)
def test_never_recommends_passive_treatments(exercise: Exercise) -> None:
    text = " ".join((exercise.name, *exercise.instructions, *exercise.cues, *exercise.cautions))
    for word in FORBIDDEN_ADVICE:
        assert word not in text.lower(), (exercise.slug, word)


@pytest.mark.parametrize("category", list(Category))
def test_every_category_has_exercises(category: Category) -> None:
    assert [e for e in EXERCISES if e.category is category]


@pytest.mark.parametrize("slug", DOMAIN_SLUGS)
def test_domain_slugs_exist(slug: str) -> None:
    assert get_exercise(slug).slug == slug


def test_aerobic_exercises_have_an_activity() -> None:
    aerobic = [e for e in EXERCISES if e.category is Category.aerobic]
    assert aerobic
    for exercise in aerobic:
        assert exercise.dose is DoseKind.minutes, exercise.slug
        if exercise.slug == "march-in-place":
            assert exercise.activity is None
        else:
            assert exercise.activity is not None, exercise.slug


def test_only_aerobic_exercises_have_an_activity() -> None:
    assert [e.slug for e in EXERCISES if e.category is not Category.aerobic and e.activity] == []


@pytest.mark.parametrize("exercise", EXERCISES, ids=_ids)
def test_health_platform_labels_are_known_names(exercise: Exercise) -> None:
    assert exercise.healthkit_activity in HEALTHKIT_ACTIVITIES
    assert exercise.health_connect_exercise in HEALTH_CONNECT_EXERCISES


def test_stretching_maps_to_flexibility() -> None:
    for exercise in EXERCISES:
        if exercise.category is Category.stretching:
            assert exercise.healthkit_activity == "flexibility", exercise.slug
            assert exercise.health_connect_exercise == "EXERCISE_TYPE_STRETCHING"


def test_strengthening_holds_are_core_regions() -> None:
    holds = [
        e for e in EXERCISES if e.category is Category.strengthening and e.dose is DoseKind.hold
    ]
    assert holds
    for exercise in holds:
        assert exercise.region in CORE_REGIONS, exercise.slug


def test_variant_chain_from_the_planner() -> None:
    assert get_exercise("abdominal-bracing").harder == "curl-up"
    assert get_exercise("curl-up").easier == "abdominal-bracing"
    assert get_exercise("curl-up").harder == "dead-bug"
    assert get_exercise("dead-bug").easier == "curl-up"
    assert get_exercise("side-plank-knees").harder == "side-plank"
    assert get_exercise("side-plank").easier == "side-plank-knees"
    assert get_exercise("swimming").easier == "water-walking"
    assert get_exercise("water-walking").harder == "swimming"


def test_unknown_slug_raises() -> None:
    with pytest.raises(UnknownExercise) as info:
        get_exercise("nope")
    assert info.value.slug == "nope"


def test_usable_with_respects_equipment() -> None:
    pallof = get_exercise("pallof-press")
    assert not pallof.usable_with(())
    assert pallof.usable_with((Equipment.band,))
    assert not get_exercise("goblet-squat").usable_with((Equipment.band,))
    assert get_exercise("goblet-squat").usable_with((Equipment.dumbbells,))
    assert not get_exercise("swimming").usable_with(())
    assert get_exercise("bird-dog").usable_with(())
