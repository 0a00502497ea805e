"""Property-based tests: every generated week keeps the planner's invariants."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from programs import (
    AerobicActivity,
    Episode,
    Equipment,
    FitnessLevel,
    IsoWeek,
    Plan,
    PlannedSession,
    Profile,
    ReadinessStatus,
    RedFlag,
    Weekday,
    assess,
    plan_week,
)
from programs import constants as c
from tests.programs.invariants import check_week
from tests.programs.simulate import PERSON, simulate

START = date(2026, 1, 5)
PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def profiles(draw: st.DrawFn) -> Profile:
    days = draw(st.lists(st.sampled_from(list(Weekday)), min_size=2, max_size=6, unique=True))
    try:
        return Profile(
            training_days=tuple(days),
            session_minutes=draw(st.integers(15, 90)),
            fitness_level=draw(st.sampled_from(list(FitnessLevel))),
            equipment=tuple(draw(st.lists(st.sampled_from(list(Equipment)), max_size=4))),
            aerobic_activities=tuple(
                draw(st.lists(st.sampled_from(list(AerobicActivity)), min_size=1, max_size=3))
            ),
            birth_year=draw(st.none() | st.integers(1935, 2006)),
            program_start=START + timedelta(days=draw(st.integers(0, 6))),
        )
    except ValidationError:
        assume(False)
        raise


@st.composite
def episode_lists(draw: st.DrawFn) -> tuple[Episode, ...]:
    episodes = []
    for _ in range(draw(st.integers(0, 2))):
        onset = START + timedelta(days=draw(st.integers(-40, 120)))
        resolved = draw(st.none() | st.integers(0, 40))
        episodes.append(
            Episode(
                onset_date=onset,
                pain_now=draw(st.integers(0, 10)),
                red_flags=tuple(
                    draw(
                        st.lists(st.sampled_from(list(RedFlag)), max_size=1).filter(lambda f: True)
                    )
                )
                if draw(st.integers(0, 9)) == 0
                else (),
                resolved_on=None if resolved is None else onset + timedelta(days=resolved),
                cleared_by_clinician=draw(st.booleans()),
            )
        )
    return tuple(sorted(episodes, key=lambda e: e.onset_date))


def _older(person: Profile, plan: Plan) -> bool:
    age = person.age_in(IsoWeek.parse(plan.week).year)
    return age is not None and age >= c.OLDER_ADULT_AGE


def _full(plan: Plan, person: Profile) -> bool:
    return len(plan.sessions) == len(person.training_days)


@PROPERTY_SETTINGS
@given(
    person=profiles(),
    weeks=st.integers(1, 16),
    pains=st.lists(st.none() | st.integers(0, 10), min_size=7, max_size=7),
    episodes=episode_lists(),
)
def test_every_generated_week_keeps_the_invariants(
    person: Profile, weeks: int, pains: list[int | None], episodes: tuple[Episode, ...]
) -> None:
    def pain(week: int, session: PlannedSession) -> int | None:
        return pains[(week + session.date.weekday()) % len(pains)]

    plans = simulate(person, weeks, pain=pain, episodes=episodes)
    for plan in plans:
        check_week(plan, person, older=_older(person, plan))
        for session in plan.sessions:
            assert assess(episodes, on=session.date).status is ReadinessStatus.ready
    for before, after in pairwise(plans):
        if _full(before, person) and _full(after, person) and before.stage and after.stage:
            assert after.aerobic_minutes <= before.aerobic_minutes * (1 + c.MAX_WEEKLY_INCREASE)
            assert after.strength_seconds <= before.strength_seconds * (1 + c.MAX_WEEKLY_INCREASE)
            assert after.stage.number - before.stage.number in (0, 1)
        regress = after.adjustment is not None and after.adjustment.action == "regress"
        if regress and _full(before, person) and _full(after, person):
            assert after.aerobic_minutes <= max(before.aerobic_minutes, 10)


@PROPERTY_SETTINGS
@given(person=profiles(), weeks=st.integers(12, 20))
def test_stages_never_advance_faster_than_their_minimum(person: Profile, weeks: int) -> None:
    plans = simulate(person, weeks)
    stages = [p.stage.number for p in plans if p.stage and p.sessions]
    assert stages == sorted(stages)
    for stage, minimum in c.STAGE_MIN_WEEKS.items():
        if stage + 1 in stages:
            assert stages.count(stage) >= minimum


@PROPERTY_SETTINGS
@given(person=profiles(), episodes=episode_lists(), offset=st.integers(-3, 30))
def test_same_inputs_give_the_same_plan(
    person: Profile, episodes: tuple[Episode, ...], offset: int
) -> None:
    week = IsoWeek.of(START).shift(offset // 7)
    today = START + timedelta(days=offset)

    def once() -> Plan:
        return plan_week(
            person_id=PERSON, profile=person, week=week, today=today, episodes=episodes
        )

    first, second = once(), once()
    assert first == second
    assert len({s.id for s in first.sessions}) == len(first.sessions)


@PROPERTY_SETTINGS
@given(person=profiles(), flag=st.sampled_from(list(RedFlag)), offset=st.integers(0, 60))
def test_a_red_flag_never_yields_a_single_exercise(
    person: Profile, flag: RedFlag, offset: int
) -> None:
    episodes = (Episode(onset_date=START, pain_now=1, red_flags=(flag,)),)
    day = START + timedelta(days=offset)
    for stage in (None, 1, 2, 3, 4):
        plan = plan_week(
            person_id=PERSON,
            profile=person,
            week=IsoWeek.of(day),
            today=day,
            episodes=episodes,
            stage=stage,
        )
        assert plan.status is ReadinessStatus.refer
        assert plan.sessions == ()
