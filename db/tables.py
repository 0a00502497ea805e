"""The tables. Everything about a person hangs off `users` with ON DELETE
CASCADE, so deleting the user row erases the person."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, ForeignKeyConstraint, Index, LargeBinary, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from db.types import UtcDateTime

# Stable constraint names, so later migrations can refer to them on both backends.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID_LENGTH = 36


# `Index.info` key naming the one dialect an index exists on (`only_on`).
ONLY_ON = "backplan.only_on"


def only_on(dialect: str, index: Index) -> Index:
    """`index`, created on `dialect` only: by `create_all` (SQLAlchemy's
    `ddl_if`), and compared by autogenerate only there (`db.migrate.compared`)."""
    index.info[ONLY_ON] = dialect
    return index.ddl_if(dialect=dialect)


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Client(SQLModel, table=True):
    """A fitness app that calls the API."""

    __tablename__ = "clients"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=ID_LENGTH)
    name: str = Field(max_length=200)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class ApiKey(SQLModel, table=True):
    """A client's API key, kept only as a SHA-256 hash; `id` is the key's public part."""

    __tablename__ = "api_keys"

    id: str = Field(primary_key=True, max_length=32)
    client_id: str = Field(
        foreign_key="clients.id", ondelete="CASCADE", index=True, max_length=ID_LENGTH
    )
    key_hash: str = Field(max_length=64)
    prefix: str = Field(max_length=64)
    name: str | None = Field(default=None, max_length=200)
    # Empty means every scope; scoped keys come later without a schema change.
    scopes: list[str] = Field(default_factory=list, sa_type=JSON)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)


class User(SQLModel, table=True):
    """A person, registered by one client under the client's own id."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("client_id", "external_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=ID_LENGTH)
    client_id: str = Field(foreign_key="clients.id", ondelete="CASCADE", max_length=ID_LENGTH)
    external_id: str = Field(max_length=200)
    timezone: str = Field(max_length=64)
    training_days: list[str] = Field(sa_type=JSON)
    session_minutes: int
    fitness_level: str = Field(max_length=16)
    equipment: list[str] = Field(default_factory=list, sa_type=JSON)
    aerobic_activities: list[str] = Field(default_factory=list, sa_type=JSON)
    birth_year: int | None = None
    program_start: dt.date | None = None
    # False while program_start is the computed default, which may still move.
    program_start_given: bool = False
    # Local time of day the person trains; calendar events start then.
    session_time: dt.time = Field(
        default=dt.time(18, 0), sa_column_kwargs={"server_default": text("'18:00:00'")}
    )
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Episode(SQLModel, table=True):
    """A reported episode; `seq` keeps the report order the readiness gate needs."""

    __tablename__ = "episodes"
    __table_args__ = (UniqueConstraint("user_id", "seq"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=ID_LENGTH)
    user_id: str = Field(foreign_key="users.id", ondelete="CASCADE", max_length=ID_LENGTH)
    seq: int
    onset_date: dt.date
    pain_now: int
    red_flags: list[str] = Field(default_factory=list, sa_type=JSON)
    resolved_on: dt.date | None = None
    cleared_by_clinician: bool = False
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class StoredWeek(SQLModel, table=True):
    """A week whose sessions were stored when first served; the primary key
    makes storing insert-once under concurrent first requests."""

    __tablename__ = "stored_weeks"

    user_id: str = Field(
        foreign_key="users.id", ondelete="CASCADE", primary_key=True, max_length=ID_LENGTH
    )
    week: str = Field(primary_key=True, max_length=8)
    stored_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class PlannedSessionRow(SQLModel, table=True):
    """One stored session; `id` is the engine's session id (stable per person,
    date and slot), unique per user."""

    __tablename__ = "planned_sessions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "week"], ["stored_weeks.user_id", "stored_weeks.week"], ondelete="CASCADE"
        ),
        Index("ix_planned_sessions_user_id_week", "user_id", "week"),
        # Covers the history (`db.plans.load_history`): see migration 0007.
        Index(
            "ix_planned_sessions_history",
            "user_id",
            "date",
            "position",
            "id",
            "aerobic_minutes",
            "strength_seconds",
        ),
        # Covers a completion's read of its session on SQLite, whose rows
        # hold the content: see migration 0009.
        only_on("sqlite", Index("ix_planned_sessions_target", "user_id", "id", "date")),
    )

    user_id: str = Field(primary_key=True, max_length=ID_LENGTH)
    id: str = Field(primary_key=True, max_length=64)
    week: str = Field(max_length=8)
    date: dt.date
    position: int
    # The session's JSON without its blocks' content (an empty block list),
    # and its blocks' digests in order (`db.blocks`).
    content: dict[str, Any] = Field(sa_type=JSON)
    blocks: list[str] = Field(sa_type=JSON)
    aerobic_minutes: int
    strength_seconds: int
    eased: bool = False
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class SessionBlock(SQLModel, table=True):
    """A block of a session as served (its exercises with their dosage and
    texts), stored once under the digest of its JSON and shared by every
    session that holds it (`db.blocks`). Never changed, never deleted."""

    __tablename__ = "session_blocks"

    digest: str = Field(primary_key=True, max_length=32)
    content: str = Field(sa_type=Text)


