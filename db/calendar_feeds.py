"""Secret calendar feeds: one per person, found by the SHA-256 of its token."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from db.errors import NotFound
from db.tables import CalendarFeed, User


def issue(session: Session, *, user_id: str, token_hash: str, now: datetime) -> CalendarFeed:
    """The person's feed with a new token; the old token stops working."""
    feed = session.get(CalendarFeed, user_id)
    if feed is None:
        feed = CalendarFeed(user_id=user_id, token_hash=token_hash, created_at=now)
    else:
        feed.token_hash = token_hash
        feed.created_at = now
    session.add(feed)
    session.flush()
    return feed


def get(session: Session, *, user_id: str) -> CalendarFeed:
    feed = session.get(CalendarFeed, user_id)
    if feed is None:
        raise NotFound("calendar feed of user", user_id)
    return feed


def find(session: Session, *, user_id: str) -> CalendarFeed | None:
    return session.get(CalendarFeed, user_id)


def revoke(session: Session, *, user_id: str) -> None:
    session.delete(get(session, user_id=user_id))
    session.flush()


def user_of(session: Session, *, token_hash: str) -> User | None:
    """The person whose feed has this token, if any."""
    statement = (
        select(User)
        .join(CalendarFeed, col(CalendarFeed.user_id) == col(User.id))
        .where(CalendarFeed.token_hash == token_hash)
    )
    return session.exec(statement).first()
