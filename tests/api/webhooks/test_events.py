"""Which changes emit which events, in the change's transaction, with thin
payloads; delivered to a real receiver that verifies each one."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.webhooks.schemas import EVENT_MODELS
from api.webhooks.worker import Worker
from db.outbox import EventType
from tests.api.webhooks.conftest import deliver, deliveries
from tests.api.webhooks.receiver import Receiver
from tests.conftest import Api

# Every key a delivered body may hold: ids, never health details.
THIN_KEYS = {
    "type",
    "timestamp",
    "data",
    "user_id",
    "external_id",
    "session_id",
    "episode_id",
    "stage",
}
REPORT = {"completed_at": "2026-11-16T18:30:00Z", "pain_during": 7, "effort": 9, "notes": "ouch"}


def keys_of(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in keys_of(item)}
    return set()


def types(api: Api, hook: dict[str, Any]) -> list[str]:
    return sorted(d["event_type"] for d in deliveries(api, hook["id"], limit=100))


def running_user(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    """A user whose program began on Monday, and Monday's session."""
    user = api.user(program_start="2026-11-16")
    plan = api.get(f"/v1/users/{user['id']}/plan").json()
    return user, plan["sessions"][0]


def test_each_change_emits_its_event_once_with_ids_only(
    api: Api, hook: dict[str, Any], receiver: Receiver, worker: Worker
) -> None:
    user, monday = running_user(api)
    completion = f"/v1/users/{user['id']}/sessions/{monday['id']}/completion"
    assert api.put(completion, json=REPORT).status_code == 201
    assert api.put(completion, json={**REPORT, "pain_next_morning": 6}).status_code == 200
    episode = api.post(
        f"/v1/users/{user['id']}/episodes",
        json={"onset_date": "2026-11-18", "pain_now": 8, "red_flags": ["saddle_numbness"]},
    ).json()
    assert types(api, hook) == [
        "program.paused",
        "referral.needed",
        "session.completed",
        "stage.changed",
    ]

    deliver(worker, until=lambda: len(receiver.received) == 4)
    assert all(r.verified for r in receiver.received)
    bodies = {r.payload["type"]: r.payload for r in receiver.received}
    ids = {"user_id": user["id"], "external_id": user["external_id"]}
    assert bodies["session.completed"]["data"] == {**ids, "session_id": monday["id"]}
    assert bodies["stage.changed"]["data"] == {**ids, "stage": 1}
    assert bodies["program.paused"]["data"] == {**ids, "episode_id": episode["id"]}
    assert bodies["referral.needed"]["data"] == {**ids, "episode_id": episode["id"]}
    assert bodies["session.completed"]["timestamp"] == "2026-11-18T10:00:00Z"
    for received in receiver.received:
        assert keys_of(received.payload) <= THIN_KEYS
        assert b"ouch" not in received.body
        EVENT_MODELS[EventType(received.payload["type"])].model_validate(received.payload)
        assert received.webhook_id.startswith("evt_")
    assert {d["status"] for d in deliveries(api, hook["id"])} == {"delivered"}


def test_erasing_a_person_keeps_only_user_deleted(
    api: Api, hook: dict[str, Any], receiver: Receiver, worker: Worker
) -> None:
    user, monday = running_user(api)
    api.put(f"/v1/users/{user['id']}/sessions/{monday['id']}/completion", json=REPORT)
    assert len(deliveries(api, hook["id"])) == 2
    assert api.delete(f"/v1/users/{user['id']}").status_code == 204

    [left] = deliveries(api, hook["id"])
    assert left["event_type"] == "user.deleted"
    assert left["payload"]["data"] == {"user_id": user["id"], "external_id": user["external_id"]}
    deliver(worker, until=lambda: len(receiver.received) == 1)
    assert receiver.received[0].payload["type"] == "user.deleted"
    assert receiver.received[0].verified


def test_only_subscribed_enabled_endpoints_of_the_client_get_events(
    api: Api, http: TestClient, hook: dict[str, Any], receiver: Receiver
) -> None:
    referrals = api.post(
        "/v1/webhooks", json={"url": receiver.url, "events": ["referral.needed"]}
    ).json()
    paused = api.post("/v1/webhooks", json={"url": receiver.url, "events": ["stage.changed"]})
    api.patch(f"/v1/webhooks/{paused.json()['id']}", json={"enabled": False})
    running_user(api)
    assert types(api, hook) == ["stage.changed"]
    assert types(api, referrals) == []
    assert types(api, paused.json()) == []


def test_an_episode_before_the_program_starts_pauses_nothing(
    api: Api, hook: dict[str, Any]
) -> None:
    user = api.user(program_start="2026-12-07")
    api.post(f"/v1/users/{user['id']}/episodes", json={"onset_date": "2026-11-17", "pain_now": 6})
    assert types(api, hook) == []


def test_an_update_that_calls_for_a_referral_emits_it(api: Api, hook: dict[str, Any]) -> None:
    user, _monday = running_user(api)
    episode = api.post(
        f"/v1/users/{user['id']}/episodes",
        json={"onset_date": "2026-09-01", "pain_now": 1, "resolved_on": "2026-09-20"},
    ).json()
    assert types(api, hook) == ["stage.changed"]
    path = f"/v1/users/{user['id']}/episodes/{episode['id']}"
    assert api.patch(path, json={"resolved_on": None, "pain_now": 5}).status_code == 200
    assert types(api, hook) == ["program.paused", "referral.needed", "stage.changed"]
    assert api.patch(path, json={"pain_now": 6}).status_code == 200  # still referred
    assert types(api, hook) == ["program.paused", "referral.needed", "stage.changed"]


def test_a_failing_request_emits_nothing(
    api: Api, hook: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    user, _monday = running_user(api)

    def fail(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the request fails after the episode was written")

    monkeypatch.setattr("api.planning.refresh_default_start", fail)
    with pytest.raises(RuntimeError):
        api.post(
            f"/v1/users/{user['id']}/episodes",
            json={"onset_date": "2026-11-18", "pain_now": 8, "red_flags": ["fever"]},
        )
    assert types(api, hook) == ["stage.changed"]
    assert api.get(f"/v1/users/{user['id']}/episodes").json()["items"] == []
