"""Factories for planner tests: profiles, completions and simulated weeks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time

from programs import (
    Completion,
    Episode,
    IsoWeek,
    Plan,
    PlannedSession,
    Profile,
    SessionLog,
    Weekday,
    plan_week,
    session_volume,
)

PERSON = "person-1"


def profile(**overrides: object) -> Profile:
    fields: dict[str, object] = {
        "training_days": (Weekday.mon, Weekday.wed, Weekday.fri),
        "session_minutes": 40,
        "fitness_level": "moderate",
        "program_start": date(2026, 1, 5),
    }
    fields.update(overrides)
    return Profile.model_validate(fields)


def log(session: PlannedSession, *, pain: int | None = 1, **completion: object) -> SessionLog:
    """A stored session; completed with `pain` unless pain is None."""
    aerobic, strength = session_volume(session)
    done = None
    if pain is not None:
        done = Completion.model_validate(
            {
                "completed_at": datetime.combine(session.date, time(18), UTC),
                "pain_during": pain,
                "effort": 3,
                **completion,
            }
        )
    return SessionLog(
        session_id=session.id,
        date=session.date,
        aerobic_minutes=aerobic,
        strength_seconds=strength,
        completion=done,
    )


def simulate(
    person: Profile,
    weeks: int,
    *,
    first: IsoWeek | None = None,
    pain: Callable[[int, PlannedSession], int | None] = lambda week, session: 1,
    episodes: tuple[Episode, ...] = (),
) -> list[Plan]:
    """Plan `weeks` weeks in turn, completing sessions as `pain` says (None: skipped)."""
    start = first or IsoWeek.of(person.program_start or date(2026, 1, 5))
    history: list[SessionLog] = []
    plans = []
    for n in range(weeks):
        week = start.shift(n)
        plan = plan_week(
            person_id=PERSON,
            profile=person,
            week=week,
            today=week.sunday(),
            history=tuple(history),
            episodes=episodes,
        )
        plans.append(plan)
        history += [log(s, pain=pain(n, s)) for s in plan.sessions]
    return plans
