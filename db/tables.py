"""The tables. Everything about a person hangs off `users` with ON DELETE
CASCADE, so deleting the user row erases the person."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, ForeignKeyConstraint, Index, Text, UniqueConstraint
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
    )

    user_id: str = Field(primary_key=True, max_length=ID_LENGTH)
    id: str = Field(primary_key=True, max_length=64)
    week: str = Field(max_length=8)
    date: dt.date
    position: int
    content: dict[str, Any] = Field(sa_type=JSON)
    aerobic_minutes: int
    strength_seconds: int
    eased: bool = False
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


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
