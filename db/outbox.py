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

from sqlalchemy import delete
from sqlmodel import Session, col, select

from db.tables import User, WebhookDelivery, WebhookEndpoint, WebhookEvent


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
) -> WebhookEvent:
    """Write an event and queue it for each of the client's enabled endpoints
    subscribed to its type. Only flushes: the caller's transaction commits it."""
    event = WebhookEvent(
        id=new_event_id(),
        client_id=client_id,
        user_id=user_id,
        type=type.value,
        payload=_body(type, data, now),
        created_at=now,
    )
    session.add(event)
    endpoints = session.exec(
        select(WebhookEndpoint).where(
            WebhookEndpoint.client_id == client_id, col(WebhookEndpoint.enabled).is_(True)
        )
    ).all()
    for endpoint in endpoints:
        if type.value in endpoint.events:
            session.add(
                WebhookDelivery(
                    event_id=event.id,
                    endpoint_id=endpoint.id,
                    series_started_at=now,
                    next_attempt_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )
    session.flush()
    return event


def emit_for_user(
    session: Session, *, user: User, type: EventType, now: datetime, **ids: str | int
) -> WebhookEvent:
    """An event about a person: `data` holds their id, the client's own id for
    them (`external_id`) and the given ids."""
    return emit(
        session,
        client_id=user.client_id,
        type=type,
        data={"user_id": user.id, "external_id": user.external_id, **ids},
        now=now,
        user_id=user.id,
    )


def erase_user_events(session: Session, *, user_id: str) -> None:
    """Delete every event about the person, with their deliveries and attempts."""
    session.execute(delete(WebhookEvent).where(col(WebhookEvent.user_id) == user_id))


def _body(type: EventType, data: dict[str, str | int], now: datetime) -> str:
    timestamp = now.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return json.dumps(
        {"type": type.value, "timestamp": timestamp, "data": data}, separators=(",", ":")
    )
