"""The weekly planner: schedule, mix, balance, dosage, progression, safety."""

from __future__ import annotations

import itertools
import subprocess
import sys
from datetime import date, timedelta
from typing import Any

import pytest

from programs import (
    BlockType,
    Episode,
    Equipment,
    IsoWeek,
    PainSignal,
    Plan,
    Profile,
    ReadinessStatus,
    RedFlag,
    Weekday,
    first_ready_day,
    get_exercise,
    plan_week,
    summarize,
)
from programs import constants as c
from programs.sessions import resolve
from programs.stages import STAGE_NAMES
from tests.programs.invariants import check_week
from tests.programs.simulate import PERSON, log, profile, simulate

MONDAY = date(2026, 1, 5)
WEEK = IsoWeek.of(MONDAY)


def plan(
    person: Profile | None = None,
    week: IsoWeek = WEEK,
    today: date | None = None,
    **kwargs: Any,
) -> Plan:
    return plan_week(
        person_id=PERSON,
        profile=person or profile(),
        week=week,
        today=today or week.monday(),
        **kwargs,
    )


def test_importing_programs_loads_no_web_or_database_code() -> None:
    code = (
        "import sys, programs\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "{'api', 'db', 'fastapi', 'sqlmodel', 'sqlalchemy', 'starlette'}]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_public_api_is_explicit() -> None:
    import programs

    assert sorted(programs.__all__) == sorted(set(programs.__all__))
    for name in programs.__all__:
        assert hasattr(programs, name)


def test_first_week_keeps_every_invariant() -> None:
    result = plan()
    assert result.status is ReadinessStatus.ready
    assert result.stage is not None
    assert result.stage.number == 1
    assert [s.date.weekday() for s in result.sessions] == [0, 2, 4]
    assert result.adjustment is not None
    assert result.adjustment.action == "start"
    check_week(result, profile())


def test_sessions_fit_even_the_shortest_sessions() -> None:
    short = profile(session_minutes=15, training_days=("mon", "thu"))
    for stage in (1, 2, 3, 4):
        result = plan(short, stage=stage)
        check_week(result, short)
        assert all(s.minutes <= 15 for s in result.sessions)


def test_every_session_opens_with_warm_up_then_stretching() -> None:
    for session in plan().sessions:
        assert session.blocks[0].type is BlockType.warm_up
        assert session.blocks[1].type is BlockType.stretching


def test_no_session_before_program_start() -> None:
    person = profile(program_start=MONDAY + timedelta(days=3))
    result = plan(person)
    assert [s.date for s in result.sessions] == [MONDAY + timedelta(days=4)]
    before = plan(person, week=WEEK.shift(-1))
    assert before.sessions == ()
    assert any("starts on" in note for note in before.notes)


def test_from_stage_two_strength_falls_on_non_consecutive_days() -> None:
    person = profile(training_days=("mon", "tue", "wed", "thu", "fri", "sat"))
    result = plan(person, stage=2)
    strong = [
        s.date for s in result.sessions if any(b.type is BlockType.strengthening for b in s.blocks)
    ]
    assert len(strong) == 3
    assert all((b - a).days >= 2 for a, b in itertools.pairwise(strong))
    check_week(result, person)


def test_stage_one_mixes_all_three_kinds_of_work_every_session() -> None:
    for session in plan().sessions:
        kinds = {b.type for b in session.blocks}
        assert {BlockType.stretching, BlockType.strengthening, BlockType.aerobic} <= kinds


def test_balance_reports_totals_and_ratio() -> None:
    result = plan(stage=3, person=profile(equipment=("band", "dumbbells")))
    assert result.balance is not None
    b = result.balance
    assert b.ratio == round(b.back_extensor_seconds / b.abdominal_seconds, 3)
    assert abs(b.ratio - 1) <= c.BALANCE_TOLERANCE


def test_older_adults_get_longer_stretch_holds_and_easiest_variants() -> None:
    older = profile(birth_year=1950)
    younger = profile(birth_year=1990)
    holds_old = {
        e.hold_seconds
        for s in plan(older).sessions
        for b in s.blocks
        if b.type is BlockType.stretching
        for e in b.exercises
        if e.hold_seconds
    }
    holds_young = {
        e.hold_seconds
        for s in plan(younger).sessions
        for b in s.blocks
        if b.type is BlockType.stretching
        for e in b.exercises
        if e.hold_seconds
    }
    assert min(holds_old) >= 30
    assert max(holds_young) <= 30
    slugs = {e.slug for s in plan(older, stage=2).sessions for b in s.blocks for e in b.exercises}
    assert "side-plank-knees" in slugs
    assert "side-plank" not in slugs
    check_week(plan(older), older, older=True)


