"""`db.locking.lock_row`: a row read earlier is reloaded and locked, or, if
another request deleted it meanwhile, NotFound names it (a failed reload
leaves the object without fields to name it by)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from db import episodes
from db.errors import NotFound
from db.locking import lock_row
from db.tables import Episode
from programs import Episode as EpisodeReport
from tests.conftest import NOW
from tests.db.test_repositories import new_user


def an_episode(engine: Engine) -> tuple[Session, Episode]:
    """An episode read in a session whose transaction has ended."""
    reading = Session(engine, expire_on_commit=False)
    person = new_user(reading)
    report = EpisodeReport(onset_date=date(2026, 11, 1), pain_now=3)
    row = episodes.add_episode(reading, user_id=person.id, report=report, now=NOW)
    reading.commit()
    return reading, row


def test_a_row_deleted_since_it_was_read_is_not_found_by_its_id(engine: Engine) -> None:
    reading, row = an_episode(engine)
    episode_id = row.id
    with Session(engine) as deleting:
        deleting.delete(deleting.get_one(Episode, episode_id))
        deleting.commit()
    with reading, pytest.raises(NotFound) as raised:
        lock_row(reading, row, what="episode", ident=episode_id)
    assert (raised.value.what, raised.value.ident) == ("episode", episode_id)


def test_a_row_still_there_is_reloaded_with_what_changed_meanwhile(engine: Engine) -> None:
    reading, row = an_episode(engine)
    with Session(engine) as changing:
        changing.get_one(Episode, row.id).pain_now = 7
        changing.commit()
    with reading:
        episodes.lock_episode(reading, row=row)
        assert row.pain_now == 7
        reading.rollback()
