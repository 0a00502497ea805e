from datetime import date, timedelta
from typing import Any

import pytest

from tests.conftest import Api, Clock


def days_ago(clock: Clock, days: int) -> str:
    return (clock.now.date() - timedelta(days=days)).isoformat()


def test_reports_an_episode(api: Api, clock: Clock) -> None:
    user = api.user()
    body = {"onset_date": days_ago(clock, 3), "pain_now": 5, "red_flags": ["fever"]}
    response = api.post(f"/v1/users/{user['id']}/episodes", json=body)
    assert response.status_code == 201
    episode = response.json()
    assert episode["id"]
    assert episode["onset_date"] == body["onset_date"]
    assert episode["red_flags"] == ["fever"]
    assert episode["resolved_on"] is None
    assert episode["cleared_by_clinician"] is False
    assert api.get(f"/v1/users/{user['id']}/episodes/{episode['id']}").json() == episode
    assert api.get(f"/v1/users/{user['id']}/episodes").json() == {
        "items": [episode],
        "next_cursor": None,
    }


def test_episodes_keep_report_order(api: Api, clock: Clock) -> None:
    user = api.user()
    for onset in (40, 90, 10):
        api.post(
            f"/v1/users/{user['id']}/episodes",
            json={"onset_date": days_ago(clock, onset), "pain_now": 1},
        )
    listed = api.get(f"/v1/users/{user['id']}/episodes").json()["items"]
    assert [e["onset_date"] for e in listed] == [days_ago(clock, d) for d in (40, 90, 10)]


def test_updates_pain_and_resolution(api: Api, clock: Clock) -> None:
    user = api.user()
    episode = api.post(
        f"/v1/users/{user['id']}/episodes",
        json={"onset_date": days_ago(clock, 20), "pain_now": 6},
    ).json()
    path = f"/v1/users/{user['id']}/episodes/{episode['id']}"
    patched = api.patch(path, json={"pain_now": 1, "resolved_on": days_ago(clock, 1)})
    assert patched.status_code == 200
    assert patched.json()["pain_now"] == 1
    assert patched.json()["resolved_on"] == days_ago(clock, 1)
    reopened = api.patch(path, json={"resolved_on": None}).json()
    assert reopened["resolved_on"] is None
    assert reopened["onset_date"] == episode["onset_date"]


@pytest.mark.parametrize(
    ("body", "pointers"),
    [
        ({"onset_date": "2099-01-01", "pain_now": 2}, ["#/onset_date"]),
        (
            {"onset_date": "2026-11-10", "pain_now": 2, "resolved_on": "2026-11-01"},
            ["#/resolved_on"],
        ),
        (
            {"onset_date": "2026-11-10", "pain_now": 2, "resolved_on": "2099-11-01"},
            ["#/resolved_on"],
        ),
        ({"onset_date": "2026-11-10", "pain_now": 11}, ["#/pain_now"]),
        ({"onset_date": "2026-11-10", "pain_now": -1}, ["#/pain_now"]),
        ({"onset_date": "2026-11-10", "pain_now": True}, ["#/pain_now"]),
        ({"onset_date": 20261110, "pain_now": 2}, ["#/onset_date"]),
        ({"onset_date": "2026-11-10", "pain_now": 2, "red_flags": ["headache"]}, ["#/red_flags/0"]),
        (
            {"onset_date": "2026-11-10", "pain_now": 2, "cleared_by_clinician": "yes"},
            ["#/cleared_by_clinician"],
        ),
        ({"pain_now": 2}, ["#/onset_date"]),
    ],
)
def test_invalid_episodes_are_422(api: Api, body: dict[str, Any], pointers: list[str]) -> None:
    user = api.user()
    response = api.post(f"/v1/users/{user['id']}/episodes", json=body)
    assert response.status_code == 422, response.text
    assert [e["pointer"] for e in response.json()["errors"]] == pointers
    assert api.get(f"/v1/users/{user['id']}/episodes").json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"resolved_on": "2026-10-01"}, "#/resolved_on"),
        ({"pain_now": None}, "#/pain_now"),
        ({"red_flags": ["fever"]}, "#/red_flags"),
    ],
)
def test_invalid_updates_are_422(api: Api, body: dict[str, Any], pointer: str) -> None:
    user = api.user()
    episode = api.post(
        f"/v1/users/{user['id']}/episodes", json={"onset_date": "2026-11-10", "pain_now": 2}
    ).json()
    response = api.patch(f"/v1/users/{user['id']}/episodes/{episode['id']}", json=body)
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == [pointer]


