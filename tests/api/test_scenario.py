"""Four people over months of use, through the HTTP API only.

The clock stays on Wednesday 2026-11-18 (ISO week 2026-W47): past weeks are
fetched with `?week=` and their sessions reported done on their own dates.
"""

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from db.tables import StageChange, StoredWeek
from programs import IsoWeek
from tests.conftest import NOW, Api, Clock

TODAY = NOW.date()
THIS_WEEK = IsoWeek.of(TODAY)


def weeks_from(start: date, *, until: IsoWeek = THIS_WEEK) -> list[IsoWeek]:
    week, weeks = IsoWeek.of(start), []
    while week <= until:
        weeks.append(week)
        week = week.shift(1)
    return weeks


def plan(api: Api, user: dict[str, Any], week: IsoWeek) -> dict[str, Any]:
    response = api.get(f"/v1/users/{user['id']}/plan", params={"week": str(week)})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def do_week(api: Api, user: dict[str, Any], week: IsoWeek, *, pain: int) -> dict[str, Any]:
    """Fetch the week's plan and report each session up to today done."""
    served = plan(api, user, week)
    for session in served["sessions"]:
        if date.fromisoformat(session["date"]) > TODAY:
            continue
        response = api.put(
            f"/v1/users/{user['id']}/sessions/{session['id']}/completion",
            json={
                "completed_at": f"{session['date']}T07:30:00Z",
                "pain_before": 1,
                "pain_during": pain,
                "pain_next_morning": 1,
                "effort": 4,
            },
        )
        assert response.status_code == 201, response.text
    return served


def progress(api: Api, user: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = api.get(f"/v1/users/{user['id']}/progress").json()
    return body


def engine_of(api: Api) -> Engine:
    engine: Engine = api.http.app.state.engine  # type: ignore[attr-defined]
    return engine


def test_someone_moved_over_who_does_everything_at_low_pain_advances(api: Api) -> None:
    start = THIS_WEEK.shift(-20).monday()
    user = api.user(external_id="moved-over", program_start=start.isoformat())
    stages = [do_week(api, user, week, pain=1)["stage"]["number"] for week in weeks_from(start)]

    assert stages[0] == 1
    assert stages == sorted(stages), "stages never go back without a new episode"
    assert stages[-1] == 4
    body = progress(api, user)
    assert body["stage"]["number"] == 4
    assert body["next_stage"] is None
    assert body["streak_weeks"] >= 12
    assert all(w["adherence"] == 1.0 for w in body["weeks"][:-1])
    with Session(engine_of(api)) as session:
        recorded = session.exec(
            select(StageChange.stage)
            .where(StageChange.user_id == user["id"])
            .order_by(col(StageChange.recorded_at), col(StageChange.since))
        ).all()
    assert recorded == sorted(set(recorded))
    assert recorded[-1] == 4


def test_someone_with_high_pain_does_not_advance(api: Api) -> None:
    start = THIS_WEEK.shift(-12).monday()
    user = api.user(external_id="in-pain", program_start=start.isoformat())
    served = [do_week(api, user, week, pain=7) for week in weeks_from(start)]

    assert {week["stage"]["number"] for week in served} == {1}
    assert all(week["sessions"] for week in served)
    body = progress(api, user)
    assert body["stage"]["number"] == 1
    assert body["next_stage"]["pain_ok"] is False


def test_someone_with_a_red_flag_never_gets_a_session(api: Api, clock: Clock) -> None:
    user = api.user(external_id="red-flag")
    onset = (TODAY - timedelta(days=10)).isoformat()
    response = api.post(
        f"/v1/users/{user['id']}/episodes",
        json={"onset_date": onset, "pain_now": 3, "red_flags": ["unexplained_weight_loss"]},
    )
    assert response.status_code == 201
    for week in [THIS_WEEK.shift(n) for n in range(-3, 6)]:
        served = plan(api, user, week)
        assert served["sessions"] == []
        if week >= THIS_WEEK:
            assert served["status"] == "refer"
            assert served["guidance"]
    clock.now += timedelta(weeks=6)
    assert plan(api, user, IsoWeek.of(clock.now.date()))["sessions"] == []
    assert api.get(f"/v1/users/{user['id']}/readiness").json()["status"] == "refer"
    assert progress(api, user)["stage"] is None
    with Session(engine_of(api)) as session:
        stored = session.exec(select(StoredWeek).where(StoredWeek.user_id == user["id"])).all()
    assert stored == []


def test_a_new_episode_pauses_the_plan(api: Api, clock: Clock) -> None:
    start = THIS_WEEK.shift(-6).monday()
    user = api.user(external_id="new-episode", program_start=start.isoformat())
    for week in weeks_from(start, until=THIS_WEEK.shift(-1)):
        do_week(api, user, week, pain=1)
    before = plan(api, user, THIS_WEEK)
    assert before["status"] == "ready"
    assert before["sessions"]
    stage_before = before["stage"]["number"]
    assert stage_before >= 2

    # A new spasm today.
    episode = api.post(
        f"/v1/users/{user['id']}/episodes",
        json={"onset_date": TODAY.isoformat(), "pain_now": 6},
    ).json()
    paused = plan(api, user, THIS_WEEK)
    assert paused["status"] == "recovering"
    assert paused["sessions"] == []
    assert paused["guidance"]
    assert plan(api, user, THIS_WEEK.shift(1))["sessions"] == []
    assert api.get(f"/v1/users/{user['id']}/readiness").json()["status"] == "recovering"
    assert progress(api, user)["status"] == "recovering"

    # Three weeks on the pain has settled: the program restarts one stage back.
    clock.now += timedelta(weeks=3)
    api.patch(
        f"/v1/users/{user['id']}/episodes/{episode['id']}",
        json={"pain_now": 1, "resolved_on": (TODAY + timedelta(days=14)).isoformat()},
    )
    resumed = plan(api, user, IsoWeek.of(clock.now.date()))
    assert resumed["status"] == "ready"
    assert resumed["sessions"]
    assert resumed["stage"]["number"] == max(1, stage_before - 1)
