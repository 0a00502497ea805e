"""The delivery worker's queries: claim due deliveries, record each attempt.

Each function runs inside a short transaction of the caller's; no lock is
held while a request is in flight. A claim is a lease (`claimed_until`) and
a token: on PostgreSQL `FOR UPDATE SKIP LOCKED` lets several workers claim
side by side without waiting or taking the same row; on SQLite the write
transaction (BEGIN IMMEDIATE) already serialises them. Recording checks the
token, so a worker whose lease was taken over records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import CursorResult, delete, or_
from sqlmodel import Session, col, select

from db.tables import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent, new_id

LOST_LEASE = "The worker stopped before recording a result; retried once its lease expired."


class Verdict(StrEnum):
    delivered = "delivered"
    retry = "retry"
    gone = "gone"  # 410: the receiver wants no more; disable the endpoint
    exhausted = "exhausted"  # the retry schedule ran out


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed delivery: everything needed to send it without the database."""

    delivery_id: str
    claim_token: str
    attempt: int
    series_failures: int
    event_id: str
    event_type: str
    payload: str
    endpoint_id: str
    url: str
    secrets: tuple[str, ...]  # the current secret first; the previous one during rotation


@dataclass(frozen=True, slots=True)
class AttemptResult:
    started_at: datetime
    duration_ms: int | None
    status_code: int | None = None
    error: str | None = None
    response_excerpt: str | None = None


def claim(session: Session, *, now: datetime, lease: timedelta, limit: int) -> list[Job]:
    """Claim up to `limit` due deliveries of enabled endpoints, oldest due first."""
    statement = (
        select(WebhookDelivery, WebhookEndpoint, WebhookEvent)
        .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id))
        .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
        .where(
            WebhookDelivery.status == "pending",
            col(WebhookDelivery.next_attempt_at) <= now,
            or_(
                col(WebhookDelivery.claimed_until).is_(None),
                col(WebhookDelivery.claimed_until) <= now,
            ),
            col(WebhookEndpoint.enabled).is_(True),
        )
        .order_by(col(WebhookDelivery.next_attempt_at))
        .limit(limit)
        .with_for_update(skip_locked=True, of=WebhookDelivery)
    )
    jobs = []
    for delivery, endpoint, event in session.exec(statement).all():
        if delivery.claim_token is not None:
            # Claimed before and never recorded: that worker died mid-delivery.
            session.add(
                WebhookAttempt(
                    delivery_id=delivery.id,
                    number=delivery.attempt_count,
                    started_at=delivery.updated_at,
                    error=LOST_LEASE,
                )
            )
        delivery.attempt_count += 1
        delivery.claim_token = new_id()
        delivery.claimed_until = now + lease
        delivery.updated_at = now
        session.add(delivery)
        jobs.append(
            Job(
                delivery_id=delivery.id,
                claim_token=delivery.claim_token,
                attempt=delivery.attempt_count,
                series_failures=delivery.series_failures,
                event_id=event.id,
                event_type=event.type,
                payload=event.payload,
                endpoint_id=endpoint.id,
                url=endpoint.url,
                secrets=_signing_secrets(endpoint, now),
            )
        )
    session.flush()
    return jobs


def record(
    session: Session,
    *,
    job: Job,
    result: AttemptResult,
    verdict: Verdict,
    next_attempt_at: datetime | None,
    reason: str | None,
    now: datetime,
) -> bool:
    """Record the attempt and move the delivery on; False (nothing written)
    when the claim was lost: replayed, taken over, or the endpoint deleted."""
    delivery = session.exec(
        select(WebhookDelivery)
        .where(
            WebhookDelivery.id == job.delivery_id, WebhookDelivery.claim_token == job.claim_token
        )
        .with_for_update()
    ).first()
    if delivery is None:
        return False
    endpoint = session.get_one(WebhookEndpoint, delivery.endpoint_id)
    session.add(
        WebhookAttempt(
            delivery_id=delivery.id,
            number=job.attempt,
            started_at=result.started_at,
            duration_ms=result.duration_ms,
            status_code=result.status_code,
            error=result.error,
            response_excerpt=result.response_excerpt,
            next_attempt_at=next_attempt_at if verdict is Verdict.retry else None,
        )
    )
    delivery.claim_token = None
    delivery.claimed_until = None
    delivery.updated_at = now
    if verdict is Verdict.delivered:
        delivery.status = "delivered"
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        endpoint.last_success_at = now
    elif verdict is Verdict.retry:
        delivery.series_failures += 1
        delivery.next_attempt_at = next_attempt_at
    else:
        delivery.status = "failed"
        delivery.series_failures += 1
        delivery.next_attempt_at = None
        sustained = (
            endpoint.last_success_at is None
            or endpoint.last_success_at < delivery.series_started_at
        )
        if endpoint.enabled and (verdict is Verdict.gone or sustained):
            endpoint.enabled = False
            endpoint.disabled_reason = reason
            endpoint.disabled_at = now
            endpoint.updated_at = now
    session.add_all([delivery, endpoint])
    session.flush()
    return True


def prune(session: Session, *, before: datetime) -> int:
    """Delete events written before `before`, with their deliveries and attempts."""
    result = session.execute(delete(WebhookEvent).where(col(WebhookEvent.created_at) < before))
    assert isinstance(result, CursorResult)
    return result.rowcount


def _signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> tuple[str, ...]:
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret is not None and expires is not None and expires > now:
        return (endpoint.secret, endpoint.previous_secret)
    return (endpoint.secret,)