def test_an_unknown_episode_is_404(api: Api) -> None:
    user = api.user()
    assert api.get(f"/v1/users/{user['id']}/episodes/nope").status_code == 404
    response = api.patch(f"/v1/users/{user['id']}/episodes/nope", json={"pain_now": 1})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_another_users_episode_is_404(api: Api) -> None:
    one, other = api.user(), api.user()
    episode = api.post(
        f"/v1/users/{one['id']}/episodes", json={"onset_date": "2026-11-10", "pain_now": 2}
    ).json()
    assert api.get(f"/v1/users/{other['id']}/episodes/{episode['id']}").status_code == 404


def readiness(api: Api, user: dict[str, Any]) -> dict[str, Any]:
    response = api.get(f"/v1/users/{user['id']}/readiness")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_readiness_without_episodes_is_ready(api: Api) -> None:
    body = readiness(api, api.user())
    assert body["status"] == "ready"
    assert {"status", "reasons", "earliest_start", "guidance"} <= set(body)


def test_readiness_while_recovering(api: Api, clock: Clock) -> None:
    user = api.user()
    api.post(
        f"/v1/users/{user['id']}/episodes", json={"onset_date": days_ago(clock, 3), "pain_now": 5}
    )
    body = readiness(api, user)
    assert body["status"] == "recovering"
    assert body["reasons"]
    assert body["guidance"]
    assert body["earliest_start"] == days_ago(clock, 3 - 14)


def test_readiness_with_a_red_flag_refers(api: Api, clock: Clock) -> None:
    user = api.user()
    api.post(
        f"/v1/users/{user['id']}/episodes",
        json={"onset_date": days_ago(clock, 30), "pain_now": 1, "red_flags": ["saddle_numbness"]},
    )
    body = readiness(api, user)
    assert body["status"] == "refer"
    assert body["earliest_start"] is None
    assert body["urgent"] is True


def test_a_clinicians_clearance_lifts_a_referral(api: Api, clock: Clock) -> None:
    user = api.user()
    api.post(
        f"/v1/users/{user['id']}/episodes",
        json={"onset_date": days_ago(clock, 60), "pain_now": 1, "red_flags": ["fever"]},
    )
    assert readiness(api, user)["status"] == "refer"
    api.post(
        f"/v1/users/{user['id']}/episodes",
        json={"onset_date": days_ago(clock, 60), "pain_now": 1, "cleared_by_clinician": True},
    )
    assert readiness(api, user)["status"] == "ready"


def test_an_episode_moves_the_default_start_before_the_program_began(
    api: Api, clock: Clock
) -> None:
    user = api.user()
    assert user["program_start"] == clock.now.date().isoformat()
    api.post(
        f"/v1/users/{user['id']}/episodes", json={"onset_date": days_ago(clock, 2), "pain_now": 1}
    )
    moved = api.get(f"/v1/users/{user['id']}").json()
    assert moved["program_start"] == days_ago(clock, 2 - 14)
    api.post(
        f"/v1/users/{user['id']}/episodes",
        json={"onset_date": days_ago(clock, 1), "pain_now": 1, "red_flags": ["fever"]},
    )
    assert api.get(f"/v1/users/{user['id']}").json()["program_start"] is None


def test_an_episode_leaves_a_given_start(api: Api, clock: Clock) -> None:
    user = api.user(program_start="2026-01-05")
    api.post(
        f"/v1/users/{user['id']}/episodes", json={"onset_date": days_ago(clock, 2), "pain_now": 1}
    )
    assert api.get(f"/v1/users/{user['id']}").json()["program_start"] == "2026-01-05"


def test_readiness_is_judged_in_the_persons_time_zone(api: Api, clock: Clock) -> None:
    clock.now = clock.now.replace(hour=23)
    user = api.user(timezone="Asia/Tokyo")  # already tomorrow there
    tomorrow = (clock.now.date() + timedelta(days=1)).isoformat()
    response = api.post(
        f"/v1/users/{user['id']}/episodes", json={"onset_date": tomorrow, "pain_now": 3}
    )
    assert response.status_code == 201
    assert date.fromisoformat(readiness(api, user)["earliest_start"]) > clock.now.date()
