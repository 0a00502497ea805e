"""The engine reads a history of `LogEntry`s (what the store reads back) as
it reads the same history of full `SessionLog`s: the plans, the stage and
the progress are equal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from programs import (
    Episode,
    IsoWeek,
    LogEntry,
    Logged,
    Pains,
    PlannedSession,
    Profile,
    SessionLog,
    plan_week,
    plan_with_stage,
    progress,
)
from tests.programs.simulate import PERSON, log, simulate
from tests.programs.test_planner_properties import (
    PROPERTY_SETTINGS,
    START,
    episode_lists,
    profiles,
)

Report = tuple[int | None, int | None, int | None]  # during (None: not done), before, next morning
pain = st.integers(0, 10)
reports = st.tuples(st.integers(0, 3) | pain | st.none(), st.none() | pain, st.none() | pain)


def lean(history: Sequence[SessionLog]) -> list[LogEntry]:
    """`history` as `db.plans.load_history` reads it back."""
    return [
        LogEntry(
            session_id=entry.session_id,
            date=entry.date,
            aerobic_minutes=entry.aerobic_minutes,
            completion=None
            if entry.completion is None
            else Pains(
                pain_during=entry.completion.pain_during,
                pain_before=entry.completion.pain_before,
                pain_next_morning=entry.completion.pain_next_morning,
            ),
        )
        for entry in history
    ]


@settings(PROPERTY_SETTINGS, max_examples=150)
@given(
    person=profiles(),
    weeks=st.integers(0, 20),
    days=st.integers(0, 6),
    shift=st.sampled_from([0, 0, -1, 1]),
    week_reports=st.lists(reports, min_size=5, max_size=5),
    episodes=episode_lists(),
)
def test_a_lean_history_plans_as_the_full_one(
    person: Profile,
    weeks: int,
    days: int,
    shift: int,
    week_reports: list[Report],
    episodes: tuple[Episode, ...],
) -> None:
    def report(week: int, session: PlannedSession) -> Report:
        return week_reports[(week + session.date.weekday()) % len(week_reports)]

    plans = simulate(person, weeks + 1, pain=lambda n, s: report(n, s)[0], episodes=episodes)
    today = IsoWeek.of(START).shift(weeks).monday() + timedelta(days=days)
    week = IsoWeek.of(today).shift(shift)
    full = []
    for n, plan in enumerate(plans):
        for session in plan.sessions:
            during, before, morning = report(n, session)
            if session.date < today:
                full.append(
                    log(session, pain=during, pain_before=before, pain_next_morning=morning)
                )
    given_lean = answers(person, lean(full), episodes, week=week, today=today)
    assert given_lean == answers(person, full, episodes, week=week, today=today)


def answers(
    person: Profile,
    history: Sequence[Logged],
    episodes: tuple[Episode, ...],
    *,
    week: IsoWeek,
    today: date,
) -> tuple[object, ...]:
    """What the engine answers about `week` on `today`, given `history`."""
    planned = [
        ask(
            person_id=PERSON,
            profile=person,
            week=week,
            today=today,
            history=history,
            episodes=episodes,
        )
        for ask in (plan_week, plan_with_stage)
    ]
    report = progress(
        person_id=PERSON, profile=person, today=today, history=history, episodes=episodes
    )
    return (*planned, report)
