from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import Api, Clock


@pytest.fixture
def setup(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    """A user whose program began on Monday of this week, and Monday's session."""
    user = api.user(program_start="2026-11-16")
    plan = api.get(f"/v1/users/{user['id']}/plan").json()
    return user, plan["sessions"][0]


def path(user: dict[str, Any], session: dict[str, Any]) -> str:
    return f"/v1/users/{user['id']}/sessions/{session['id']}/completion"


REPORT = {"completed_at": "2026-11-16T18:30:00Z", "pain_during": 2, "effort": 4}


def test_first_put_is_201_then_200(api: Api, setup: tuple[dict[str, Any], dict[str, Any]]) -> None:
    user, session = setup
    created = api.put(path(user, session), json=REPORT)
    assert created.status_code == 201
    body = created.json()
    assert body["session_id"] == session["id"]
    assert body["completed_at"] == "2026-11-16T18:30:00Z"
    assert body["skipped"] == []
    assert body["pain_next_morning"] is None
    again = api.put(path(user, session), json=REPORT)
    assert again.status_code == 200
    assert api.get(path(user, session)).json() == body


def test_the_same_put_changes_nothing(
    api: Api, clock: Clock, setup: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    user, session = setup
    first = api.put(path(user, session), json=REPORT).json()
    clock.now += timedelta(hours=1)
    assert api.put(path(user, session), json=REPORT).json() == first


def test_next_morning_pain_may_come_later(
    api: Api, clock: Clock, setup: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    user, session = setup
    first = api.put(path(user, session), json=REPORT).json()
    clock.now += timedelta(hours=1)
    later = api.put(path(user, session), json={**REPORT, "pain_next_morning": 1})
    assert later.status_code == 200
    assert later.json()["pain_next_morning"] == 1
    assert later.json()["updated_at"] > first["updated_at"]
    assert later.json()["created_at"] == first["created_at"]


def test_delete_undoes_a_completion(api: Api, setup: tuple[dict[str, Any], dict[str, Any]]) -> None:
    user, session = setup
    api.put(path(user, session), json=REPORT)
    assert api.delete(path(user, session)).status_code == 204
    missing = api.get(path(user, session))
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert api.delete(path(user, session)).status_code == 404
    assert api.put(path(user, session), json=REPORT).status_code == 201


def test_times_without_an_offset_are_utc_and_offsets_are_kept(
    api: Api, setup: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    user, session = setup
    naive = api.put(path(user, session), json={**REPORT, "completed_at": "2026-11-16T18:30:00"})
    assert naive.json()["completed_at"] == "2026-11-16T18:30:00Z"
    offset = api.put(
        path(user, session), json={**REPORT, "completed_at": "2026-11-16T20:30:00+02:00"}
    )
    assert offset.json()["completed_at"] == "2026-11-16T18:30:00Z"


def test_skipped_exercises_belong_to_the_session(
    api: Api, setup: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    user, session = setup
    slug = session["blocks"][-1]["exercises"][0]["slug"]
    ok = api.put(path(user, session), json={**REPORT, "skipped": [slug], "notes": "Tired."})
    assert ok.json()["skipped"] == [slug]
    assert ok.json()["notes"] == "Tired."
    bad = api.put(path(user, session), json={**REPORT, "skipped": [slug, "moon-walk"]})
    assert bad.status_code == 422
    assert [e["pointer"] for e in bad.json()["errors"]] == ["#/skipped/1"]
    assert api.get(path(user, session)).json()["skipped"] == [slug]


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"completed_at": "2026-11-18T12:00:00Z"}, "#/completed_at"),  # 2 hours ahead
        ({"completed_at": "2026-11-15T12:00:00Z"}, "#/completed_at"),  # before the session
        ({"completed_at": "yesterday"}, "#/completed_at"),
        ({"pain_during": 11}, "#/pain_during"),
        ({"pain_during": True}, "#/pain_during"),
        ({"effort": -1}, "#/effort"),
        ({"pain_next_morning": "1"}, "#/pain_next_morning"),
        ({"skipped": "bird-dog"}, "#/skipped"),
        ({"calories": 300}, "#/calories"),
    ],
)
def test_invalid_reports_are_422(
    api: Api,
    setup: tuple[dict[str, Any], dict[str, Any]],
    change: dict[str, Any],
    pointer: str,
) -> None:
    user, session = setup
    response = api.put(path(user, session), json={**REPORT, **change})
    assert response.status_code == 422, response.text
    assert pointer in [e["pointer"] for e in response.json()["errors"]]
    assert api.get(path(user, session)).status_code == 404


def test_missing_fields_are_named(api: Api, setup: tuple[dict[str, Any], dict[str, Any]]) -> None:
    user, session = setup
    response = api.put(path(user, session), json={})
    assert {e["pointer"] for e in response.json()["errors"]} == {
        "#/completed_at",
        "#/pain_during",
        "#/effort",
    }


def test_the_session_must_be_the_users(
    api: Api, setup: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    user, session = setup
    other = api.user()
    assert api.put(path(other, session), json=REPORT).status_code == 404
    assert api.put(path(user, {"id": "no-such-session"}), json=REPORT).status_code == 404
    assert api.get(path(other, session)).status_code == 404
