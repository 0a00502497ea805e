"""Users: the people a client registers."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db import changes, idempotency, outbox
from db.errors import Conflict, NotFound
from db.locking import lock_row
from db.outbox import EventType
from db.pages import Position, page_by_creation
from db.tables import StoredWeek, User
from programs import Profile


def create_user(
    session: Session,
    *,
    client_id: str,
    external_id: str,
    timezone: str,
    profile: Profile,
    program_start_given: bool,
    now: datetime,
    session_time: time = time(18, 0),
) -> User:
    """A new user; Conflict when the client already uses `external_id`."""
    _check_external_id_free(session, client_id=client_id, external_id=external_id)
    user = User(
        client_id=client_id,
        external_id=external_id,
        timezone=timezone,
        session_time=session_time,
        training_days=[],
        session_minutes=profile.session_minutes,
        fitness_level=profile.fitness_level.value,
        program_start_given=program_start_given,
        created_at=now,
        updated_at=now,
    )
    for key, value in _profile_columns(profile).items():
        setattr(user, key, value)
    _flush_guarded(session, user)
    return user


# Built once: every request about a user runs it.
_CLIENTS_USER = select(User).where(
    User.id == bindparam("user_id"), User.client_id == bindparam("client_id")
)


def get_user(session: Session, *, client_id: str, user_id: str) -> User:
    """The client's user; NotFound for an unknown id and for another client's user alike."""
    params = {"user_id": user_id, "client_id": client_id}
    user = session.exec(_CLIENTS_USER, params=params).first()
    if user is None:
        raise NotFound("user", user_id)
    return user


def lock_user(session: Session, *, user: User) -> None:
    """Reload the user and lock the row until the transaction ends (PostgreSQL;
    SQLite's write transactions hold the whole database already). NotFound
    when a concurrent request erased the user meanwhile."""
    lock_row(session, user, what="user", ident=user.id)


def find_users(
    session: Session,
    *,
    client_id: str,
    external_id: str | None,
    after: Position | None,
    limit: int,
) -> list[User]:
    """The client's users, oldest first, optionally only the one with `external_id`."""
    statement = select(User).where(User.client_id == client_id)
    if external_id is not None:
        statement = statement.where(User.external_id == external_id)
    statement = page_by_creation(
        statement, created=col(User.created_at), ident=col(User.id), after=after, limit=limit
    )
    return list(session.exec(statement).all())


def update_user(
    session: Session,
    *,
    user: User,
    external_id: str,
    timezone: str,
    profile: Profile,
    program_start_given: bool,
    now: datetime,
    session_time: time | None = None,
) -> User:
    """Overwrite the user's fields; Conflict when `external_id` is taken."""
    if external_id != user.external_id:
        _check_external_id_free(session, client_id=user.client_id, external_id=external_id)
    values = {
        "external_id": external_id,
        "timezone": timezone,
        "session_time": user.session_time if session_time is None else session_time,
        "program_start_given": program_start_given,
        **_profile_columns(profile),
    }
    _update(session, user, values, now=now)
    return user


def set_program_start(session: Session, *, user: User, start: date | None, now: datetime) -> None:
    """Record the computed default start (the user did not give one)."""
    _update(session, user, {"program_start": start}, now=now)


def has_stored_weeks(session: Session, *, user_id: str) -> bool:
    """Whether any week of the user's program was served and stored."""
    found = session.exec(select(StoredWeek.week).where(StoredWeek.user_id == user_id).limit(1))
    return found.first() is not None


def delete_user(session: Session, *, client_id: str, user_id: str, now: datetime) -> None:
    """Delete the user and, by ON DELETE CASCADE, every row about them; and
    the stored responses of requests about them, and the webhook events about
    them, except the `user.deleted` event this emits (ids only)."""
    user = get_user(session, client_id=client_id, user_id=user_id)
    # The person's row first, as an update does (`lock_user`): erasing their
    # stored responses first would lock a concurrent update's own claim row
    # while waiting for the row it holds, a deadlock on PostgreSQL.
    lock_user(session, user=user)
    idempotency.forget_user(session, user_id=user_id)
    outbox.erase_user_events(session, user_id=user_id)
    outbox.emit_for_user(session, user=user, type=EventType.user_deleted, now=now)
    session.delete(user)
    session.flush()
    changes.announce(session, changes.user_topic(user_id))
    # Child rows went with the database cascade; forget any loaded copies.
    session.expunge_all()


def _profile_columns(profile: Profile) -> dict[str, object]:
    return {
        "training_days": [day.value for day in profile.training_days],
        "session_minutes": profile.session_minutes,
        "fitness_level": profile.fitness_level.value,
        "equipment": [item.value for item in profile.equipment],
        "aerobic_activities": [item.value for item in profile.aerobic_activities],
        "birth_year": profile.birth_year,
        "program_start": profile.program_start,
    }


def profile_of(user: User) -> Profile:
    """The user's fields as the engine's profile."""
    return Profile.model_validate(
        {
            "training_days": user.training_days,
            "session_minutes": user.session_minutes,
            "fitness_level": user.fitness_level,
            "equipment": user.equipment,
            "aerobic_activities": user.aerobic_activities,
            "birth_year": user.birth_year,
            "program_start": user.program_start,
        }
    )


def _update(session: Session, user: User, values: dict[str, object], *, now: datetime) -> None:
    changed = {key: value for key, value in values.items() if getattr(user, key) != value}
    if not changed:
        return
    for key, value in changed.items():
        setattr(user, key, value)
    user.updated_at = now
    session.add(user)
    _flush_guarded(session, user)
    changes.announce(session, changes.user_topic(user.id))


def _check_external_id_free(session: Session, *, client_id: str, external_id: str) -> None:
    taken = session.exec(
        select(User.id).where(User.client_id == client_id, User.external_id == external_id)
    ).first()
    if taken is not None:
        raise _taken(external_id)


def _flush_guarded(session: Session, user: User) -> None:
    # The check above misses a concurrent insert; the unique constraint does not.
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError as exc:
        raise _taken(user.external_id) from exc


def _taken(external_id: str) -> Conflict:
    return Conflict(
        f"external_id {external_id!r} is already used by another of your users",
        field="external_id",
    )
