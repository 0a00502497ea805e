from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from db.tables import Completion, Episode, PlannedSessionRow, StageChange, StoredWeek, User
from tests.conftest import Api, Clock, user_fields


def test_creates_a_user(api: Api) -> None:
    response = api.post("/v1/users", json=user_fields(external_id="u-1", birth_year=1980))
    assert response.status_code == 201
    user = response.json()
    assert user["id"]
    assert user["external_id"] == "u-1"
    assert user["training_days"] == ["mon", "wed", "fri"]
    assert user["birth_year"] == 1980
    assert api.get(f"/v1/users/{user['id']}").json() == user


def test_defaults(api: Api, clock: Clock) -> None:
    response = api.post(
        "/v1/users",
        json={"external_id": "d", "training_days": ["tue", "thu"], "session_minutes": 20},
    )
    user = response.json()
    assert user["timezone"] == "UTC"
    assert user["fitness_level"] == "moderate"
    assert user["equipment"] == []
    assert user["aerobic_activities"] == ["walking"]
    assert user["birth_year"] is None
    # With no episode on record the person is ready today.
    assert user["program_start"] == clock.now.date().isoformat()


def test_default_start_is_today_in_the_persons_time_zone(api: Api, clock: Clock) -> None:
    clock.now = clock.now.replace(hour=23, minute=30)
    user = api.user(timezone="Pacific/Auckland")
    assert user["program_start"] == (clock.now.date() + timedelta(days=1)).isoformat()


def test_program_start_may_lie_in_the_past(api: Api) -> None:
    user = api.user(program_start="2025-06-02")
    assert user["program_start"] == "2025-06-02"


def test_accepts_integral_floats_for_integers(api: Api) -> None:
    assert api.user(session_minutes=30.0)["session_minutes"] == 30


@pytest.mark.parametrize(
    ("override", "pointer"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "#/timezone"),
        ({"timezone": "../../etc/passwd"}, "#/timezone"),
        ({"training_days": ["mon"]}, "#/training_days"),
        ({"training_days": ["mon", "tue"]}, "#/training_days"),  # only back to back
        ({"training_days": ["mon", "mon", "wed"]}, "#/training_days"),
        ({"training_days": ["mon", "someday"]}, "#/training_days/1"),
        ({"session_minutes": 10}, "#/session_minutes"),
        ({"session_minutes": 91}, "#/session_minutes"),
        ({"session_minutes": True}, "#/session_minutes"),
        ({"session_minutes": "30"}, "#/session_minutes"),
        ({"session_minutes": 30.5}, "#/session_minutes"),
        ({"fitness_level": "elite"}, "#/fitness_level"),
        ({"equipment": ["treadmill"]}, "#/equipment/0"),
        ({"aerobic_activities": ["rowing"]}, "#/aerobic_activities/0"),
        ({"birth_year": 1850}, "#/birth_year"),
        ({"birth_year": 2090}, "#/birth_year"),
        ({"program_start": "next week"}, "#/program_start"),
        ({"external_id": ""}, "#/external_id"),
        ({"nickname": "Al"}, "#/nickname"),
    ],
)
def test_invalid_fields_are_422_with_pointers(
    api: Api, override: dict[str, Any], pointer: str
) -> None:
    response = api.post("/v1/users", json=user_fields(**override))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:backplan:problem:validation-error"
    assert problem["status"] == 422
    assert pointer in [error["pointer"] for error in problem["errors"]]
    assert all(error["detail"] for error in problem["errors"])


def test_missing_fields_are_named(api: Api) -> None:
    response = api.post("/v1/users", json={})
    pointers = {error["pointer"] for error in response.json()["errors"]}
    assert pointers == {"#/external_id", "#/training_days", "#/session_minutes"}


def test_external_id_reuse_is_409(api: Api, http: TestClient) -> None:
    api.user(external_id="dup")
    response = api.post("/v1/users", json=user_fields(external_id="dup"))
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == [
        {"detail": response.json()["detail"], "pointer": "#/external_id"}
    ]
    # Another client may use the same external id.
    from tests.conftest import register

    assert (
        register(http, "Other").post("/v1/users", json=user_fields(external_id="dup")).status_code
        == 201
    )


