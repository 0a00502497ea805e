"""The outbox and the delivery claims, on each backend.

Rows here are committed (claims run in transactions of their own), so each
test works in the year 2000: nothing another test queued is due then."""

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from db import clients, deliveries, outbox
from db import webhooks as webhook_store
from db.deliveries import AttemptResult, Verdict
from db.outbox import EventType
from db.tables import Client, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

T0 = datetime(2000, 1, 1, tzinfo=UTC)
LEASE = timedelta(seconds=30)


@pytest.fixture
def client_id(engine: Engine) -> Iterator[str]:
    """A committed client, deleted (with everything of its) at the end."""
    with Session(engine, expire_on_commit=False) as session:
        client = clients.create_client(
            session,
            name="outbox",
            key_id=f"k{datetime.now().timestamp()}"[:32],
            key_hash="0" * 64,
            key_prefix="bp_live_x",
            now=T0,
        )
        session.commit()
    yield client.id
    with Session(engine) as session:
        session.delete(session.get_one(Client, client.id))
        session.commit()


def endpoint(engine: Engine, client_id: str, events: list[str], enabled: bool = True) -> str:
    with Session(engine) as session:
        row = webhook_store.create_endpoint(
            session,
            client_id=client_id,
            url="https://hooks.example.com/x",
            events=events,
            description=None,
            secret="whsec_" + "QUJD" * 8,
            now=T0,
        )
        row.enabled = enabled
        session.commit()
        return row.id


def emit(engine: Engine, client_id: str, count: int = 1, user_id: str | None = None) -> list[str]:
    with Session(engine) as session:
        ids = [
            outbox.emit(
                session,
                client_id=client_id,
                type=EventType.session_completed,
                data={"user_id": user_id or "u", "external_id": "x", "session_id": "s"},
                now=T0,
                user_id=user_id,
            )
            for _ in range(count)
        ]
        session.commit()
    return ids


def count(engine: Engine, model: type, **where: str) -> int:
    with Session(engine) as session:
        statement = select(func.count()).select_from(model)
        for name, value in where.items():
            statement = statement.where(getattr(model, name) == value)
        return session.exec(statement).one()


def claim(engine: Engine, now: datetime = T0, limit: int = 10) -> list[deliveries.Job]:
    with Session(engine) as session, session.begin():
        return deliveries.claim(session, now=now, lease=LEASE, limit=limit)


def test_an_event_is_queued_for_each_subscribed_enabled_endpoint(
    engine: Engine, client_id: str
) -> None:
    wanted = endpoint(engine, client_id, ["session.completed", "user.deleted"])
    endpoint(engine, client_id, ["stage.changed"])
    endpoint(engine, client_id, ["session.completed"], enabled=False)
    [event_id] = emit(engine, client_id)
    with Session(engine) as session:
        queued = session.exec(select(WebhookDelivery).where(WebhookDelivery.event_id == event_id))
        assert [d.endpoint_id for d in queued] == [wanted]
        event = session.get_one(WebhookEvent, event_id)
    assert event.payload == (
        '{"type":"session.completed","timestamp":"2000-01-01T00:00:00Z",'
        '"data":{"user_id":"u","external_id":"x","session_id":"s"}}'
    )


def test_an_event_rolls_back_with_its_change(engine: Engine, client_id: str) -> None:
    endpoint(engine, client_id, ["session.completed"])
    with Session(engine) as session:
        outbox.emit(
            session,
            client_id=client_id,
            type=EventType.session_completed,
            data={"user_id": "u"},
            now=T0,
        )
        session.rollback()
    assert count(engine, WebhookEvent, client_id=client_id) == 0


def test_a_claim_is_a_lease(engine: Engine, client_id: str) -> None:
    endpoint(engine, client_id, ["session.completed"])
    emit(engine, client_id)
    [job] = claim(engine)
    assert job.attempt == 1
    assert claim(engine) == []  # leased
    assert claim(engine, now=T0 + LEASE - timedelta(seconds=1)) == []
    [again] = claim(engine, now=T0 + LEASE)  # the first worker died
    assert (again.delivery_id, again.attempt) == (job.delivery_id, 2)
    result = AttemptResult(started_at=T0, duration_ms=5, status_code=200)
    with Session(engine) as session, session.begin():
        stale = deliveries.record(
            session,
            job=job,
            result=result,
            verdict=Verdict.delivered,
            next_attempt_at=None,
            reason=None,
            now=T0,
        )
        assert not stale  # taken over: the first worker records nothing
        assert deliveries.record(
            session,
            job=again,
            result=result,
            verdict=Verdict.delivered,
            next_attempt_at=None,
            reason=None,
            now=T0 + LEASE,
        )
    with Session(engine) as session:
        attempts = session.exec(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == job.delivery_id)
            .order_by(col(WebhookAttempt.number))
        ).all()
        assert [(a.number, a.error) for a in attempts] == [
            (1, deliveries.LOST_LEASE),
            (2, None),
        ]
        assert session.get_one(WebhookDelivery, job.delivery_id).status == "delivered"


