"""Engine micro-benchmarks (pytest-benchmark): the planner's hot paths.

    .venv/bin/pytest bench/test_engine.py --benchmark-only

Not part of the test suite's assertions: timings are reported, never asserted.
The target (issue 7) is one week's plan for a person with a year of history in
under 1 ms.
"""

from __future__ import annotations

from typing import Any

import pytest

from programs import (
    IsoWeek,
    Plan,
    Progress,
    SessionLog,
    StageProgress,
    plan_week,
    plan_with_stage,
    progress,
)
from tests.programs.simulate import PERSON, log, profile, simulate

PERSON_PROFILE = profile(
    session_minutes=45, training_days=("mon", "wed", "fri", "sat"), equipment=("band",)
)


@pytest.fixture(scope="module")
def year_of_history() -> tuple[tuple[SessionLog, ...], IsoWeek]:
    plans = simulate(PERSON_PROFILE, 52, pain=lambda week, s: 2 if week % 9 else 5)
    history = tuple(log(s, pain=2) for p in plans for s in p.sessions)
    return history, IsoWeek.parse(plans[-1].week).shift(1)


def test_plan_week_with_a_year_of_history(
    benchmark: Any, year_of_history: tuple[tuple[SessionLog, ...], IsoWeek]
) -> None:
    history, week = year_of_history
    plan: Plan = benchmark(
        plan_week,
        person_id=PERSON,
        profile=PERSON_PROFILE,
        week=week,
        today=week.monday(),
        history=history,
    )
    assert plan.sessions


def test_plan_with_stage_with_a_year_of_history(
    benchmark: Any, year_of_history: tuple[tuple[SessionLog, ...], IsoWeek]
) -> None:
    # What serving a week asks of the engine: its plan and the stage to record.
    history, week = year_of_history
    plan, stage = benchmark(
        plan_with_stage,
        person_id=PERSON,
        profile=PERSON_PROFILE,
        week=week,
        today=week.monday(),
        history=history,
    )
    assert isinstance(plan, Plan)
    assert plan.sessions
    assert isinstance(stage, StageProgress)


def test_progress_with_a_year_of_history(
    benchmark: Any, year_of_history: tuple[tuple[SessionLog, ...], IsoWeek]
) -> None:
    history, week = year_of_history
    result: Progress = benchmark(
        progress, person_id=PERSON, profile=PERSON_PROFILE, today=week.monday(), history=history
    )
    assert len(result.weeks) >= 52


def test_plan_week_first_week(benchmark: Any) -> None:
    week = IsoWeek.parse("2026-W02")
    plan: Plan = benchmark(
        plan_week, person_id=PERSON, profile=PERSON_PROFILE, week=week, today=week.monday()
    )
    assert plan.sessions
