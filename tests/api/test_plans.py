from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session, select

from db.tables import PlannedSessionRow, StoredWeek
from tests.conftest import Api, Clock

# The clock's default: Wednesday 2026-11-18, in ISO week 2026-W47.
THIS_WEEK, NEXT_WEEK, LAST_WEEK = "2026-W47", "2026-W48", "2026-W46"


def plan(api: Api, user: dict[str, Any], week: str | None = None) -> dict[str, Any]:
    params = {} if week is None else {"week": week}
    response = api.get(f"/v1/users/{user['id']}/plan", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def stored_weeks(api: Api, user: dict[str, Any]) -> list[str]:
    engine: Engine = api.http.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        rows = session.exec(select(StoredWeek.week).where(StoredWeek.user_id == user["id"]))
        return sorted(rows.all())


def complete(api: Api, user: dict[str, Any], session: dict[str, Any], **fields: Any) -> None:
    body = {"completed_at": f"{session['date']}T08:00:00Z", "pain_during": 1, "effort": 3}
    response = api.put(
        f"/v1/users/{user['id']}/sessions/{session['id']}/completion", json={**body, **fields}
    )
    assert response.status_code in {200, 201}, response.text


def test_this_weeks_plan_is_stored_and_stable(api: Api) -> None:
    user = api.user()
    first = plan(api, user)
    assert first["week"] == THIS_WEEK
    assert first["status"] == "ready"
    assert first["preview"] is False
    assert first["stage"]["number"] == 1
    # The program starts today (Wednesday): Wednesday and Friday remain.
    assert [s["date"] for s in first["sessions"]] == ["2026-11-18", "2026-11-20"]
    assert stored_weeks(api, user) == [THIS_WEEK]
    assert plan(api, user) == first
    assert plan(api, user, THIS_WEEK) == first


def test_the_default_week_is_the_persons_current_week(api: Api, clock: Clock) -> None:
    clock.now = clock.now.replace(day=22, hour=23)  # Sunday night in UTC
    user = api.user(timezone="Asia/Tokyo", program_start="2026-11-16")
    assert plan(api, user)["week"] == NEXT_WEEK


def test_a_week_that_has_not_begun_is_a_preview(api: Api) -> None:
    user = api.user()
    preview = plan(api, user, NEXT_WEEK)
    assert preview["preview"] is True
    assert len(preview["sessions"]) == 3
    assert stored_weeks(api, user) == []
    session = preview["sessions"][0]
    response = api.put(
        f"/v1/users/{user['id']}/sessions/{session['id']}/completion",
        json={"completed_at": "2026-11-18T08:00:00Z", "pain_during": 1, "effort": 3},
    )
    assert response.status_code == 404


def test_a_past_week_is_stored_when_first_served(api: Api) -> None:
    user = api.user(program_start="2026-11-09")
    past = plan(api, user, LAST_WEEK)
    assert past["preview"] is False
    assert [s["date"] for s in past["sessions"]] == ["2026-11-09", "2026-11-11", "2026-11-13"]
    assert stored_weeks(api, user) == [LAST_WEEK]


def test_weeks_before_the_program_start_hold_no_sessions(api: Api) -> None:
    user = api.user(program_start="2026-11-16")
    before = plan(api, user, LAST_WEEK)
    assert before["status"] == "ready"
    assert before["sessions"] == []
    assert stored_weeks(api, user) == []


def test_a_stored_week_keeps_its_sessions_when_the_profile_changes(api: Api) -> None:
    user = api.user(program_start="2026-11-16")
    first = plan(api, user)
    api.patch(f"/v1/users/{user['id']}", json={"training_days": ["tue", "thu", "sat"]})
    again = plan(api, user)
    assert again["sessions"] == first["sessions"]
    # The next week follows the new days.
    upcoming = plan(api, user, NEXT_WEEK)
    assert [s["date"] for s in upcoming["sessions"]] == ["2026-11-24", "2026-11-26", "2026-11-28"]


def test_a_red_pain_signal_eases_the_rest_of_the_week_keeping_ids(api: Api) -> None:
    user = api.user(program_start="2026-11-16")
    first = plan(api, user)
    monday, wednesday, _friday = first["sessions"]
    assert not any(s["eased"] for s in first["sessions"])
    complete(api, user, monday, pain_during=7, effort=6)

    eased = plan(api, user)
    assert [s["id"] for s in eased["sessions"]] == [s["id"] for s in first["sessions"]]
    assert eased["sessions"][0] == monday  # completed: never changes
    assert eased["sessions"][1]["eased"]
    assert eased["sessions"][2]["eased"]
    assert eased["sessions"][1] != wednesday
    assert eased["aerobic_minutes"] <= first["aerobic_minutes"]
    assert plan(api, user) == eased


def test_a_completed_session_never_changes(api: Api) -> None:
    user = api.user(program_start="2026-11-16")
    first = plan(api, user)
    complete(api, user, first["sessions"][1])  # Wednesday, done today
    complete(api, user, first["sessions"][0], pain_during=8)  # red on Monday
    again = plan(api, user)
    assert again["sessions"][:2] == first["sessions"][:2]
    assert again["sessions"][2]["eased"] is True


def test_not_ready_plans_hold_guidance_and_no_sessions(api: Api, clock: Clock) -> None:
    user = api.user()
    onset = (clock.now.date() - timedelta(days=2)).isoformat()
    api.post(f"/v1/users/{user['id']}/episodes", json={"onset_date": onset, "pain_now": 6})
    recovering = plan(api, user)
    assert recovering["status"] == "recovering"
    assert recovering["guidance"]
    assert recovering["sessions"] == []
    assert stored_weeks(api, user) == []

    api.post(
        f"/v1/users/{user['id']}/episodes",
        json={"onset_date": onset, "pain_now": 6, "red_flags": ["bladder_bowel_change"]},
    )
    refer = plan(api, user)
    assert refer["status"] == "refer"
    assert refer["sessions"] == []
    assert any("urgent" in line.lower() for line in refer["guidance"])


def test_the_default_start_is_set_by_the_first_plan_once_ready(api: Api, clock: Clock) -> None:
    user = api.user()
    onset = (clock.now.date() - timedelta(days=40)).isoformat()
    api.post(
        f"/v1/users/{user['id']}/episodes",
        json={"onset_date": onset, "pain_now": 1, "red_flags": ["fever"]},
    )
    assert api.get(f"/v1/users/{user['id']}").json()["program_start"] is None
    assert plan(api, user)["status"] == "refer"
    # The clinician clears the person a week later.
    clock.now += timedelta(days=7)
    api.post(
        f"/v1/users/{user['id']}/episodes",
        json={"onset_date": onset, "pain_now": 1, "cleared_by_clinician": True},
    )
    ready = plan(api, user)
    assert ready["status"] == "ready"
    assert (
        api.get(f"/v1/users/{user['id']}").json()["program_start"] == clock.now.date().isoformat()
    )


@pytest.mark.parametrize("week", ["2026-W54", "2026-W00", "banana", "2026-w47", "26-W01"])
def test_an_invalid_week_is_422_naming_the_parameter(api: Api, week: str) -> None:
    user = api.user()
    response = api.get(f"/v1/users/{user['id']}/plan", params={"week": week})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["parameter"] for e in response.json()["errors"]] == ["week"]