def test_finds_a_user_by_external_id(api: Api, clock: Clock) -> None:
    first = api.user(external_id="a-1")
    clock.now += timedelta(seconds=1)
    api.user(external_id="a-2")
    found = api.get("/v1/users", params={"external_id": "a-1"}).json()["items"]
    assert [user["id"] for user in found] == [first["id"]]
    assert api.get("/v1/users", params={"external_id": "zzz"}).json()["items"] == []
    everyone = api.get("/v1/users").json()["items"]
    assert [user["external_id"] for user in everyone] == ["a-1", "a-2"]


def test_list_parameters_are_validated(api: Api) -> None:
    response = api.get("/v1/users", params={"limit": 0})
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "limit"


def test_patches_some_fields(api: Api, clock: Clock) -> None:
    user = api.user()
    clock.now += timedelta(minutes=5)
    response = api.patch(
        f"/v1/users/{user['id']}", json={"training_days": ["tue", "thu"], "birth_year": None}
    )
    assert response.status_code == 200
    patched = response.json()
    assert patched["training_days"] == ["tue", "thu"]
    assert patched["session_minutes"] == user["session_minutes"]
    assert patched["updated_at"] > user["updated_at"]
    assert api.get(f"/v1/users/{user['id']}").json() == patched


def test_an_empty_patch_changes_nothing(api: Api, clock: Clock) -> None:
    user = api.user()
    clock.now += timedelta(minutes=5)
    assert api.patch(f"/v1/users/{user['id']}", json={}).json() == user


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"timezone": None}, "#/timezone"),
        ({"training_days": None}, "#/training_days"),
        ({"training_days": ["sat", "sun"]}, "#/training_days"),
        ({"session_minutes": False}, "#/session_minutes"),
        ({"id": "new-id"}, "#/id"),
    ],
)
def test_patch_is_validated(api: Api, body: dict[str, Any], pointer: str) -> None:
    user = api.user()
    response = api.patch(f"/v1/users/{user['id']}", json=body)
    assert response.status_code == 422
    assert [error["pointer"] for error in response.json()["errors"]] == [pointer]
    assert api.get(f"/v1/users/{user['id']}").json() == user


def test_patch_to_a_taken_external_id_is_409(api: Api) -> None:
    api.user(external_id="taken")
    user = api.user(external_id="mine")
    response = api.patch(f"/v1/users/{user['id']}", json={"external_id": "taken"})
    assert response.status_code == 409
    assert api.get(f"/v1/users/{user['id']}").json()["external_id"] == "mine"


def test_program_start_null_goes_back_to_the_default(api: Api, clock: Clock) -> None:
    user = api.user(program_start="2026-01-05")
    response = api.patch(f"/v1/users/{user['id']}", json={"program_start": None})
    assert response.json()["program_start"] == clock.now.date().isoformat()


def test_deletes_a_user_and_everything_about_them(api: Api, http: TestClient) -> None:
    keep = api.user(program_start="2026-11-02")
    user = api.user(program_start="2026-11-02")
    for person in (keep, user):
        api.post(
            f"/v1/users/{person['id']}/episodes", json={"onset_date": "2026-09-01", "pain_now": 1}
        )
        plan = api.get(f"/v1/users/{person['id']}/plan", params={"week": "2026-W46"}).json()
        session_id = plan["sessions"][0]["id"]
        api.put(
            f"/v1/users/{person['id']}/sessions/{session_id}/completion",
            json={
                "completed_at": f"{plan['sessions'][0]['date']}T18:00:00Z",
                "pain_during": 1,
                "effort": 3,
            },
        )
        api.get(f"/v1/users/{person['id']}/progress")

    assert api.delete(f"/v1/users/{user['id']}").status_code == 204

    assert api.get(f"/v1/users/{user['id']}").status_code == 404
    assert api.get(f"/v1/users/{user['id']}/plan").status_code == 404
    assert api.delete(f"/v1/users/{user['id']}").status_code == 404
    engine = http.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        columns = (
            User.id,
            Episode.user_id,
            StoredWeek.user_id,
            PlannedSessionRow.user_id,
            Completion.user_id,
            StageChange.user_id,
        )
        for column in columns:
            assert session.exec(select(func.count()).where(column == user["id"])).one() == 0
            assert session.exec(select(func.count()).where(column == keep["id"])).one() > 0
