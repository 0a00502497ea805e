"""Calendar feeds and the record of a person (db/calendar_feeds.py, db/privacy.py)."""

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from db import calendar_feeds, clients, privacy, users
from db.errors import NotFound
from db.tables import User
from programs import Profile, Weekday
from tests.conftest import NOW
from tests.db import test_repositories as repositories


def new_user(session: Session) -> User:
    client = clients.create_client(
        session,
        name="app",
        key_id=f"people{id(session)}"[:32],
        key_hash="0" * 64,
        key_prefix="bp_live_x",
        now=NOW,
    )
    return users.create_user(
        session,
        client_id=client.id,
        external_id="u",
        timezone="UTC",
        profile=Profile(training_days=(Weekday.mon, Weekday.wed), session_minutes=30),
        program_start_given=False,
        now=NOW,
    )


def test_a_feed_is_found_by_its_token_hash_until_reissued_or_revoked(session: Session) -> None:
    user = new_user(session)
    calendar_feeds.issue(session, user_id=user.id, token_hash="a" * 64, now=NOW)
    assert calendar_feeds.user_of(session, token_hash="a" * 64) is user
    calendar_feeds.issue(session, user_id=user.id, token_hash="b" * 64, now=NOW)
    assert calendar_feeds.user_of(session, token_hash="a" * 64) is None
    assert calendar_feeds.get(session, user_id=user.id).token_hash == "b" * 64
    calendar_feeds.revoke(session, user_id=user.id)
    assert calendar_feeds.user_of(session, token_hash="b" * 64) is None
    with pytest.raises(NotFound):
        calendar_feeds.revoke(session, user_id=user.id)


def test_the_record_and_its_last_change(session: Session) -> None:
    user = new_user(session)
    assert privacy.last_change(session, user=user) == NOW
    users.set_program_start(session, user=user, start=NOW.date(), now=NOW + timedelta(hours=1))
    calendar_feeds.issue(session, user_id=user.id, token_hash="c" * 64, now=NOW)
    assert privacy.last_change(session, user=user) == NOW + timedelta(hours=1)
    record = privacy.everything_about(session, user=user)
    assert record.user is user
    assert record.calendar_feed is not None
    assert (record.episodes, record.weeks, record.sessions, record.requests) == ([], [], [], [])


def test_locking_a_person_erased_since_they_were_read_is_not_found(engine: Engine) -> None:
    """A PATCH read the person, then another request erased them before the
    PATCH locked the row: a 404 naming the person, not an error of the ORM."""
    with Session(engine, expire_on_commit=False) as patching:
        person = repositories.new_user(patching)  # its client's key id is unique: it commits
        patching.commit()
        person_id, client_id = person.id, person.client_id
        with Session(engine) as erasing:
            users.delete_user(erasing, client_id=client_id, user_id=person_id, now=NOW)
            erasing.commit()
        with pytest.raises(NotFound) as raised:
            users.lock_user(patching, user=person)
    assert person_id in str(raised.value)
