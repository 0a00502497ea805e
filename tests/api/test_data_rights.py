from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine, Table, func, select
from sqlmodel import Session, SQLModel

import db.tables  # noqa: F401  (every table, to find those about a person)
from tests.conftest import Api

# Where the export shows each table that holds rows about a person.
EXPORTED_AS = {
    "users": "user",
    "episodes": "episodes",
    "stored_weeks": "weeks",
    "planned_sessions": "sessions",
    "completions": "sessions",
    "stage_changes": "stage_changes",
    "calendar_feeds": "calendar_feed",
    "idempotency_keys": "requests",
    "webhook_events": "events",
}


def person_tables() -> list[Table]:
    return [
        table
        for table in SQLModel.metadata.sorted_tables
        if "user_id" in table.c or table.name == "users"
    ]


def rows_about(engine: Engine, table: Table, user_id: str) -> int:
    column = table.c.id if table.name == "users" else table.c.user_id
    with Session(engine) as session:
        count: int = session.execute(
            select(func.count()).select_from(table).where(column == user_id)
        ).scalar_one()
        return count


def a_full_record(api: Api, name: str) -> dict[str, Any]:
    """A person with a row in every table about people, written with keys."""
    user = api.user(program_start="2026-11-16", external_id=name)
    base = f"/v1/users/{user['id']}"
    episode = {"onset_date": "2026-09-01", "pain_now": 1, "resolved_on": "2026-09-20"}
    created = api.post(f"{base}/episodes", json=episode, headers={"Idempotency-Key": f"{name}-e"})
    session = api.get(f"{base}/plan").json()["sessions"][0]
    completion = {"completed_at": f"{session['date']}T19:00:00Z", "pain_during": 2, "effort": 3}
    api.put(
        f"{base}/sessions/{session['id']}/completion",
        json=completion,
        headers={"Idempotency-Key": f"{name}-c"},
    )
    api.get(f"{base}/progress")
    feed = api.post(f"{base}/calendar-feed").json()["url"]
    return {
        **user,
        "episode": created.json(),
        "session": session,
        "feed": urlsplit(feed).path,
    }


def test_the_export_holds_everything_stored_about_the_person(api: Api) -> None:
    person = a_full_record(api, "exported")
    engine: Engine = api.http.app.state.engine  # type: ignore[attr-defined]
    response = api.get(f"/v1/users/{person['id']}/export")
    assert response.status_code == 200
    export = response.json()
    assert export["format"] == "backplan.export/1"
    assert export["user"] == api.get(f"/v1/users/{person['id']}").json()
    assert export["episodes"] == [person["episode"]]
    assert [week["week"] for week in export["weeks"]] == ["2026-W47"]
    done = [s for s in export["sessions"] if s["completion"] is not None]
    assert [s["id"] for s in done] == [person["session"]["id"]]
    assert done[0]["completion"]["pain_during"] == 2
    assert done[0]["session"]["id"] == person["session"]["id"]
    assert export["stage_changes"][0]["stage"] == 1
    assert set(export["calendar_feed"]) == {"created_at"}
    assert {(r["idempotency_key"], r["method"], r["status"]) for r in export["requests"]} == {
        ("exported-e", "POST", 201),
        ("exported-c", "PUT", 201),
    }
    assert person["feed"].split("/")[-1] not in response.text
    for table in person_tables():
        if rows_about(engine, table, person["id"]):
            assert table.name in EXPORTED_AS, f"the export leaves out {table.name}"
            assert export[EXPORTED_AS[table.name]], table.name


def test_erasure_removes_every_row_and_every_url_answers_404(api: Api) -> None:
    keep = a_full_record(api, "kept")
    gone = a_full_record(api, "erased")
    engine: Engine = api.http.app.state.engine  # type: ignore[attr-defined]
    erase = api.delete(f"/v1/users/{gone['id']}", headers={"Idempotency-Key": "erase"})
    assert erase.status_code == 204

    for table in person_tables():
        if table.name == "webhook_events":
            # Only the user.deleted event outlives the person, until delivered.
            with Session(engine) as session:
                kinds = session.execute(
                    select(table.c.type).where(table.c.user_id == gone["id"])
                ).scalars()
                assert set(kinds) <= {"user.deleted"}
        else:
            assert rows_about(engine, table, gone["id"]) == 0, table.name
        assert rows_about(engine, table, keep["id"]) > 0, table.name

    base = f"/v1/users/{gone['id']}"
    for path in (
        "",
        "/plan",
        "/progress",
        "/readiness",
        "/episodes",
        f"/episodes/{gone['episode']['id']}",
        f"/sessions/{gone['session']['id']}/completion",
        "/calendar.ics",
        "/calendar-feed",
        "/fhir",
        "/export",
    ):
        assert api.get(base + path).status_code == 404, path
    assert api.http.get(gone["feed"]).status_code == 404
    assert api.http.get(keep["feed"]).status_code == 200
    episode = {"onset_date": "2026-09-01", "pain_now": 1}
    # Its stored responses went too: the same key no longer replays anything.
    again = api.post(f"{base}/episodes", json=episode, headers={"Idempotency-Key": "erased-e"})
    assert again.status_code == 404
    assert "idempotent-replayed" not in again.headers
    assert api.delete(base, headers={"Idempotency-Key": "erase"}).status_code == 404
