"""A batch of first serves: what `db.plans.read_ahead` reads for all its
people at once is what `person_and_reads` would read of each, found without
reading again, once per person; its people stay locked; and the weeks it
stores wait for its end unless their person is read again."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from db import completions, episodes, plans, stages
from db.errors import NotFound
from db.plans import PlanHint
from db.raw import deferred
from db.tables import User
from programs import Completion as CompletionReport
from programs import Episode as EpisodeReport
from tests.conftest import NOW
from tests.db.conftest import locked_elsewhere
from tests.db.test_repositories import new_client, new_user, planned, store

W47, W48, W49 = "2026-W47", "2026-W48", "2026-W49"


def people(session: Session) -> list[User]:
    """Three people of one client: one with episodes, stages, two stored
    weeks and a completion; one with nothing; one with only a stage."""
    client_id = new_client(session, "ahead")
    full, bare, staged = (
        new_user(session, client_id=client_id, external_id=name)
        for name in ("full", "bare", "staged")
    )
    store(session, full.id, W47, planned("a", date(2026, 11, 16)), planned("b", date(2026, 11, 18)))
    store(session, full.id, W48, planned("c", date(2026, 11, 23)))
    report = CompletionReport(completed_at=NOW, pain_during=2, effort=3)
    completions.put_completion(
        session, user_id=full.id, session_id="b", report=report, notes=None, now=NOW
    )
    for onset in (date(2026, 9, 1), date(2026, 10, 1)):
        episode = EpisodeReport(onset_date=onset, pain_now=3, resolved_on=onset)
        episodes.add_episode(session, user_id=full.id, report=episode, now=NOW)
    for stage, since in ((1, date(2026, 11, 2)), (2, date(2026, 11, 9))):
        stages.record_stage(session, user_id=full.id, stage=stage, since=since, now=NOW)
    stages.record_stage(session, user_id=staged.id, stage=3, since=date(2026, 11, 9), now=NOW)
    return [full, bare, staged]


def read(
    session: Session, user: User, weeks: tuple[str, str] | None, week: str | None
) -> tuple[plans.Person, plans.PlanningReads]:
    return plans.person_and_reads(
        session, client_id=user.client_id, user_id=user.id, weeks=weeks, week_of=lambda _: week
    )


def reads_counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The people `person_and_reads` read for itself."""
    reads: list[str] = []
    original = plans._read_for_planning

    def counted(session: Session, *, user_id: str, **kwargs: Any) -> Any:
        reads.append(user_id)
        return original(session, user_id=user_id, **kwargs)

    monkeypatch.setattr(plans, "_read_for_planning", counted)
    return reads


def test_what_is_read_ahead_is_what_each_person_would_read(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    full, bare, staged = people(session)
    # Each person's weeks differ; the week wanted lies among them, or is none.
    asked = [(full, (W47, W48), W47), (bare, None, None), (staged, (W48, W49), W48)]
    expected = [read(session, user, weeks, week) for user, weeks, week in asked]
    assert expected[0][1].stage.latest == 2
    assert [item.id for item in expected[0][1].week or []] == ["a", "b"]
    assert [item.done for item in expected[0][1].week or []] == [False, True]
    assert len(expected[0][1].episodes) == 2
    assert expected[2][1].stage.latest == 3
    reads = reads_counted(monkeypatch)
    hints = [PlanHint(user.client_id, user.id, weeks) for user, weeks, _week in asked]
    plans.read_ahead(session, [hints[0], None, *hints[1:]])
    found = [read(session, user, weeks, week) for user, weeks, week in asked]
    assert found == expected
    on_postgres = session.get_bind().dialect.name == "postgresql"
    # PostgreSQL reads ahead; SQLite, whose reads take no round trip, does not.
    assert reads == ([] if on_postgres else [full.id, bare.id, staged.id])


@pytest.mark.postgres
def test_a_person_read_ahead_is_read_again_once_their_reads_were_taken(
    pg_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As in a batch: two first serves of one person. The second sees the
    week the first stored."""
    session = pg_session
    full, _bare, staged = people(session)
    reads = reads_counted(monkeypatch)
    hint = PlanHint(staged.client_id, staged.id, (W48, W49))
    plans.read_ahead(session, [hint, hint])
    _person, first = read(session, staged, (W48, W49), W48)
    assert first.week == []
    store(session, staged.id, W48, planned("d", date(2026, 11, 24)))
    _person, second = read(session, staged, (W48, W49), W48)
    assert [item.id for item in second.week or []] == ["d"]
    assert reads == [staged.id]
    # Weeks outside those read ahead: read again, the week as it is.
    plans.read_ahead(session, [PlanHint(full.client_id, full.id, (W48, W48))])
    _person, other = read(session, full, (W47, W48), W47)
    assert [item.id for item in other.week or []] == ["a", "b"]
    assert reads == [staged.id, full.id]


@pytest.mark.postgres
def test_read_ahead_finds_only_the_clients_users(
    pg_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = pg_session
    full, _bare, _staged = people(session)
    another = new_client(session, "another")
    plans.read_ahead(
        session,
        [PlanHint(another, full.id, (W47, W48)), PlanHint(full.client_id, "nobody", None)],
    )
    for client_id, user_id in [(another, full.id), (full.client_id, "nobody")]:
        with pytest.raises(NotFound):
            plans.person_and_reads(
                session, client_id=client_id, user_id=user_id, weeks=None, week_of=lambda _: None
            )
    # A read ahead for another client's ask is not the client's: read again.
    plans.read_ahead(session, [PlanHint(another, full.id, None)])
    reads = reads_counted(monkeypatch)
    person, _found = read(session, full, None, None)
    assert person.id == full.id
    assert reads == [full.id]


@pytest.mark.postgres
def test_read_ahead_locks_its_people_until_the_transaction_ends(pg_scratch: Engine) -> None:
    with Session(pg_scratch) as setup:
        asked = people(setup)
        setup.commit()
        hints = [PlanHint(user.client_id, user.id, (W47, W48)) for user in asked]
    with Session(pg_scratch) as planning:
        plans.read_ahead(planning, hints)
        assert all(locked_elsewhere(pg_scratch, user.id) for user in asked)
        planning.rollback()
    assert not any(locked_elsewhere(pg_scratch, user.id) for user in asked)


def test_a_week_waiting_in_a_batch_is_run_before_its_person_is_read_again(
    session: Session,
) -> None:
    """In a batch, weeks stored wait to run as it ends (`db.raw.deferred`):
    reading someone else leaves them waiting, reading their person runs them."""
    _full, bare, staged = people(session)

    def weeks_stored(user: User) -> int:
        count = "SELECT count(*) FROM stored_weeks WHERE user_id = :id"
        return int(session.execute(text(count), {"id": user.id}).scalar_one())

    with deferred(session):
        store(session, bare.id, W48, planned("x", date(2026, 11, 23)))
        _person, other = read(session, staged, (W48, W48), W48)
        assert other.week == []
        assert weeks_stored(bare) == 0  # still waiting
        _person, again = read(session, bare, (W48, W48), W48)
        assert [item.id for item in again.week or []] == ["x"]
        assert weeks_stored(bare) == 1
        assert [item.id for item in plans.week_sessions(session, user_id=bare.id, week=W48)] == [
            "x"
        ]
