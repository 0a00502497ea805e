"""Everything stored about one person, for their data export, and when any of
it last changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from db import calendar_feeds, idempotency
from db import episodes as episode_store
from db import plans as plan_store
from db.tables import (
    CalendarFeed,
    Completion,
    Episode,
    IdempotencyRecord,
    PlannedSessionRow,
    StageChange,
    StoredWeek,
    User,
    WebhookEvent,
)


@dataclass(frozen=True, slots=True)
class PersonRecord:
    user: User
    episodes: list[Episode]
    weeks: list[StoredWeek]
    # Each stored session with its blocks read back (`db.blocks`), in date order.
    sessions: list[plan_store.StoredSession]
    stage_changes: list[StageChange]
    calendar_feed: CalendarFeed | None
    requests: list[IdempotencyRecord]
    events: list[WebhookEvent]


def everything_about(session: Session, *, user: User) -> PersonRecord:
    """Every row about the person, each kind in a stable order."""
    weeks = session.exec(
        select(StoredWeek).where(StoredWeek.user_id == user.id).order_by(col(StoredWeek.week))
    ).all()
    stage_changes = session.exec(
        select(StageChange)
        .where(StageChange.user_id == user.id)
        .order_by(col(StageChange.recorded_at), col(StageChange.id))
    ).all()
    events = session.exec(
        select(WebhookEvent)
        .where(WebhookEvent.user_id == user.id)
        .order_by(col(WebhookEvent.created_at), col(WebhookEvent.id))
    ).all()
    return PersonRecord(
        user=user,
        episodes=episode_store.list_episodes(session, user_id=user.id),
        weeks=list(weeks),
        sessions=plan_store.all_sessions(session, user_id=user.id),
        stage_changes=list(stage_changes),
        calendar_feed=calendar_feeds.find(session, user_id=user.id),
        requests=idempotency.about_user(session, user_id=user.id),
        events=list(events),
    )


def last_change(session: Session, *, user: User) -> datetime:
    """The latest time anything the planner reads about the person changed."""
    latest = [user.updated_at]
    for column, owner in (
        (Episode.updated_at, Episode.user_id),
        (PlannedSessionRow.updated_at, PlannedSessionRow.user_id),
        (Completion.updated_at, Completion.user_id),
    ):
        found = session.exec(select(func.max(column)).where(owner == user.id)).one()
        if found is not None:
            latest.append(found)
    return max(latest)
