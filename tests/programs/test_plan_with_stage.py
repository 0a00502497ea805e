"""`plan_with_stage` and `current_stage`: a week's plan and the person's stage
from one replay, equal to `plan_week` and `progress(...).stage` asked apart."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from programs import (
    Episode,
    IsoWeek,
    PlannedSession,
    Profile,
    ReadinessStatus,
    SessionLog,
    current_stage,
    plan_week,
    plan_with_stage,
    progress,
    session_volume,
)
from tests.programs.simulate import PERSON, log, profile, simulate
from tests.programs.test_planner_properties import (
    PROPERTY_SETTINGS,
    START,
    episode_lists,
    profiles,
)


def stored(sessions: tuple[PlannedSession, ...]) -> list[SessionLog]:
    """A week's sessions as the history reads them once the week is stored."""
    logs = []
    for session in sessions:
        aerobic, strength = session_volume(session)
        logs.append(
            SessionLog(
                session_id=session.id,
                date=session.date,
                aerobic_minutes=aerobic,
                strength_seconds=strength,
            )
        )
    return logs


def check(
    person: Profile,
    history: list[SessionLog],
    episodes: tuple[Episode, ...],
    *,
    week: IsoWeek,
    today: date,
) -> None:
    plan, stage = plan_with_stage(
        person_id=PERSON, profile=person, week=week, today=today, history=history, episodes=episodes
    )
    assert plan == plan_week(
        person_id=PERSON, profile=person, week=week, today=today, history=history, episodes=episodes
    )
    asked_apart = progress(
        person_id=PERSON, profile=person, today=today, history=history, episodes=episodes
    )
    assert stage == asked_apart.stage
    assert stage == current_stage(profile=person, today=today, history=history, episodes=episodes)
    # Serving a week that has begun stores its sessions; the stage recorded
    # with it is the same as the history with them gives.
    begun = week.monday() <= today
    if begun and plan.status is ReadinessStatus.ready and plan.sessions:
        with_week = sorted([*history, *stored(plan.sessions)], key=lambda log: log.date)
        after = progress(
            person_id=PERSON, profile=person, today=today, history=with_week, episodes=episodes
        )
        assert stage == after.stage


@settings(PROPERTY_SETTINGS, max_examples=200)
@given(
    person=profiles(),
    weeks=st.integers(0, 26),
    days=st.integers(0, 6),
    shift=st.sampled_from([0, 0, 0, -2, -1, 1, 3]),
    # Mostly low pain, so that stages advance; now and then a skip or a red signal.
    pains=st.lists(
        st.integers(0, 3) | st.integers(0, 3) | st.none() | st.integers(0, 10),
        min_size=5,
        max_size=5,
    ),
    episodes=episode_lists(),
)
def test_one_replay_gives_the_plan_and_the_stage_asked_apart(
    person: Profile,
    weeks: int,
    days: int,
    shift: int,
    pains: list[int | None],
    episodes: tuple[Episode, ...],
) -> None:
    def pain(week: int, session: PlannedSession) -> int | None:
        return pains[(week + session.date.weekday()) % len(pains)]

    plans = simulate(person, weeks + 1, pain=pain, episodes=episodes)
    today = IsoWeek.of(START).shift(weeks).monday() + timedelta(days=days)
    week = IsoWeek.of(today).shift(shift)
    # The history as stored before the week is first served: the weeks before it.
    history = [
        log(session, pain=pain(n, session))
        for n, plan in enumerate(plans)
        for session in plan.sessions
        if session.date < min(week.monday(), today)
    ]
    check(person, history, episodes, week=week, today=today)


def test_a_stage_change_this_week_is_the_stage_reported() -> None:
    person = profile()
    plans = simulate(person, 2)
    history = [log(session, pain=1) for plan in plans for session in plan.sessions]
    week = IsoWeek.of(START).shift(2)
    plan, stage = plan_with_stage(
        person_id=PERSON, profile=person, week=week, today=week.monday(), history=history
    )
    assert plan.stage is not None
    assert stage is not None
    assert (plan.stage.number, stage.number, stage.since) == (2, 2, week.monday())
    check(person, history, (), week=week, today=week.monday())


def test_no_stage_before_the_program_starts_or_while_referred() -> None:
    person = profile(program_start=date(2026, 2, 2))
    week = IsoWeek.of(START)
    _, stage = plan_with_stage(person_id=PERSON, profile=person, week=week, today=START)
    assert stage is None
    referred = (Episode(onset_date=START, pain_now=2, red_flags=("fever",)),)
    plan, stage = plan_with_stage(
        person_id=PERSON,
        profile=profile(program_start=None),
        week=week,
        today=START,
        episodes=referred,
    )
    assert (plan.status, stage) == (ReadinessStatus.refer, None)
