"""Building one session: warm-up, stretching, strengthening, aerobic, cool-down.

Internal to the planner. Sessions are drafted as light dataclasses so that
replaying a year of history stays cheap; only the requested week becomes
pydantic models.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache, cached_property, lru_cache
from math import ceil
from typing import NamedTuple

from programs import constants as c
from programs import dosage
from programs.dosage import Dose
from programs.errors import UnknownExercise
from programs.library import DoseKind, Exercise, get_exercise
from programs.models import (
    AerobicActivity,
    Block,
    BlockType,
    Category,
    Equipment,
    Intensity,
    PrescribedExercise,
    Region,
)
from programs.stages import TEMPLATES, Slot

ABDOMINAL = frozenset({Region.abdominal_front, Region.abdominal_side})
# Leave room for aerobic work in a session that also holds strengthening.
AEROBIC_RESERVE_MINUTES = 5
WARM_UP_MOVE = "march-in-place"
WARM_UP_MOBILITY = "cat-camel"
COOL_DOWN_CHOICES = ("child-pose", "knees-to-chest", "single-knee-to-chest")
AEROBIC_EXERCISE = {
    AerobicActivity.walking: "walking",
    AerobicActivity.cycling: "cycling",
    AerobicActivity.swimming: "swimming",
    AerobicActivity.elliptical: "elliptical",
}


@dataclass(frozen=True, slots=True)
class Item:
    exercise: Exercise
    dose: Dose | None  # None for minutes-dosed (aerobic) work
    minutes: int
    intensity: Intensity | None = None

    @property
    def strength_work(self) -> int:
        if self.dose is None or self.exercise.dose not in (DoseKind.hold, DoseKind.reps):
            return 0
        return self.dose.work


@lru_cache(maxsize=1 << 14)
def prescribed(item: Item) -> PrescribedExercise:
    """An item as a plan prescribes it."""
    # Built from the library's own validated data: construct without re-validating.
    # Immutable, so one instance serves every plan that prescribes the same dose.
    e, dose = item.exercise, item.dose
    return PrescribedExercise.model_construct(
        slug=e.slug,
        name=e.name,
        category=e.category,
        region=e.region,
        sets=dose.sets if dose else 1,
        reps=dose.reps if dose else 1,
        hold_seconds=dose.hold if dose else None,
        per_side=e.per_side,
        minutes=item.minutes,
        intensity=item.intensity,
        instructions=e.instructions,
        cues=e.cues,
        cautions=e.cautions,
        work_seconds=dose.work if dose else item.minutes * 60,
        healthkit_activity=e.healthkit_activity,
        health_connect_exercise=e.health_connect_exercise,
    )


@lru_cache(maxsize=1 << 14)
def built_block(kind: BlockType, items: tuple[Item, ...]) -> Block:
    """A block as a plan holds it; one instance for equal blocks."""
    return Block.model_construct(
        type=kind, minutes=sum(i.minutes for i in items), exercises=tuple(map(prescribed, items))
    )


Blocks = tuple[tuple[BlockType, tuple[Item, ...]], ...]


class Figures(NamedTuple):
    """What a session adds to its week's balance and volumes."""

    aerobic: int  # minutes
    strength: int  # seconds under tension
    back: int  # back-extensor seconds
    abdominal: int  # abdominal (front and side) seconds
    sided: int  # seconds of work done per side, both sides counted


def figures(blocks: Iterable[Block]) -> Figures:
    """A session's figures, from its blocks as built or as stored."""
    aerobic = strength = back = abdominal = sided = 0
    for block in blocks:
        if block.type is BlockType.aerobic:
            aerobic += block.minutes
        for e in block.exercises:
            if e.category is not Category.strengthening:
                continue
            strength += e.work_seconds
            if e.region is Region.back_extensor:
                back += e.work_seconds
            elif e.region in ABDOMINAL:
                abdominal += e.work_seconds
            if e.per_side:
                sided += e.work_seconds
    return Figures(aerobic, strength, back, abdominal, sided)


_FRAMING = frozenset({BlockType.warm_up, BlockType.cool_down})