@contextmanager
def count_queries(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_plan_and_progress_make_a_bounded_number_of_queries(api: Api) -> None:
    engine: Engine = api.http.app.state.engine  # type: ignore[attr-defined]
    counts: dict[int, tuple[int, int, int]] = {}
    for weeks in (2, 8):
        user = api.user(program_start=f"2026-{11 - weeks // 4:02d}-02")
        for back in range(weeks, 0, -1):
            for session in plan(api, user, f"2026-W{47 - back:02d}")["sessions"]:
                complete(api, user, session)
        monday = plan(api, user)["sessions"][0]
        weeks_back = len(stored_weeks(api, user))
        with count_queries(engine) as on_plan:
            plan(api, user)
        with count_queries(engine) as on_progress:
            api.get(f"/v1/users/{user['id']}/progress")
        with count_queries(engine) as on_completion:
            complete(api, user, monday)
        counts[weeks_back] = (len(on_plan), len(on_progress), len(on_completion))
    few, many = sorted(counts)
    assert many > few
    assert counts[few] == counts[many]


def test_stored_rows_hold_the_session_volume(api: Api) -> None:
    user = api.user(program_start="2026-11-16")
    served = plan(api, user)
    engine: Engine = api.http.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        rows = session.exec(
            select(PlannedSessionRow).where(PlannedSessionRow.user_id == user["id"])
        ).all()
    assert sorted(row.id for row in rows) == sorted(s["id"] for s in served["sessions"])
    assert sum(row.aerobic_minutes for row in rows) == served["aerobic_minutes"]
    assert sum(row.strength_seconds for row in rows) == served["strength_seconds"]
    assert all(row.week == THIS_WEEK for row in rows)
