"""The engine's caches and shortcuts give what the plain computation gives.

Replaying a year of history must stay under a millisecond (issue 7), so the
engine caches week layouts and volumes across weeks, people and calls, and
skips work where it can. These tests pin each shortcut to the computation it
stands for.
"""

from __future__ import annotations

import random
import statistics
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from programs import (
    Block,
    BlockType,
    IsoWeek,
    PlannedSession,
    Profile,
    SessionLog,
    plan_week,
    progress,
    summarize,
)
from programs.progress import mean_pain
from programs.replay import (
    State,
    _older,
    _week_layout,
    draft_week,
    profile_key,
    week_volumes,
)
from programs.sessions import Setting, aerobic_intensity, aerobic_options, figures
from programs.stages import level_cap
from tests.programs.simulate import PERSON, log, profile, simulate
from tests.programs.test_planner_properties import PROPERTY_SETTINGS, START, profiles


@st.composite
def states(draw: st.DrawFn) -> State:
    return State(
        stage=draw(st.integers(1, 4)),
        since=START,
        session_strength=draw(st.integers(40, 720)),
        weekly_aerobic=draw(st.integers(10, 300)),
        ease=draw(st.booleans()),
    )


def _week_days(person: Profile, monday: date) -> tuple[date, ...]:
    positions = sorted(d.position for d in person.training_days)
    return tuple(monday + timedelta(days=p) for p in positions)


@PROPERTY_SETTINGS
@given(
    person=profiles(),
    state=states(),
    weeks_apart=st.integers(1, 120),
    red_day=st.none() | st.integers(0, 6),
)
def test_a_layout_cached_by_another_week_drafts_what_a_fresh_one_does(
    person: Profile, state: State, weeks_apart: int, red_day: int | None
) -> None:
    monday = IsoWeek.of(START).monday()
    days = _week_days(person, monday)
    red_on = None if red_day is None else monday + timedelta(days=red_day)
    _week_layout.cache_clear()
    fresh = draft_week(person, state, days, red_on=red_on)

    # Another week with the same weekdays fills the cache, then this one reads it.
    other = monday + timedelta(weeks=weeks_apart)
    other_red = None if red_on is None else red_on + timedelta(weeks=weeks_apart)
    draft_week(person, state, _week_days(person, other), red_on=other_red)
    cached = draft_week(person, state, days, red_on=red_on)
    assert cached == fresh
    assert [d.day for d in cached] == list(days)


# A person, their state, a week up to 60 from START either way and the day of
# a red flag in it, if any (`_a_week`).
ANY_WEEK = given(
    person=profiles(),
    state=states(),
    week_offset=st.integers(-60, 60),
    red_day=st.none() | st.integers(0, 6),
)


def _a_week(
    person: Profile, week_offset: int, red_day: int | None
) -> tuple[IsoWeek, tuple[date, ...], date | None]:
    """The week `week_offset` from START, the person's training days in it,
    and the day of a red flag (`red_day` days after its Monday), if any."""
    week = IsoWeek.of(START).shift(week_offset)
    days = _week_days(person, week.monday())
    red_on = None if red_day is None else week.monday() + timedelta(days=red_day)
    return week, days, red_on


@PROPERTY_SETTINGS
@ANY_WEEK
def test_week_volumes_are_the_drafted_week_s_volumes(
    person: Profile, state: State, week_offset: int, red_day: int | None
) -> None:
    week, days, red_on = _a_week(person, week_offset, red_day)
    drafts = draft_week(person, state, days, red_on=red_on)
    volumes = week_volumes(
        profile_key(person),
        state.stage,
        state.session_strength,
        state.weekly_aerobic,
        state.ease,
        tuple(day.weekday() for day in days),
        None if red_on is None else red_on.weekday(),
        week.year,
    )
    assert volumes.aerobic == sum(d.aerobic_minutes for d in drafts)
    assert volumes.strength == sum(d.strength_work for d in drafts)
    strength_days = sum(
        any(kind is BlockType.strengthening for kind, _ in d.blocks) for d in drafts
    )
    assert strength_days <= volumes.strength_sessions <= len(days)


@PROPERTY_SETTINGS
@ANY_WEEK
def test_blocks_built_with_the_layout_are_the_drafted_blocks(
    person: Profile, state: State, week_offset: int, red_day: int | None
) -> None:
    _week, days, red_on = _a_week(person, week_offset, red_day)
    for draft in draft_week(person, state, days, red_on=red_on):
        assert len(draft.built) == len(draft.blocks)
        for block, (kind, items) in zip(draft.built, draft.blocks, strict=True):
            assert block.type is kind
            assert block.minutes == sum(item.minutes for item in items)
            assert [e.slug for e in block.exercises] == [i.exercise.slug for i in items]
            assert [e.minutes for e in block.exercises] == [i.minutes for i in items]
            work = [i.dose.work if i.dose else i.minutes * 60 for i in items]
            assert [e.work_seconds for e in block.exercises] == work
            assert block == Block.model_validate(block.model_dump())