class Content:
    """A session's blocks, as items (what its volumes count) and as built (what
    its plan holds). One instance serves every day that holds the same blocks
    (`programs.replay`'s week layouts keep them), so that what a plan reads of
    them is worked out once, when first read."""

    def __init__(self, blocks: Blocks, built: tuple[Block, ...]) -> None:
        self.blocks = blocks
        self.built = built

    @cached_property
    def minutes(self) -> int:
        return sum(block.minutes for block in self.built)

    @cached_property
    def main(self) -> Block | None:
        """The block that names the session on health platforms: its longest,
        warm-up and cool-down aside (the first of the longest); None when it
        holds no other."""
        main: Block | None = None
        for block in self.built:
            if block.type in _FRAMING or (main is not None and block.minutes <= main.minutes):
                continue
            main = block
        return main

    @cached_property
    def figures(self) -> Figures:
        return figures(self.built)


@dataclass(frozen=True, slots=True)
class Draft:
    """One session before it becomes a `PlannedSession`."""

    day: date
    eased: bool
    content: Content

    @property
    def blocks(self) -> Blocks:
        return self.content.blocks

    @property
    def built(self) -> tuple[Block, ...]:
        return self.content.built

    @property
    def aerobic_minutes(self) -> int:
        return sum(
            item.minutes
            for kind, items in self.blocks
            if kind is BlockType.aerobic
            for item in items
        )

    @property
    def strength_work(self) -> int:
        return sum(item.strength_work for _, items in self.blocks for item in items)


@dataclass(frozen=True, slots=True)
class Setting:
    """Everything about the person and stage that shapes a session's content."""

    stage: int
    cap: int  # highest variant level
    equipment: tuple[Equipment, ...]
    activities: tuple[AerobicActivity, ...]
    session_minutes: int
    older: bool


def resolve(
    slot: Slot, *, cap: int, equipment: Iterable[Equipment], taken: Iterable[str]
) -> Exercise | None:
    """The first candidate the person can do, walking down to easier variants."""
    have = tuple(equipment)
    used = set(taken)
    for slug in slot:
        exercise: Exercise | None = get_exercise(slug)
        while exercise is not None and (exercise.level > cap or not exercise.usable_with(have)):
            exercise = get_exercise(exercise.easier) if exercise.easier else None
        if exercise is not None and exercise.slug not in used:
            return exercise
    return None


# --- Strengthening ------------------------------------------------------------------


@cache
def _roles(
    stage: int, cap: int, equipment: tuple[Equipment, ...]
) -> tuple[tuple[Exercise, ...], ...]:
    """(front, side, back, other) exercises for a stage; back ends with a hold."""
    template = TEMPLATES[stage]
    taken: list[str] = []

    def pick(slots: Sequence[Slot]) -> list[Exercise]:
        found = []
        for slot in slots:
            exercise = resolve(slot, cap=cap, equipment=equipment, taken=taken)
            if exercise is not None:
                taken.append(exercise.slug)
                found.append(exercise)
        return found

    front, side = pick(template.front), pick(template.side)
    abdominal = front + side
    back = pick(template.back)
    if not any(e.dose is DoseKind.hold for e in back):
        back += pick((("bird-dog",),))
    back.sort(key=lambda e: e.dose is DoseKind.hold)
    other = pick(template.other)
    if not abdominal or not back:
        raise UnknownExercise(f"stage {stage} template has no trunk exercise at level {cap}")
    return tuple(front), tuple(side), tuple(back), tuple(other)


Config = tuple[tuple[Exercise, ...], tuple[Exercise, ...], tuple[Exercise, ...]]


def _configurations(
    front: tuple[Exercise, ...],
    side: tuple[Exercise, ...],
    back: tuple[Exercise, ...],
    other: tuple[Exercise, ...],
) -> list[Config]:
    """(abdominal, back, other) subsets from the full set down to the smallest
    balanced one, for small budgets and short sessions: most exercises first,
    then front and side work both kept, then more hip, leg and upper-body work."""
    configs = [
        (front[:f] + side[:s], back[b:], other[:o])
        for f in range(len(front) + 1)
        for s in range(len(side) + 1)
        for b in range(len(back))
        for o in range(len(other) + 1)
        if f + s > 0
    ]
    configs.sort(
        key=lambda cfg: (
            -(len(cfg[0]) + len(cfg[1]) + len(cfg[2])),
            -len({e.region for e in cfg[0]}),
            -len(cfg[2]),
            -len(cfg[1]),
        )
    )
    return configs


