"""The four stages: names, content templates and variant levels.

Templates name exercises by slug in order of preference; the planner takes the
first one the person can do (equipment) at the stage's level, walking down the
easier-variant chain when needed.
"""

from __future__ import annotations

from dataclasses import dataclass

from programs import constants as c
from programs.models import FitnessLevel

STAGE_NAMES = {1: "restore", 2: "build endurance", 3: "strengthen", 4: "maintain"}
FINAL_STAGE = 4

# Each role is a tuple of slots; each slot lists candidate slugs by preference.
Slot = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StageTemplate:
    front: tuple[Slot, ...]  # abdominal, front
    side: tuple[Slot, ...]  # abdominal, side
    back: tuple[Slot, ...]  # back extensors; the last slot is an isometric hold
    other: tuple[Slot, ...]  # hips, legs, upper body
    stretches: tuple[str, ...]
    core_share: float  # share of strength work for trunk (back + abdominal) work
    strength_every_session: bool


# McGill's order (motor control -> endurance -> strength) and DOMAIN's stage table.
TEMPLATES: dict[int, StageTemplate] = {
    1: StageTemplate(
        front=(("abdominal-bracing",), ("curl-up",)),
        side=(("side-plank-knees",),),
        back=(("bird-dog",),),
        other=(),
        stretches=(
            "knees-to-chest",
            "hip-flexor-stretch",
            "hamstring-stretch",
            "piriformis-stretch",
            "lower-trunk-rotation",
            "child-pose",
            "shoulder-stretch",
        ),
        core_share=1.0,
        strength_every_session=True,
    ),
    2: StageTemplate(
        front=(("curl-up",), ("dead-bug",)),
        side=(("side-plank",),),
        back=(("bird-dog",),),
        other=(("glute-bridge",), ("clamshell",)),
        stretches=(
            "hip-flexor-stretch",
            "hamstring-stretch",
            "piriformis-stretch",
            "knees-to-chest",
            "calf-stretch",
            "shoulder-stretch",
            "lower-trunk-rotation",
        ),
        core_share=0.8,
        strength_every_session=False,
    ),
    3: StageTemplate(
        front=(("dead-bug",),),
        side=(("side-plank",), ("pallof-press",)),
        back=(("dumbbell-romanian-deadlift",), ("back-extension",), ("bird-dog",)),
        other=(
            ("goblet-squat",),
            ("dumbbell-row", "prone-y-raise"),
            ("single-leg-glute-bridge",),
        ),
        stretches=(
            "hip-flexor-stretch",
            "hamstring-stretch",
            "quad-stretch",
            "shoulder-stretch",
            "triceps-stretch",
            "chest-doorway-stretch",
            "piriformis-stretch",
        ),
        core_share=0.6,
        strength_every_session=False,
    ),
    4: StageTemplate(
        front=(("front-plank",),),
        side=(("side-plank",), ("pallof-press",)),
        back=(("dumbbell-romanian-deadlift",), ("prone-arm-leg-lift",)),
        other=(
            ("split-squat", "goblet-squat"),
            ("dumbbell-row", "band-pull-apart", "prone-y-raise"),
            ("single-leg-glute-bridge",),
        ),
        stretches=(
            "hamstring-stretch",
            "hip-flexor-stretch",
            "shoulder-stretch",
            "quad-stretch",
            "piriformis-stretch",
            "triceps-stretch",
            "calf-stretch",
        ),
        core_share=0.6,
        strength_every_session=False,
    ),
}

# Highest variant level per stage (GLA:D Back's four difficulty levels).
# Product decision: low fitness one level lower, 65+ one lower (DOMAIN: older
# adults start at the easiest variants), and one lower after a red pain signal.
STAGE_LEVEL_CAP = {1: 1, 2: 2, 3: 4, 4: 4}

# Strength work per strength session, in seconds under tension.
# Product decisions, kept inside ACSM/McGill dosage ranges by the planner.
START_SESSION_STRENGTH_SECONDS = {
    FitnessLevel.low: 120,
    FitnessLevel.moderate: 160,
    FitnessLevel.high: 200,
}
STAGE_SESSION_STRENGTH_CAP = {1: 300, 2: 480, 3: 720, 4: 720}
# For `--stage` previews only: typical volumes on entering a stage.
STAGE_ENTRY_SESSION_STRENGTH = {1: 160, 2: 240, 3: 360, 4: 480}
STAGE_ENTRY_AEROBIC_MINUTES = {1: 45, 2: 60, 3: 100, 4: c.AEROBIC_GOAL_MINUTES}
MIN_SESSION_STRENGTH_SECONDS = 40
MIN_WEEKLY_AEROBIC_MINUTES = 10


def level_cap(*, stage: int, fitness: FitnessLevel, older: bool, eased: bool) -> int:
    cap = STAGE_LEVEL_CAP[stage]
    if fitness is FitnessLevel.low:
        cap -= 1
    if older:
        cap -= 1
    if eased:
        cap -= 1
    return max(1, cap)


def start_aerobic_minutes(fitness: FitnessLevel, training_days: int) -> int:
    """What the person can do at the start: 10-20 min, 3 times a week (ACSM)."""
    sessions = min(c.AEROBIC_START_SESSIONS, training_days)
    return c.AEROBIC_START_SESSION_MINUTES[fitness.value] * sessions