class Completion(SQLModel, table=True):
    """What the person reported for one stored session."""

    __tablename__ = "completions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "session_id"],
            ["planned_sessions.user_id", "planned_sessions.id"],
            ondelete="CASCADE",
        ),
    )

    user_id: str = Field(primary_key=True, max_length=ID_LENGTH)
    session_id: str = Field(primary_key=True, max_length=64)
    completed_at: dt.datetime = Field(sa_type=UtcDateTime)
    pain_during: int
    effort: int
    pain_before: int | None = None
    pain_next_morning: int | None = None
    skipped: list[str] = Field(default_factory=list, sa_type=JSON)
    notes: str | None = Field(default=None, sa_type=Text)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class StageChange(SQLModel, table=True):
    """The person's stage as the engine first reported it; one row per change."""

    __tablename__ = "stage_changes"
    __table_args__ = (Index("ix_stage_changes_user_id_recorded_at", "user_id", "recorded_at"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=ID_LENGTH)
    user_id: str = Field(foreign_key="users.id", ondelete="CASCADE", max_length=ID_LENGTH)
    stage: int
    since: dt.date
    recorded_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class IdempotencyRecord(SQLModel, table=True):
    """A request sent with an Idempotency-Key. Claimed while in flight (`lease`
    set, `status` null), then holding the response to replay. `owner` is the
    client's id, or "admin" for the operator; `user_id` names the person the
    response is about, so erasing them erases it."""

    __tablename__ = "idempotency_keys"
    # Each claim prunes its client's expired keys: a range on this index, not
    # a scan of all the client's keys.
    __table_args__ = (Index("ix_idempotency_keys_owner_created_at", "owner", "created_at"),)

    owner: str = Field(primary_key=True, max_length=64)
    key: str = Field(primary_key=True, max_length=255)
    fingerprint: str = Field(max_length=64)
    method: str = Field(max_length=8)
    path: str = Field(sa_type=Text)
    user_id: str | None = Field(default=None, index=True, max_length=ID_LENGTH)
    lease: str | None = Field(default=None, max_length=32)
    locked_at: dt.datetime = Field(sa_type=UtcDateTime)
    status: int | None = None
    headers: dict[str, str] | None = Field(default=None, sa_type=JSON)
    body: bytes | None = Field(default=None, sa_type=LargeBinary)
    created_at: dt.datetime = Field(default_factory=utcnow, index=True, sa_type=UtcDateTime)
    completed_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)


class CalendarFeed(SQLModel, table=True):
    """A person's secret calendar feed; only the token's SHA-256 is kept."""

    __tablename__ = "calendar_feeds"

    user_id: str = Field(
        foreign_key="users.id", ondelete="CASCADE", primary_key=True, max_length=ID_LENGTH
    )
    token_hash: str = Field(max_length=64, unique=True)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


# --- Webhooks -----------------------------------------------------------------