@PROPERTY_SETTINGS
@ANY_WEEK
def test_a_session_s_content_is_worked_out_as_its_blocks_give_it(
    person: Profile, state: State, week_offset: int, red_day: int | None
) -> None:
    # The layout works out each day's content for every aerobic activity in
    # turn; a day takes the one its ordinal comes round to, as its figures,
    # minutes and main block are what its built blocks give.
    _week, days, red_on = _a_week(person, week_offset, red_day)
    for draft in draft_week(person, state, days, red_on=red_on):
        content = draft.content
        assert content.figures == figures(content.built)
        assert content.minutes == sum(block.minutes for block in content.built)
        main = [b for b in content.built if b.type not in (BlockType.warm_up, BlockType.cool_down)]
        longest = max(main, key=lambda b: b.minutes) if main else None
        assert content.main is longest
        aerobic = [items for kind, items in draft.blocks if kind is BlockType.aerobic]
        if aerobic:
            older = _older(person, days[0].year)
            eased = state.ease or (red_on is not None and draft.day > red_on)
            setting = Setting(
                stage=state.stage,
                cap=level_cap(
                    stage=state.stage, fitness=person.fitness_level, older=older, eased=eased
                ),
                equipment=person.equipment,
                activities=person.aerobic_activities,
                session_minutes=person.session_minutes,
                older=older,
            )
            options = aerobic_options(setting)
            ((item,),) = aerobic
            assert item.exercise == options[draft.day.toordinal() % len(options)]
            assert item.intensity is aerobic_intensity(state.stage)


@PROPERTY_SETTINGS
@given(person=profiles(), weeks=st.integers(1, 8), seed=st.integers(0, 1000))
def test_a_plan_s_figures_are_its_sessions_summarized(
    person: Profile, weeks: int, seed: int
) -> None:
    pains = random.Random(seed)
    for plan in simulate(
        person, weeks, first=IsoWeek.of(START), pain=lambda w, s: pains.choice([None, 1, 7])
    ):
        figures_of_sessions = summarize(plan.sessions)
        assert (plan.balance, plan.aerobic_minutes, plan.strength_seconds) == figures_of_sessions


def test_equal_profiles_share_one_cache_key() -> None:
    first, second = profile(), profile()
    assert first is not second
    assert profile_key(first) is profile_key(second)
    assert profile_key(first) != profile_key(profile(session_minutes=41))


def _history(seed: int) -> tuple[Profile, list[SessionLog], IsoWeek]:
    person = profile(session_minutes=45, training_days=("mon", "wed", "fri", "sat"))
    pains = random.Random(seed)
    plans = simulate(person, 30, pain=lambda week, s: pains.choice([None, 1, 2, 4, 7]))
    history = [
        log(s, pain=pains.choice([None, 1, 3, 5]), pain_next_morning=pains.choice([None, 2, 6]))
        for p in plans
        for s in p.sessions
    ]
    return person, history, IsoWeek.parse(plans[-1].week).shift(1)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 1000))
def test_history_order_does_not_matter(seed: int) -> None:
    person, history, week = _history(seed)
    shuffled = list(history)
    random.Random(seed).shuffle(shuffled)
    for today in (week.monday(), week.monday() - timedelta(days=45)):
        plans = [
            plan_week(person_id=PERSON, profile=person, week=week, today=today, history=h)
            for h in (history, shuffled)
        ]
        assert plans[0] == plans[1]
        results = [
            progress(person_id=PERSON, profile=person, today=today, history=h)
            for h in (history, shuffled)
        ]
        assert results[0] == results[1]


def test_sessions_are_valid_and_named_after_their_longest_main_block() -> None:
    person = profile(aerobic_activities=("walking", "cycling"), equipment=("bike",))
    for plan in simulate(person, 12):
        for session in plan.sessions:
            assert PlannedSession.model_validate(session.model_dump()) == session
            main = max(
                (
                    b
                    for b in session.blocks
                    if b.type not in (BlockType.warm_up, BlockType.cool_down)
                ),
                key=lambda b: b.minutes,
            )
            assert session.healthkit_activity == main.exercises[0].healthkit_activity
            assert session.health_connect_exercise == main.exercises[0].health_connect_exercise


@given(pains=st.lists(st.integers(0, 10), min_size=1, max_size=30))
def test_mean_pain_is_statistics_mean(pains: list[int]) -> None:
    assert mean_pain(pains) == statistics.mean(pains)
    assert round(mean_pain(pains), 1) == round(statistics.mean(pains), 1)
