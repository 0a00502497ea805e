from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from db.tables import StageChange
from tests.conftest import Api


def progress(api: Api, user: dict[str, Any]) -> dict[str, Any]:
    response = api.get(f"/v1/users/{user['id']}/progress")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def stage_rows(api: Api, user: dict[str, Any]) -> list[tuple[int, str]]:
    engine: Engine = api.http.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        rows = session.exec(
            select(StageChange)
            .where(StageChange.user_id == user["id"])
            .order_by(col(StageChange.recorded_at), col(StageChange.since))
        ).all()
        return [(row.stage, row.since.isoformat()) for row in rows]


def test_progress_of_a_new_person(api: Api) -> None:
    user = api.user()
    body = progress(api, user)
    assert body["status"] == "ready"
    assert body["stage"] == {
        "number": 1,
        "name": body["stage"]["name"],
        "since": "2026-11-18",
        "weeks_in_stage": 0,
    }
    assert body["streak_sessions"] == 0
    assert body["next_stage"]["number"] == 2
    assert body["next_stage"]["missing"]
    assert stage_rows(api, user) == [(1, "2026-11-18")]


def test_progress_counts_what_was_done(api: Api) -> None:
    user = api.user(program_start="2026-11-09")
    week = api.get(f"/v1/users/{user['id']}/plan", params={"week": "2026-W46"}).json()
    for session, pain in zip(week["sessions"][:2], (2, 4), strict=True):
        api.put(
            f"/v1/users/{user['id']}/sessions/{session['id']}/completion",
            json={"completed_at": f"{session['date']}T18:00:00Z", "pain_during": pain, "effort": 3},
        )
    body = progress(api, user)
    last = next(w for w in body["weeks"] if w["week"] == "2026-W46")
    assert last["planned"] == 3
    assert last["done"] == 2
    assert last["adherence"] == round(2 / 3, 3)
    assert last["mean_pain"] == 3.0
    assert last["aerobic_minutes_done"] >= 0
    assert {"streak_weeks", "streak_sessions", "next_stage"} <= set(body)


def test_a_stage_change_is_recorded_once(api: Api) -> None:
    user = api.user()
    progress(api, user)
    progress(api, user)
    api.get(f"/v1/users/{user['id']}/plan")
    assert len(stage_rows(api, user)) == 1


def test_progress_of_a_referred_person_has_no_stage(api: Api) -> None:
    user = api.user()
    api.post(
        f"/v1/users/{user['id']}/episodes",
        json={"onset_date": "2026-11-01", "pain_now": 2, "red_flags": ["major_trauma"]},
    )
    body = progress(api, user)
    assert body["status"] == "refer"
    assert body["stage"] is None
    assert stage_rows(api, user) == []