class WebhookEndpoint(SQLModel, table=True):
    """A URL where a client receives signed events. `secret` signs every
    delivery; during a rotation `previous_secret` signs too, until it expires."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        Index("ix_webhook_endpoints_client_id_created_at", "client_id", "created_at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=ID_LENGTH)
    client_id: str = Field(foreign_key="clients.id", ondelete="CASCADE", max_length=ID_LENGTH)
    url: str = Field(max_length=2000)
    description: str | None = Field(default=None, max_length=500)
    events: list[str] = Field(default_factory=list, sa_type=JSON)
    enabled: bool = True
    disabled_reason: str | None = Field(default=None, max_length=500)
    disabled_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)
    secret: str = Field(max_length=100)
    previous_secret: str | None = Field(default=None, max_length=100)
    previous_secret_expires_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)
    # Sustained failure is judged against the last success.
    last_success_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class WebhookEvent(SQLModel, table=True):
    """The outbox: one row per change, written in the change's transaction.
    `payload` is the exact body sent, so every retry carries the same bytes.

    `user_id` has no foreign key on purpose: erasing a person deletes their
    events explicitly, and the `user.deleted` event must outlive the user row."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        Index("ix_webhook_events_user_id", "user_id"),
        Index("ix_webhook_events_created_at", "created_at"),
    )

    id: str = Field(primary_key=True, max_length=ID_LENGTH)
    client_id: str = Field(foreign_key="clients.id", ondelete="CASCADE", max_length=ID_LENGTH)
    user_id: str | None = Field(default=None, max_length=ID_LENGTH)
    type: str = Field(max_length=40)
    payload: str = Field(sa_type=Text)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class WebhookDelivery(SQLModel, table=True):
    """One event for one endpoint: `pending` until delivered or given up.

    A worker claims a due delivery by setting `claim_token` and a lease,
    `claimed_until`; when the lease runs out unfinished (the worker died),
    the delivery is due again. `series_failures` counts failures since the
    last replay and picks the next delay from the retry schedule."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id"),
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint_id_created_at", "endpoint_id", "created_at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=ID_LENGTH)
    event_id: str = Field(foreign_key="webhook_events.id", ondelete="CASCADE", max_length=ID_LENGTH)
    endpoint_id: str = Field(
        foreign_key="webhook_endpoints.id", ondelete="CASCADE", max_length=ID_LENGTH
    )
    status: str = Field(default="pending", max_length=16)
    attempt_count: int = 0
    series_failures: int = 0
    series_started_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    next_attempt_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)
    claimed_until: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)
    claim_token: str | None = Field(default=None, max_length=ID_LENGTH)
    delivered_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class WebhookAttempt(SQLModel, table=True):
    """One HTTP request of a delivery, with what came back."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (UniqueConstraint("delivery_id", "number"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=ID_LENGTH)
    delivery_id: str = Field(
        foreign_key="webhook_deliveries.id", ondelete="CASCADE", max_length=ID_LENGTH
    )
    number: int
    started_at: dt.datetime = Field(sa_type=UtcDateTime)
    duration_ms: int | None = None
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=500)
    response_excerpt: str | None = Field(default=None, sa_type=Text)
    next_attempt_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)


# --- Abuse protection -----------------------------------------------------------


class RateLimitWindow(SQLModel, table=True):
    """Requests an API key made in its current fixed window; one row per key,
    counted by an atomic upsert so that every worker process shares it."""

    __tablename__ = "rate_limit_windows"

    key_id: str = Field(
        foreign_key="api_keys.id", ondelete="CASCADE", primary_key=True, max_length=32
    )
    window_start: dt.datetime = Field(sa_type=UtcDateTime)
    count: int


# --- Cache coherence --------------------------------------------------------------


class Change(SQLModel, table=True):
    """The latest change of each topic (`user:<id>`, `key:<id>`), numbered in
    commit order: how SQLite workers learn what another process changed, so
    that their in-process caches drop it (`db.changes`). PostgreSQL uses
    NOTIFY instead and leaves this table empty."""

    __tablename__ = "changes"

    topic: str = Field(primary_key=True, max_length=80)
    seq: int = Field(index=True)