def test_equipment_decides_variants() -> None:
    assert resolve(("dumbbell-romanian-deadlift",), cap=4, equipment=(), taken=()) == get_exercise(
        "hip-hinge"
    )
    assert resolve(("goblet-squat",), cap=4, equipment=(Equipment.dumbbells,), taken=()) == (
        get_exercise("goblet-squat")
    )
    assert resolve(("pallof-press",), cap=4, equipment=(), taken=("side-plank-knees",)) is None
    assert resolve(("pallof-press",), cap=4, equipment=(Equipment.band,), taken=()) == (
        get_exercise("pallof-press")
    )
    roomy = {"session_minutes": 90}
    none = {
        e.slug
        for s in plan(profile(**roomy), stage=4).sessions
        for b in s.blocks
        for e in b.exercises
    }
    kit = profile(equipment=("band", "dumbbells"), **roomy)
    loaded = {e.slug for s in plan(kit, stage=4).sessions for b in s.blocks for e in b.exercises}
    assert not {"pallof-press", "dumbbell-romanian-deadlift", "goblet-squat"} & none
    assert {"dumbbell-romanian-deadlift"} <= loaded


def test_preferred_aerobic_activities_take_turns_when_possible() -> None:
    person = profile(equipment=("bike",), aerobic_activities=("cycling", "swimming"))
    activities = {
        e.slug
        for s in plan(person, stage=2).sessions
        for b in s.blocks
        if b.type is BlockType.aerobic
        for e in b.exercises
    }
    assert activities == {"cycling"}  # no pool: swimming is not offered


def test_same_inputs_give_the_same_plan_and_stable_ids() -> None:
    assert plan() == plan()
    first = {s.date: s.id for s in plan().sessions}
    later = {s.date: s.id for s in plan(today=MONDAY + timedelta(days=4)).sessions}
    assert first == later
    other = plan_week(person_id="someone-else", profile=profile(), week=WEEK, today=MONDAY)
    assert not set(first.values()) & {s.id for s in other.sessions}


def test_every_week_carries_an_education_tip_and_safety_notes() -> None:
    plans = simulate(profile(), 12)
    assert all(p.education is not None for p in plans)
    assert len({p.education.topic for p in plans if p.education}) > 5
    assert all(any("pain" in line for line in p.safety) for p in plans)


def test_24_weeks_at_low_pain_walk_through_the_stages_in_order() -> None:
    plans = simulate(profile(), 24)
    stages = [p.stage.number for p in plans if p.stage]
    assert stages == [1] * 2 + [2] * 4 + [3] * 6 + [4] * 12
    assert [p.stage.name for p in plans[:1] if p.stage] == [STAGE_NAMES[1]]
    for p in plans:
        check_week(p, profile())


def test_volume_grows_about_ten_percent_and_never_more_than_thirty() -> None:
    plans = simulate(profile(session_minutes=90, training_days=("mon", "wed", "fri", "sat")), 24)
    for before, after in itertools.pairwise(plans):
        assert after.aerobic_minutes <= before.aerobic_minutes * (1 + c.MAX_WEEKLY_INCREASE)
        assert after.strength_seconds <= before.strength_seconds * (1 + c.MAX_WEEKLY_INCREASE)
    assert plans[-1].aerobic_minutes > plans[0].aerobic_minutes
    assert plans[-1].strength_seconds > plans[0].strength_seconds


def test_stage_four_reaches_150_aerobic_minutes_when_time_allows() -> None:
    roomy = profile(session_minutes=60, training_days=("mon", "tue", "thu", "sat"))
    plans = simulate(roomy, 30)
    assert plans[-1].stage is not None
    assert plans[-1].stage.number == 4
    assert plans[-1].aerobic_minutes >= c.AEROBIC_GOAL_MINUTES


def test_stage_four_says_so_when_time_is_short_and_suggests_walking() -> None:
    tight = profile(session_minutes=20, training_days=("mon", "thu"))
    result = plan(tight, stage=4)
    assert result.aerobic_minutes < c.AEROBIC_GOAL_MINUTES
    assert any("walking" in note for note in result.notes)


