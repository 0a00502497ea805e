"""`api.planning.public_plan` serves a plan byte for byte as dumping it and
validating it again as a `PlanPublic` did."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

import programs
from api.planning import public_plan
from api.schemas import PlanPublic
from programs import (
    Completion,
    Episode,
    IsoWeek,
    Plan,
    PlannedSession,
    Profile,
    ReadinessStatus,
    RedFlag,
    SessionLog,
)

TODAY = date(2026, 11, 18)  # a Wednesday in 2026-W47
START = date(2026, 9, 7)
PROFILE = Profile.model_validate(
    {
        "training_days": ["mon", "wed", "fri", "sat"],
        "session_minutes": 45,
        "fitness_level": "moderate",
        "equipment": ["mat", "band", "dumbbells"],
        "aerobic_activities": ["walking", "cycling"],
        "program_start": START,
    }
)


def old_way(plan: Plan, *, preview: bool) -> PlanPublic:
    return PlanPublic.model_validate({**plan.model_dump(), "preview": preview})


def served(model: PlanPublic) -> bytes:
    return model.__pydantic_serializer__.to_json(model)


def history_until(week: IsoWeek, *, pain: int) -> list[SessionLog]:
    """Every week from the start to before `week` planned and done at `pain`."""
    history: list[SessionLog] = []
    current = IsoWeek.of(START)
    while current != week:
        plan = programs.plan_week(
            person_id="p", profile=PROFILE, week=current, today=current.monday(), history=history
        )
        for planned in plan.sessions:
            aerobic, strength = programs.session_volume(planned)
            done = datetime.combine(planned.date, time(18), UTC)
            history.append(
                SessionLog(
                    session_id=planned.id,
                    date=planned.date,
                    aerobic_minutes=aerobic,
                    strength_seconds=strength,
                    completion=Completion(completed_at=done, pain_during=pain, effort=5),
                )
            )
        current = current.shift(1)
    return history


def as_stored(plan: Plan) -> Plan:
    """The plan with its sessions read back from stored JSON, as `_keep_stored` serves it."""
    sessions = [
        PlannedSession.model_validate_json(planned.model_dump_json()) for planned in plan.sessions
    ]
    balance, aerobic, strength = programs.summarize(sessions)
    update = {
        "sessions": tuple(sessions),
        "balance": balance,
        "aerobic_minutes": aerobic,
        "strength_seconds": strength,
    }
    return plan.model_copy(update=update)


def plans() -> list[tuple[str, Plan, bool]]:
    this_week = IsoWeek.of(TODAY)
    calm = history_until(this_week, pain=1)
    sore = history_until(this_week, pain=7)
    referral = [Episode(onset_date=TODAY, pain_now=6, red_flags=(RedFlag.fever,))]
    recovering = [Episode(onset_date=TODAY - timedelta(days=1), pain_now=8)]

    def plan(week: IsoWeek, history: list[SessionLog], **kwargs: object) -> Plan:
        return programs.plan_week(
            person_id="p",
            profile=PROFILE,
            week=week,
            today=TODAY,
            history=history,
            **kwargs,  # type: ignore[arg-type]
        )

    current = plan(this_week, calm)
    # This week stored, Monday's session done at red pain: the rest is eased.
    red = [
        SessionLog(
            session_id=planned.id,
            date=planned.date,
            completion=Completion(
                completed_at=datetime.combine(planned.date, time(18), UTC),
                pain_during=8,
                effort=6,
            )
            if planned.date.weekday() == 0
            else None,
        )
        for planned in current.sessions
    ]
    eased = plan(this_week, calm + red)
    return [
        ("this week", current, False),
        ("this week as stored", as_stored(current), False),
        ("after a painful week", plan(this_week, sore), False),
        ("eased", eased, False),
        ("eased as stored", as_stored(eased), False),
        ("a first week", plan(this_week, []), False),
        ("preview", plan(this_week.shift(3), calm), True),
        ("preview of a stage", plan(this_week.shift(8), calm, stage=3), True),
        ("referred", plan(this_week, calm, episodes=referral), False),
        ("recovering", plan(this_week, calm, episodes=recovering), False),
        ("past week", plan(this_week.shift(-2), calm[:-8]), False),
    ]


@pytest.mark.parametrize(
    ("plan", "preview"), [pytest.param(plan, preview, id=name) for name, plan, preview in plans()]
)
def test_a_plan_is_served_as_before(plan: Plan, preview: bool) -> None:
    before = old_way(plan, preview=preview)
    after = public_plan(plan, preview=preview)
    assert served(after) == served(before)
    assert after == before
    assert after.model_dump_json() == before.model_dump_json()


def test_the_cases_cover_ready_and_not_ready_plans() -> None:
    statuses = {plan.status for _, plan, _ in plans()}
    assert statuses == {ReadinessStatus.ready, ReadinessStatus.refer, ReadinessStatus.recovering}
    assert any(planned.eased for _, plan, _ in plans() for planned in plan.sessions)
