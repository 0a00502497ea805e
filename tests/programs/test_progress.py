"""Progress: stage, weekly adherence and pain, streaks, next-stage needs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from programs import (
    Episode,
    IsoWeek,
    PainSignal,
    PlannedSession,
    ReadinessStatus,
    RedFlag,
    SessionLog,
    progress,
)
from tests.programs.simulate import PERSON, log, profile, simulate

START = date(2026, 1, 5)


def history_of(
    weeks: int, pain: Callable[[int, PlannedSession], int | None] = lambda week, s: 1
) -> list[SessionLog]:
    plans = simulate(profile(), weeks, pain=pain)
    return [log(s, pain=pain(n, s)) for n, p in enumerate(plans) for s in p.sessions]


def test_progress_reports_stage_weeks_and_streaks() -> None:
    history = history_of(3)
    today = IsoWeek.of(START).shift(3).monday()
    result = progress(person_id=PERSON, profile=profile(), today=today, history=history)
    assert result.status is ReadinessStatus.ready
    assert result.stage is not None
    assert (result.stage.number, result.stage.name) == (2, "build endurance")
    assert result.stage.since == IsoWeek.of(START).shift(2).monday()
    assert result.stage.weeks_in_stage == 1
    assert [w.week for w in result.weeks] == ["2026-W02", "2026-W03", "2026-W04", "2026-W05"]
    assert [w.done for w in result.weeks[:3]] == [3, 3, 3]
    assert result.weeks[0].adherence == 1.0
    assert result.weeks[0].mean_pain == 1.0
    assert result.weeks[0].aerobic_minutes_done > 0
    assert result.weeks[0].signal is PainSignal.green
    assert result.streak_weeks == 3
    assert result.streak_sessions == 9
    assert result.next_stage is not None
    assert result.next_stage.number == 3
    assert result.next_stage.weeks_remaining == 3
    assert any("3 more weeks" in m for m in result.next_stage.missing)
    assert result.next_stage.adherence_recent == 1.0


def test_missed_sessions_break_the_streaks_and_block_the_next_stage() -> None:
    history = history_of(2, pain=lambda week, s: None if week == 1 else 1)
    today = IsoWeek.of(START).shift(2).monday()
    result = progress(person_id=PERSON, profile=profile(), today=today, history=history)
    assert result.stage is not None
    assert result.stage.number == 1
    assert result.streak_weeks == 0
    assert result.streak_sessions == 0
    assert result.next_stage is not None
    assert result.next_stage.adherence_recent == 0.0  # last week: 0 of 3; this week: none due yet
    assert any("75%" in m for m in result.next_stage.missing)


def test_high_pain_shows_in_the_week_and_the_next_stage() -> None:
    history = history_of(1, pain=lambda week, s: 7)
    today = START + timedelta(days=6)
    result = progress(person_id=PERSON, profile=profile(), today=today, history=history)
    assert result.weeks[0].mean_pain == 7.0
    assert result.weeks[0].signal is PainSignal.red
    assert result.next_stage is not None
    assert not result.next_stage.pain_ok


def test_today_not_done_yet_does_not_break_the_session_streak() -> None:
    plans = simulate(profile(), 1)
    monday, wednesday, friday = plans[0].sessions
    history = [log(monday), log(wednesday), log(friday, pain=None)]
    result = progress(person_id=PERSON, profile=profile(), today=friday.date, history=history)
    assert result.streak_sessions == 2


def test_no_program_yet_while_referred() -> None:
    flagged = (Episode(onset_date=START, pain_now=2, red_flags=(RedFlag.fever,)),)
    result = progress(
        person_id=PERSON, profile=profile(program_start=None), today=START, episodes=flagged
    )
    assert result.status is ReadinessStatus.refer
    assert result.stage is None
    assert result.weeks == ()
    assert result.next_stage is None


def test_maintenance_has_no_next_stage() -> None:
    history = history_of(13)
    today = IsoWeek.of(START).shift(13).monday()
    result = progress(person_id=PERSON, profile=profile(), today=today, history=history)
    assert result.stage is not None
    assert result.stage.number == 4
    assert result.next_stage is None