def test_pain_above_five_regresses_volume_and_variants() -> None:
    person = profile()
    calm = simulate(person, 4)
    sore = simulate(person, 4, pain=lambda week, s: 7 if week == 2 else 1)
    assert sore[3].adjustment is not None
    assert sore[3].adjustment.action == "regress"
    assert sore[3].adjustment.signal is PainSignal.red
    assert sore[3].strength_seconds < calm[3].strength_seconds
    assert sore[3].aerobic_minutes < calm[3].aerobic_minutes
    assert sore[3].strength_seconds <= sore[2].strength_seconds


def test_pain_four_to_five_holds_volume() -> None:
    sore = simulate(profile(), 4, pain=lambda week, s: 5 if week == 1 else 1)
    assert sore[2].adjustment is not None
    assert sore[2].adjustment.action == "hold"
    assert sore[2].adjustment.signal is PainSignal.amber
    assert sore[2].aerobic_minutes == sore[1].aerobic_minutes
    assert sore[2].strength_seconds <= sore[1].strength_seconds * 1.05


def test_worse_next_morning_counts_as_red() -> None:
    person = profile()
    first = plan(person)
    history = [log(s, pain=2, pain_before=1, pain_next_morning=3) for s in first.sessions]
    after = plan(person, week=WEEK.shift(1), history=history)
    assert after.adjustment is not None
    assert after.adjustment.action == "regress"


def test_high_pain_never_advances_a_stage() -> None:
    plans = simulate(profile(), 10, pain=lambda week, s: 6)
    assert {p.stage.number for p in plans if p.stage} == {1}


def test_low_adherence_does_not_advance() -> None:
    # One session of three done each week: adherence 33% < 75%.
    plans = simulate(profile(), 8, pain=lambda week, s: 1 if s.date.weekday() == 0 else None)
    assert {p.stage.number for p in plans if p.stage} == {1}


def test_red_signal_eases_the_rest_of_the_current_week_keeping_ids() -> None:
    person = profile()
    first = plan(person)
    monday, *rest = first.sessions
    history = [log(monday, pain=7)] + [log(s, pain=None) for s in rest]
    later = plan(person, today=MONDAY + timedelta(days=1), history=history)
    assert [s.id for s in later.sessions] == [s.id for s in first.sessions]
    assert [s.eased for s in later.sessions] == [False, True, True]
    assert later.sessions[1].minutes <= first.sessions[1].minutes
    assert any("eased" in note for note in later.notes)
    check_week(later, person)


def test_red_flag_never_yields_a_single_exercise() -> None:
    person = profile()
    flagged = (
        Episode(onset_date=MONDAY - timedelta(days=60), pain_now=1, red_flags=(RedFlag.fever,)),
    )
    for week in range(8):
        result = plan(person, week=WEEK.shift(week), episodes=flagged, stage=None)
        assert result.status is ReadinessStatus.refer
        assert result.sessions == ()
        assert result.stage is None
        assert result.balance is None
    assert plan(person, episodes=flagged, stage=3).sessions == ()


def test_acute_phase_gives_guidance_and_no_sessions() -> None:
    person = profile(program_start=None)
    episode = (Episode(onset_date=MONDAY - timedelta(days=3), pain_now=6),)
    result = plan(person, episodes=episode)
    assert result.status is ReadinessStatus.recovering
    assert result.sessions == ()
    assert result.earliest_start == MONDAY + timedelta(days=11)
    assert any("walk" in line for line in result.guidance)


def test_default_start_is_the_first_ready_day() -> None:
    episode = (Episode(onset_date=MONDAY - timedelta(days=3), pain_now=1),)
    assert first_ready_day(episodes=episode, today=MONDAY) == MONDAY + timedelta(days=11)
    assert first_ready_day(episodes=(), today=MONDAY) == MONDAY
    flagged = (Episode(onset_date=MONDAY, pain_now=1, red_flags=(RedFlag.fever,)),)
    assert first_ready_day(episodes=flagged, today=MONDAY) is None


