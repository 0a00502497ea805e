"""Doses: the sets, repetitions and holds that meet a work target.

Work is time under tension: sets x reps x hold seconds (3 s a dynamic rep),
x 2 when done per side.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from functools import cache
from math import ceil

from programs import constants as c
from programs.library import DoseKind

_PREFERRED_HOLD = 8  # McGill's holds of 7-8 s; breaks ties between equal doses


@dataclass(frozen=True, slots=True)
class Dose:
    sets: int
    reps: int
    hold: int | None
    per_side: bool

    @property
    def work(self) -> int:
        seconds = self.hold if self.hold is not None else c.SECONDS_PER_DYNAMIC_REP
        return self.sets * self.reps * seconds * (2 if self.per_side else 1)

    @property
    def seconds(self) -> int:
        """Time the exercise takes: work, rest between sets and a little setup."""
        rest = (self.sets - 1) * c.REST_BETWEEN_SETS_SECONDS * (2 if self.per_side else 1)
        return self.work + rest + 10

    @property
    def minutes(self) -> int:
        return ceil(self.seconds / 60)


@cache
def _grid(kind: DoseKind, per_side: bool) -> tuple[tuple[int, ...], tuple[Dose, ...]]:
    if kind is DoseKind.hold:
        low_hold, high_hold = c.CORE_HOLD_SECONDS
        low_reps, high_reps = c.CORE_REPS
        holds: tuple[int | None, ...] = tuple(range(low_hold, high_hold + 1))
    elif kind is DoseKind.reps:
        low_reps, high_reps = c.STRENGTH_REPS
        holds = (None,)
    else:
        raise ValueError(f"{kind} doses are not matched to a work target")
    low_sets, high_sets = c.STRENGTH_SETS
    best: dict[int, Dose] = {}
    for sets in range(low_sets, high_sets + 1):
        for reps in range(low_reps, high_reps + 1):
            for hold in holds:
                dose = Dose(sets, reps, hold, per_side)
                current = best.get(dose.work)
                if current is None or _preference(dose) < _preference(current):
                    best[dose.work] = dose
    works = tuple(sorted(best))
    return works, tuple(best[w] for w in works)


def _preference(dose: Dose) -> tuple[bool, int, int, int]:
    return (
        dose.reps < c.CORE_MIN_HOLDS,
        abs((dose.hold or _PREFERRED_HOLD) - _PREFERRED_HOLD),
        dose.sets,
        dose.reps,
    )


def match(kind: DoseKind, per_side: bool, target: float) -> Dose:
    """The allowed dose whose work is closest to `target` (the lower one on a tie)."""
    works, doses = _grid(kind, per_side)
    i = bisect_left(works, target)
    if i == 0:
        return doses[0]
    if i == len(works):
        return doses[-1]
    below, above = works[i - 1], works[i]
    return doses[i] if above - target < target - below else doses[i - 1]


def smallest(kind: DoseKind, per_side: bool) -> Dose:
    return _grid(kind, per_side)[1][0]


def stretch_dose(*, per_side: bool, older: bool) -> Dose:
    """About 60 s per stretch: 3 x 20 s, or 2 x 30 s from 65 (ACSM, Garber 2011)."""
    hold = c.STRETCH_HOLD_SECONDS_OLDER[0] if older else 20
    reps = c.STRETCH_TOTAL_SECONDS // hold
    return Dose(1, reps, hold, per_side)


MOBILITY_REPS = 8  # McGill's cat-camel: 5-8 slow cycles


def mobility_dose(*, per_side: bool) -> Dose:
    return Dose(1, MOBILITY_REPS, None, per_side)