def _balanced_doses(
    abdominal: tuple[Exercise, ...],
    back: tuple[Exercise, ...],
    other: tuple[Exercise, ...],
    *,
    budget: float,
    core_share: float,
) -> list[tuple[Exercise, Dose]] | None:
    core = budget * (core_share if other else 1.0)
    chosen: list[tuple[Exercise, Dose]] = []
    for exercise in abdominal:
        chosen.append(
            (exercise, dosage.match(exercise.dose, exercise.per_side, core / 2 / len(abdominal)))
        )
    abdominal_work = sum(d.work for _, d in chosen)
    back_doses = _match_back(back, abdominal_work)
    if back_doses is None:
        back_doses = _match_back(back[-1:], abdominal_work)
    if back_doses is None:
        return None
    chosen += back_doses
    for exercise in other:
        share = (budget - core) / len(other)
        chosen.append((exercise, dosage.match(exercise.dose, exercise.per_side, share)))
    return chosen


def _match_back(back: tuple[Exercise, ...], target: int) -> list[tuple[Exercise, Dose]] | None:
    """Back-extensor doses whose work equals `target` within the balance tolerance."""
    doses: list[tuple[Exercise, Dose]] = []
    for exercise in back[:-1]:
        doses.append((exercise, dosage.match(exercise.dose, exercise.per_side, target / len(back))))
    last = back[-1]
    remainder = target - sum(d.work for _, d in doses)
    if remainder <= 0:
        return None
    doses.append((last, dosage.match(last.dose, last.per_side, remainder)))
    work = sum(d.work for _, d in doses)
    # Aim well inside the weekly tolerance so that sums of sessions stay inside it.
    if abs(work - target) > target * c.BALANCE_TOLERANCE / 2:
        return None
    return doses


# Matching doses to a budget may overshoot it a little; never by more than this,
# so that a 10% step stays far below the 30% cap (Nielsen 2014).
BUDGET_OVERSHOOT = 0.05


# A block within this share of its budget is good enough to stop searching.
BUDGET_NEAR = 0.95


@lru_cache(maxsize=1 << 16)
def strength_block(
    stage: int, cap: int, equipment: tuple[Equipment, ...], budget: int, limit_minutes: int
) -> tuple[Item, ...]:
    """Strengthening for one session: as close to `budget` seconds under tension as
    the doses allow without passing it by more than 5%, back balanced against
    abdominal work, within `limit_minutes`. Prefers more exercises; shrinks doses
    and drops exercises to fit; empty if even the smallest block does not fit."""
    front, side, back, other = _roles(stage, cap, equipment)
    core_share = TEMPLATES[stage].core_share
    ceiling = budget * (1 + BUDGET_OVERSHOOT)
    configs = _configurations(front, side, back, other)
    best: list[tuple[Exercise, Dose]] | None = None
    best_work = 0
    for n, config in enumerate(configs):
        last = n == len(configs) - 1
        target = float(budget)
        while target >= 1:
            doses = _balanced_doses(*config, budget=target, core_share=core_share)
            if doses is not None:
                work = sum(d.work for _, d in doses)
                minutes = sum(d.minutes for _, d in doses)
                worthwhile = last or all(
                    d.reps >= c.CORE_MIN_HOLDS for _, d in doses if d.hold is not None
                )
                if worthwhile and work <= ceiling and minutes <= limit_minutes:
                    if work > best_work:
                        best, best_work = doses, work
                    break
                if not worthwhile or all(
                    d == dosage.smallest(e.dose, e.per_side) for e, d in doses
                ):
                    break
                # Shrink in proportion to the overshoot: few rounds, not many.
                target *= min(0.95, ceiling / work, limit_minutes / minutes)
            else:
                target *= 0.95
        if best_work >= budget * BUDGET_NEAR:
            break
    return () if best is None else tuple(Item(e, d, d.minutes) for e, d in best)