def test_readiness_date_inside_the_week_starts_sessions_that_day() -> None:
    person = profile(program_start=None, training_days=("mon", "wed", "fri", "sat"))
    # Onset 11 days before Monday: ready on Thursday.
    episode = (Episode(onset_date=MONDAY - timedelta(days=11), pain_now=1),)
    result = plan(person, episodes=episode)
    assert result.status is ReadinessStatus.ready
    assert [s.date for s in result.sessions] == [
        MONDAY + timedelta(days=4),
        MONDAY + timedelta(days=5),
    ]


def test_new_episode_pauses_then_restarts_one_stage_back() -> None:
    person = profile()
    plans = simulate(person, 8)
    assert plans[-1].stage is not None
    assert plans[-1].stage.number == 3
    onset = WEEK.shift(8).monday() + timedelta(days=1)
    spasm = (Episode(onset_date=onset, pain_now=6, resolved_on=onset + timedelta(days=10)),)
    history = []
    for p in plans:
        history += [log(s) for s in p.sessions]
    during = plan(
        person, week=WEEK.shift(9), history=history, episodes=spasm, today=onset + timedelta(days=8)
    )
    assert during.status is ReadinessStatus.recovering
    assert during.sessions == ()
    resumed = WEEK.shift(10)
    after = plan(person, week=resumed, history=history, episodes=spasm, today=resumed.monday())
    assert after.status is ReadinessStatus.ready
    assert after.stage is not None
    assert after.stage.number == 2
    assert after.adjustment is not None
    assert after.adjustment.action == "restart"
    assert all(s.date >= onset + timedelta(days=c.MIN_DAYS_AFTER_ONSET) for s in after.sessions)
    check_week(after, person)


def test_current_week_after_a_new_spasm_shows_no_sessions() -> None:
    person = profile()
    onset = MONDAY + timedelta(days=2)
    spasm = (Episode(onset_date=onset, pain_now=6),)
    result = plan(person, today=onset + timedelta(days=1), episodes=spasm)
    assert result.status is ReadinessStatus.recovering
    assert result.sessions == ()


def test_stage_option_previews_each_stage() -> None:
    kit = profile(equipment=("band", "dumbbells"))
    for stage in (1, 2, 3, 4):
        result = plan(kit, stage=stage)
        assert result.stage is not None
        assert result.stage.number == stage
        assert result.adjustment is not None
        assert result.adjustment.action == "preview"
        check_week(result, kit)


@pytest.mark.parametrize("days", [("mon", "tue"), ("sat", "sun"), ("mon", "mon", "wed")])
def test_profiles_need_two_days_with_a_rest_between(days: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="training_days"):
        profile(training_days=days)


def test_training_days_are_sorted_for_stable_output() -> None:
    assert profile(training_days=("fri", "mon")).training_days == (Weekday.mon, Weekday.fri)


def test_sessions_and_exercises_carry_health_platform_labels() -> None:
    for session in plan(stage=2).sessions:
        assert session.healthkit_activity in {
            "walking",
            "cycling",
            "swimming",
            "flexibility",
            "coreTraining",
            "functionalStrengthTraining",
            "traditionalStrengthTraining",
            "elliptical",
            "waterFitness",
        }
        assert session.health_connect_exercise is not None
        assert session.health_connect_exercise.startswith("EXERCISE_TYPE_")
        for block in session.blocks:
            for exercise in block.exercises:
                assert exercise.healthkit_activity
                assert exercise.health_connect_exercise


def test_weeks_before_a_standing_referral_show_the_referral() -> None:
    person = profile(program_start=None)
    flagged = (
        Episode(onset_date=MONDAY + timedelta(days=20), pain_now=1, red_flags=(RedFlag.fever,)),
    )
    today = MONDAY + timedelta(days=21)
    past = plan(person, week=WEEK, today=today, episodes=flagged)
    assert past.status is ReadinessStatus.refer
    assert past.sessions == ()


def test_summarize_matches_the_plan_totals() -> None:
    result = plan(stage=3, person=profile(equipment=("band",)))
    assert summarize(result.sessions) == (
        result.balance,
        result.aerobic_minutes,
        result.strength_seconds,
    )
    assert summarize(()) == (None, 0, 0)


def test_short_sessions_say_how_many_aerobic_minutes_to_add_elsewhere() -> None:
    tight = profile(session_minutes=15, training_days=("mon", "thu"))
    result = plan(tight, stage=2)
    assert result.aerobic_minutes < 60
    assert any(f"{60 - result.aerobic_minutes} minutes of walking" in n for n in result.notes)
