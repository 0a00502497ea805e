"""The transactional outbox: events are written in the transaction of the
change that causes them, with one delivery per subscribed endpoint, so a
change and its event commit (or roll back) together.

Payloads are thin: ids, never pain scores, notes or other health details.
The subscriber fetches what it needs through the API.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Table, bindparam, delete, insert, select, true
from sqlmodel import Session, SQLModel, col

from db.raw import Raw, transaction_memo
from db.tables import User, WebhookEvent, new_id

_EVENTS: Table = SQLModel.metadata.tables["webhook_events"]
_DELIVERIES: Table = SQLModel.metadata.tables["webhook_deliveries"]
_ENDPOINTS: Table = SQLModel.metadata.tables["webhook_endpoints"]
# On the driver's cursor (`db.raw`): every completion writes an event.
_INSERT_EVENT = Raw(insert(_EVENTS))
_SUBSCRIBED = Raw(
    select(_ENDPOINTS.c.id, _ENDPOINTS.c.events).where(
        _ENDPOINTS.c.client_id == bindparam("client_id"), _ENDPOINTS.c.enabled.is_(true())
    )
)
_INSERT_DELIVERY = Raw(insert(_DELIVERIES))


class EventType(StrEnum):
    session_completed = "session.completed"
    stage_changed = "stage.changed"
    program_paused = "program.paused"
    referral_needed = "referral.needed"
    user_deleted = "user.deleted"


def new_event_id() -> str:
    """`evt_` and 32 hex digits: the `webhook-id` of every delivery of the event."""
    return f"evt_{secrets.token_hex(16)}"


def emit(
    session: Session,
    *,
    client_id: str,
    type: EventType,
    data: dict[str, str | int],
    now: datetime,
    user_id: str | None = None,
) -> str:
    """Write an event and queue it for each of the client's enabled endpoints
    subscribed to its type, in the caller's transaction; the event's id.
    Every completion writes one."""
    event_id = new_event_id()
    event = {
        "id": event_id,
        "client_id": client_id,
        "user_id": user_id,
        "type": type.value,
        "payload": _body(type, data, now),
        "created_at": now,
    }
    _INSERT_EVENT.send(session, event)
    endpoints = _subscribed(session, client_id)
    deliveries = [
        {
            "id": new_id(),
            "event_id": event_id,
            "endpoint_id": endpoint_id,
            "status": "pending",
            "attempt_count": 0,
            "series_failures": 0,
            "series_started_at": now,
            "next_attempt_at": now,
            "claimed_until": None,
            "claim_token": None,
            "delivered_at": None,
            "created_at": now,
            "updated_at": now,
        }
        for endpoint_id, events in endpoints
        if type.value in events
    ]
    _INSERT_DELIVERY.many(session, deliveries)
    return event_id


def _subscribed(session: Session, client_id: str) -> list[tuple[Any, ...]]:
    """The client's enabled endpoints and their event types, read once per
    transaction: a batch of completions (`api.batching`) emits an event per
    completion, mostly for one client."""
    memo = transaction_memo(session)
    key = f"subscribed:{client_id}"
    found: list[tuple[Any, ...]] | None = memo.get(key)
    if found is None:
        found = memo[key] = _SUBSCRIBED.all(session, {"client_id": client_id})
    return found


def emit_for_user(
    session: Session, *, user: User, type: EventType, now: datetime, **ids: str | int
) -> str:
    """An event about a person: `data` holds their id, the client's own id for
    them (`external_id`) and the given ids."""
    return emit_about(
        session,
        client_id=user.client_id,
        user_id=user.id,
        external_id=user.external_id,
        type=type,
        now=now,
        **ids,
    )


def emit_about(
    session: Session,
    *,
    client_id: str,
    user_id: str,
    external_id: str,
    type: EventType,
    now: datetime,
    **ids: str | int,
) -> str:
    """`emit_for_user` for a caller that has the person's ids, not their row."""
    data: dict[str, str | int] = {"user_id": user_id, "external_id": external_id, **ids}
    return emit(session, client_id=client_id, type=type, data=data, now=now, user_id=user_id)


def erase_user_events(session: Session, *, user_id: str) -> None:
    """Delete every event about the person, with their deliveries and attempts."""
    session.execute(delete(WebhookEvent).where(col(WebhookEvent.user_id) == user_id))


def _body(type: EventType, data: dict[str, str | int], now: datetime) -> str:
    timestamp = now.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return json.dumps(
        {"type": type.value, "timestamp": timestamp, "data": data}, separators=(",", ":")
    )
