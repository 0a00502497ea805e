"""The invariants every generated week keeps (issue 2), as one checker."""

from __future__ import annotations

from itertools import pairwise

from programs import (
    BlockType,
    Category,
    DoseKind,
    Intensity,
    Plan,
    PrescribedExercise,
    Profile,
    ReadinessStatus,
    Region,
    get_exercise,
)
from programs import constants as c

TRUNK_ABDOMINAL = {Region.abdominal_front, Region.abdominal_side}


def check_week(plan: Plan, person: Profile, *, older: bool = False) -> None:
    if plan.status is not ReadinessStatus.ready:
        assert plan.sessions == ()
        return
    assert plan.education is not None
    assert plan.safety
    training = {d.position for d in person.training_days}
    for session in plan.sessions:
        # Schedule
        assert session.date.weekday() in training
        if person.program_start:
            assert session.date >= person.program_start
        assert session.minutes <= person.session_minutes
        assert session.minutes == sum(b.minutes for b in session.blocks)
        assert [b.type for b in session.blocks[:2]] == [BlockType.warm_up, BlockType.stretching]
        for block in session.blocks:
            assert block.minutes == sum(e.minutes for e in block.exercises)
            assert block.exercises
            for exercise in block.exercises:
                check_dose(
                    exercise, block.type, older=older, stage=plan.stage.number if plan.stage else 1
                )
    if not plan.sessions:
        return
    # Mix
    categories = {
        e.category
        for s in plan.sessions
        for b in s.blocks
        if b.type is not BlockType.warm_up
        for e in b.exercises
    }
    assert categories == {Category.stretching, Category.strengthening, Category.aerobic}
    strength_days = sorted(
        s.date for s in plan.sessions if any(b.type is BlockType.strengthening for b in s.blocks)
    )
    assert plan.stage is not None
    if plan.stage.number >= 2:
        assert all((b - a).days > 1 for a, b in pairwise(strength_days))
        days = sorted(s.date for s in plan.sessions)
        if any((b - a).days > 1 for i, a in enumerate(days) for b in days[i + 1 :]):
            assert len(strength_days) >= 2
    # Balance
    assert plan.balance is not None
    back = abdominal = sided = 0
    for s in plan.sessions:
        for b in s.blocks:
            for e in b.exercises:
                if e.category is not Category.strengthening:
                    continue
                if e.region is Region.back_extensor:
                    back += e.work_seconds
                elif e.region in TRUNK_ABDOMINAL:
                    abdominal += e.work_seconds
                if e.per_side:
                    sided += e.work_seconds
    assert plan.balance.back_extensor_seconds == back
    assert plan.balance.abdominal_seconds == abdominal
    assert abdominal > 0
    assert abs(back / abdominal - 1) <= c.BALANCE_TOLERANCE
    assert plan.balance.left_seconds == plan.balance.right_seconds == sided // 2
    # Dosage, weekly
    assert 0 < plan.aerobic_minutes <= c.AEROBIC_UPPER_MINUTES


def check_dose(exercise: PrescribedExercise, block: BlockType, *, older: bool, stage: int) -> None:
    kind = get_exercise(exercise.slug).dose
    sides = 2 if exercise.per_side else 1
    if kind is DoseKind.hold:
        hold = exercise.hold_seconds
        assert hold is not None
        assert c.CORE_HOLD_SECONDS[0] <= hold <= c.CORE_HOLD_SECONDS[1]
        assert c.CORE_REPS[0] <= exercise.reps <= c.CORE_REPS[1]
        assert c.STRENGTH_SETS[0] <= exercise.sets <= c.STRENGTH_SETS[1]
        assert exercise.work_seconds == exercise.sets * exercise.reps * hold * sides
    elif kind is DoseKind.reps:
        assert c.STRENGTH_REPS[0] <= exercise.reps <= c.STRENGTH_REPS[1]
        assert c.STRENGTH_SETS[0] <= exercise.sets <= c.STRENGTH_SETS[1]
        assert exercise.hold_seconds is None
        assert (
            exercise.work_seconds
            == exercise.sets * exercise.reps * c.SECONDS_PER_DYNAMIC_REP * sides
        )
    elif kind is DoseKind.stretch:
        low, high = c.STRETCH_HOLD_SECONDS_OLDER if older else c.STRETCH_HOLD_SECONDS
        assert low <= (exercise.hold_seconds or 0) <= high
        assert c.STRETCH_REPS[0] <= exercise.reps <= c.STRETCH_REPS[1]
    elif kind is DoseKind.minutes:
        assert exercise.intensity in (Intensity.light, Intensity.moderate)
        if block is BlockType.aerobic and stage >= 2:
            assert exercise.intensity is Intensity.moderate
        assert exercise.minutes >= 1