def test_concurrent_claims_never_take_the_same_row(engine: Engine, client_id: str) -> None:
    """PostgreSQL: the second claim skips the rows the first holds, without
    waiting. SQLite: it waits for the first transaction, then takes the rest."""
    endpoint(engine, client_id, ["session.completed"])
    emit(engine, client_id, count=3)
    theirs: list[deliveries.Job] = []
    other = threading.Thread(target=lambda: theirs.extend(claim(engine)))
    with Session(engine) as first, first.begin():
        mine = deliveries.claim(first, now=T0, lease=LEASE, limit=2)
        other.start()
        other.join(0.5)
        waited = other.is_alive()
    other.join(5)
    assert waited == (engine.dialect.name == "sqlite")
    assert len(mine) == 2
    assert len(theirs) == 1
    assert {job.delivery_id for job in mine}.isdisjoint(job.delivery_id for job in theirs)


def test_giving_up_disables_only_without_a_success_since(engine: Engine, client_id: str) -> None:
    endpoint_id = endpoint(engine, client_id, ["session.completed"])
    emit(engine, client_id, count=2)
    first, second = claim(engine)
    failure = AttemptResult(started_at=T0, duration_ms=1, status_code=500)
    success = AttemptResult(started_at=T0, duration_ms=1, status_code=204)
    later = T0 + timedelta(seconds=1)
    with Session(engine) as session, session.begin():
        for job, result, verdict in (
            (second, success, Verdict.delivered),
            (first, failure, Verdict.exhausted),
        ):
            deliveries.record(
                session,
                job=job,
                result=result,
                verdict=verdict,
                next_attempt_at=None,
                reason="gave up",
                now=later,
            )
    with Session(engine) as session:
        assert session.get_one(WebhookEndpoint, endpoint_id).enabled
    emit(engine, client_id)
    [third] = claim(engine, now=later)
    with Session(engine) as session, session.begin():
        deliveries.record(
            session,
            job=third,
            result=failure,
            verdict=Verdict.gone,
            next_attempt_at=None,
            reason="410",
            now=later,
        )
    with Session(engine) as session:
        row = session.get_one(WebhookEndpoint, endpoint_id)
        assert (row.enabled, row.disabled_reason) == (False, "410")


def test_erasing_a_person_takes_their_events_deliveries_and_attempts(
    engine: Engine, client_id: str
) -> None:
    endpoint(engine, client_id, ["session.completed"])
    [erased] = emit(engine, client_id, user_id="gone")
    emit(engine, client_id, user_id="kept")
    job = next(job for job in claim(engine) if job.event_id == erased)
    with Session(engine) as session, session.begin():
        deliveries.record(
            session,
            job=job,
            result=AttemptResult(started_at=T0, duration_ms=1, status_code=500),
            verdict=Verdict.retry,
            next_attempt_at=T0,
            reason=None,
            now=T0,
        )
    assert count(engine, WebhookAttempt, delivery_id=job.delivery_id) == 1
    with Session(engine) as session:
        outbox.erase_user_events(session, user_id="gone")
        session.commit()
    assert count(engine, WebhookEvent, user_id="gone") == 0
    assert count(engine, WebhookDelivery, id=job.delivery_id) == 0
    assert count(engine, WebhookAttempt, delivery_id=job.delivery_id) == 0
    assert count(engine, WebhookEvent, user_id="kept") == 1


def test_pruning_removes_old_events(engine: Engine, client_id: str) -> None:
    endpoint(engine, client_id, ["session.completed"])
    emit(engine, client_id)
    with Session(engine) as session, session.begin():
        assert deliveries.prune(session, before=T0) == 0
        assert deliveries.prune(session, before=T0 + timedelta(seconds=1)) >= 1
    assert count(engine, WebhookEvent, client_id=client_id) == 0
