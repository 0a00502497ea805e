"""Webhook endpoints and their delivery log, as a client sees them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from db.errors import NotFound
from db.locking import lock_row
from db.pages import Position, page_by_creation
from db.tables import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    delivery: WebhookDelivery
    event: WebhookEvent
    attempts: tuple[WebhookAttempt, ...]


def create_endpoint(
    session: Session,
    *,
    client_id: str,
    url: str,
    events: Sequence[str],
    description: str | None,
    secret: str,
    now: datetime,
) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(
        client_id=client_id,
        url=url,
        events=list(events),
        description=description,
        secret=secret,
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    session.flush()
    return endpoint


def get_endpoint(session: Session, *, client_id: str, endpoint_id: str) -> WebhookEndpoint:
    """The client's endpoint; NotFound for an unknown id and another client's alike."""
    endpoint = session.exec(
        select(WebhookEndpoint).where(
            WebhookEndpoint.id == endpoint_id, WebhookEndpoint.client_id == client_id
        )
    ).first()
    if endpoint is None:
        raise NotFound("webhook endpoint", endpoint_id)
    return endpoint


def list_endpoints(
    session: Session, *, client_id: str, after: Position | None, limit: int
) -> list[WebhookEndpoint]:
    """The client's endpoints, oldest first, from just after `after`."""
    statement = page_by_creation(
        select(WebhookEndpoint).where(WebhookEndpoint.client_id == client_id),
        created=col(WebhookEndpoint.created_at),
        ident=col(WebhookEndpoint.id),
        after=after,
        limit=limit,
    )
    return list(session.exec(statement).all())


def update_endpoint(
    session: Session, *, endpoint: WebhookEndpoint, values: dict[str, object], now: datetime
) -> None:
    """Set the given columns; `enabled` true clears the reason it was disabled."""
    changed = {key: value for key, value in values.items() if getattr(endpoint, key) != value}
    if not changed:
        return
    for key, value in changed.items():
        setattr(endpoint, key, value)
    if changed.get("enabled") is True:
        endpoint.disabled_reason = None
        endpoint.disabled_at = None
    elif changed.get("enabled") is False:
        endpoint.disabled_reason = "Disabled by the client."
        endpoint.disabled_at = now
    endpoint.updated_at = now
    session.add(endpoint)
    session.flush()


def rotate_secret(
    session: Session,
    *,
    endpoint: WebhookEndpoint,
    secret: str,
    grace_until: datetime,
    now: datetime,
) -> None:
    """Sign with `secret` from now on, and with the current one until `grace_until`."""
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = grace_until
    endpoint.secret = secret
    endpoint.updated_at = now
    session.add(endpoint)
    session.flush()


def delete_endpoint(session: Session, *, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint with its deliveries and their attempts."""
    session.delete(endpoint)
    session.flush()


def list_deliveries(
    session: Session,
    *,
    endpoint_id: str,
    status: str | None,
    after: Position | None,
    limit: int,
) -> list[DeliveryRecord]:
    """The endpoint's deliveries, newest first (a log), each with its attempts,
    from just before `after`."""
    statement = (
        select(WebhookDelivery, WebhookEvent)
        .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
        .where(WebhookDelivery.endpoint_id == endpoint_id)
    )
    if status is not None:
        statement = statement.where(WebhookDelivery.status == status)
    if after is not None:
        created_at, delivery_id = after
        statement = statement.where(
            or_(
                col(WebhookDelivery.created_at) < created_at,
                and_(
                    col(WebhookDelivery.created_at) == created_at,
                    col(WebhookDelivery.id) < delivery_id,
                ),
            )
        )
    statement = statement.order_by(
        col(WebhookDelivery.created_at).desc(), col(WebhookDelivery.id).desc()
    ).limit(limit)
    rows = list(session.exec(statement).all())
    attempts = _attempts_of(session, [delivery.id for delivery, _event in rows])
    return [
        DeliveryRecord(delivery, event, tuple(attempts.get(delivery.id, ())))
        for delivery, event in rows
    ]


def get_delivery(session: Session, *, endpoint_id: str, delivery_id: str) -> DeliveryRecord:
    row = session.exec(
        select(WebhookDelivery, WebhookEvent)
        .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint_id)
    ).first()
    if row is None:
        raise NotFound("delivery", delivery_id)
    delivery, event = row
    attempts = _attempts_of(session, [delivery.id])
    return DeliveryRecord(delivery, event, tuple(attempts.get(delivery.id, ())))


def replay_delivery(session: Session, *, delivery: WebhookDelivery, now: datetime) -> bool:
    """Queue the event again, due now, with a fresh retry schedule; False (and
    nothing changed) while a worker is sending it; NotFound when a concurrent
    request deleted it meanwhile (with its endpoint)."""
    lock_row(session, delivery, what="delivery", ident=delivery.id)
    in_flight = delivery.claimed_until is not None and delivery.claimed_until > now
    if delivery.claim_token is not None and in_flight:
        return False
    delivery.status = "pending"
    delivery.series_failures = 0
    delivery.series_started_at = now
    delivery.next_attempt_at = now
    delivery.claimed_until = None
    delivery.claim_token = None
    delivery.delivered_at = None
    delivery.updated_at = now
    session.add(delivery)
    session.flush()
    return True


def _attempts_of(session: Session, delivery_ids: Sequence[str]) -> dict[str, list[WebhookAttempt]]:
    if not delivery_ids:
        return {}
    statement = (
        select(WebhookAttempt)
        .where(col(WebhookAttempt.delivery_id).in_(delivery_ids))
        .order_by(col(WebhookAttempt.delivery_id), col(WebhookAttempt.number))
    )
    found: dict[str, list[WebhookAttempt]] = {}
    for attempt in session.exec(statement).all():
        found.setdefault(attempt.delivery_id, []).append(attempt)
    return found