# --- Other blocks ---------------------------------------------------------------------


def stretch_minutes(session_minutes: int) -> int:
    """Minutes of the stretching block (product decision, ~60 s per stretch)."""
    if session_minutes < 30:
        return 3
    if session_minutes < 45:
        return 4
    if session_minutes < 60:
        return 6
    return 8


def _stretch_item(exercise: Exercise, *, older: bool) -> Item:
    if exercise.dose is DoseKind.mobility:
        dose = dosage.mobility_dose(per_side=exercise.per_side)
    else:
        dose = dosage.stretch_dose(per_side=exercise.per_side, older=older)
    return Item(exercise, dose, dose.minutes)


@lru_cache(maxsize=4096)
def warm_up(setting: Setting) -> tuple[Item, ...]:
    total = (
        c.WARM_UP_MINUTES_LONG
        if setting.session_minutes >= c.LONG_SESSION_MINUTES
        else c.WARM_UP_MINUTES_SHORT
    )
    mobility = _stretch_item(get_exercise(WARM_UP_MOBILITY), older=setting.older)
    move = Item(get_exercise(WARM_UP_MOVE), None, total - mobility.minutes, Intensity.light)
    return (move, mobility)


def stretching(setting: Setting, rotation: int) -> tuple[Item, ...]:
    """Stretches filling the block's minutes, starting at a different one each day."""
    return _stretching(setting, rotation % len(TEMPLATES[setting.stage].stretches))


@lru_cache(maxsize=4096)
def _stretching(setting: Setting, start: int) -> tuple[Item, ...]:
    candidates = TEMPLATES[setting.stage].stretches
    ordered = candidates[start:] + candidates[:start]
    room = stretch_minutes(setting.session_minutes)
    items: list[Item] = []
    for slug in ordered:
        exercise = resolve(
            (slug,),
            cap=setting.cap,
            equipment=setting.equipment,
            taken=(i.exercise.slug for i in items),
        )
        if exercise is None:
            continue
        item = _stretch_item(exercise, older=setting.older)
        if item.minutes <= room:
            items.append(item)
            room -= item.minutes
    return tuple(items)


def cool_down(setting: Setting, used: Iterable[str]) -> tuple[Item, ...]:
    return _cool_down(setting, frozenset(used))


@lru_cache(maxsize=4096)
def _cool_down(setting: Setting, used: frozenset[str]) -> tuple[Item, ...]:
    if setting.session_minutes < c.COOL_DOWN_FROM_SESSION_MINUTES:
        return ()
    exercise = resolve(COOL_DOWN_CHOICES, cap=setting.cap, equipment=setting.equipment, taken=used)
    return () if exercise is None else (_stretch_item(exercise, older=setting.older),)


@lru_cache(maxsize=4096)
def aerobic_options(setting: Setting) -> tuple[Exercise, ...]:
    """The person's preferred activities, taken in turn from day to day;
    walking when none is possible."""
    options: list[Exercise] = []
    for activity in setting.activities:
        exercise = resolve(
            (AEROBIC_EXERCISE[activity],), cap=setting.cap, equipment=setting.equipment, taken=()
        )
        if exercise is not None and exercise not in options:
            options.append(exercise)
    return tuple(options) or (get_exercise("walking"),)


def aerobic_intensity(stage: int) -> Intensity:
    """Easy walking while restoring; moderate (talk test, RPE 3-4) after (WHO 2020)."""
    return Intensity.light if stage == 1 else Intensity.moderate


def share_out(total: int, capacities: Sequence[int]) -> list[int]:
    """Split `total` minutes as evenly as capacities allow (water filling)."""
    shares = [0] * len(capacities)
    remaining = total
    order = sorted(range(len(capacities)), key=lambda i: (capacities[i], i))
    for position, i in enumerate(order):
        fair = ceil(remaining / (len(order) - position)) if remaining > 0 else 0
        shares[i] = max(0, min(capacities[i], fair))
        remaining -= shares[i]
    return shares
