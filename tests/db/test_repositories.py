import threading
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db import changes, clients, completions, episodes, plans, stages, users
from db.errors import Conflict, NotFound
from db.plans import SessionToStore
from db.raw import deferred, savepoint
from db.tables import (
    ApiKey,
    Completion,
    Episode,
    PlannedSessionRow,
    StageChange,
    StoredWeek,
    User,
)
from programs import Block, BlockType, Pains, PlannedSession, Profile, Weekday
from programs import Completion as CompletionReport
from programs import Episode as EpisodeReport
from tests.conftest import NOW

PROFILE = Profile(training_days=(Weekday.mon, Weekday.wed), session_minutes=30)


def new_client(session: Session, name: str = "app") -> str:
    client = clients.create_client(
        session,
        name=name,
        # Unique per call: object ids repeat, and some tests commit their rows.
        key_id=uuid.uuid4().hex,
        key_hash="0" * 64,
        key_prefix="bp_live_x",
        now=NOW,
    )
    return client.id


def new_user(session: Session, client_id: str | None = None, external_id: str = "u") -> User:
    return users.create_user(
        session,
        client_id=client_id or new_client(session),
        external_id=external_id,
        timezone="UTC",
        profile=PROFILE,
        program_start_given=False,
        now=NOW,
    )


def planned(session_id: str, day: date, *, eased: bool = False) -> SessionToStore:
    session = PlannedSession(
        id=session_id,
        date=day,
        minutes=20,
        blocks=(Block(type=BlockType.warm_up, minutes=20, exercises=()),),
        eased=eased,
    )
    return SessionToStore(planned=session, aerobic_minutes=10, strength_seconds=90)


def store(session: Session, user_id: str, week: str, *sessions: SessionToStore) -> None:
    """Store a week of `sessions` as the service does when first serving it."""
    plans.store_week(session, user_id=user_id, week=week, sessions=sessions, now=NOW)


def test_finds_only_active_keys(session: Session) -> None:
    client_id = new_client(session, "k")
    key = session.exec(select(ApiKey).where(ApiKey.client_id == client_id)).one()
    found = clients.find_active_key(session, key_id=key.id)
    assert found is not None
    assert found[1].id == client_id
    key.revoked_at = NOW
    session.add(key)
    session.flush()
    assert clients.find_active_key(session, key_id=key.id) is None
    assert clients.find_active_key(session, key_id="unknown") is None


def test_users_belong_to_their_client(session: Session) -> None:
    user = new_user(session)
    other_client = new_client(session, "other")
    assert users.get_user(session, client_id=user.client_id, user_id=user.id) is user
    with pytest.raises(NotFound):
        users.get_user(session, client_id=other_client, user_id=user.id)
    assert (
        users.find_users(session, client_id=other_client, external_id=None, after=None, limit=10)
        == []
    )
    assert users.profile_of(user) == PROFILE


def test_external_ids_are_unique_per_client(session: Session) -> None:
    user = new_user(session, external_id="same")
    with pytest.raises(Conflict) as raised:
        new_user(session, client_id=user.client_id, external_id="same")
    assert raised.value.field == "external_id"
    other = new_user(session, client_id=user.client_id, external_id="other")
    with pytest.raises(Conflict):
        users.update_user(
            session,
            user=other,
            external_id="same",
            timezone="UTC",
            profile=PROFILE,
            program_start_given=False,
            now=NOW,
        )
    # The session is still usable after a conflict.
    assert new_user(session, client_id=user.client_id, external_id="third").id


def test_an_unchanged_update_keeps_updated_at(session: Session) -> None:
    user = new_user(session)
    users.update_user(
        session,
        user=user,
        external_id="u",
        timezone="UTC",
        profile=PROFILE,
        program_start_given=False,
        now=NOW + timedelta(hours=1),
    )
    assert user.updated_at == NOW


def test_episodes_keep_report_order(session: Session) -> None:
    user = new_user(session)
    for onset in (date(2026, 10, 1), date(2026, 9, 1)):
        episodes.add_episode(
            session, user_id=user.id, report=EpisodeReport(onset_date=onset, pain_now=2), now=NOW
        )
    rows = episodes.list_episodes(session, user_id=user.id)
    assert [row.seq for row in rows] == [1, 2]
    assert [row.onset_date for row in rows] == [date(2026, 10, 1), date(2026, 9, 1)]
    report = episodes.report_of(rows[0])
    episodes.update_episode(session, row=rows[0], report=report, now=NOW + timedelta(days=1))
    assert rows[0].updated_at == NOW


def test_a_week_is_stored_once_a_second_store_breaks_its_key(session: Session) -> None:
    """Nothing is stored twice, nor over what is stored: as the statements
    run, or, in a deferred block (a batch of first serves), as it ends."""
    user = new_user(session)
    first = [planned("a", date(2026, 11, 16)), planned("b", date(2026, 11, 18))]
    store(session, user.id, "2026-W47", *first)
    with pytest.raises(IntegrityError), savepoint(session):
        store(session, user.id, "2026-W47", planned("c", date(2026, 11, 17)))

    def twice_in_a_batch() -> None:
        with savepoint(session), deferred(session):
            store(session, user.id, "2026-W48", planned("d", date(2026, 11, 23)))
            store(session, user.id, "2026-W48", planned("e", date(2026, 11, 24)))

    with pytest.raises(IntegrityError):
        twice_in_a_batch()
    stored = plans.load_week(session, user_id=user.id, week="2026-W47")
    assert [item.row.id for item in stored] == ["a", "b"]
    assert stored[0].planned == first[0].planned
    assert plans.load_week(session, user_id=user.id, week="2026-W48") == []


def test_a_stored_week_keeps_every_column_of_its_sessions(session: Session) -> None:
    """Each stored session keeps its place in the week, its volumes and its
    times, whatever the backend's way of writing them."""
    user = new_user(session)
    items = [
        planned("b", date(2026, 11, 18)),
        planned("a", date(2026, 11, 16), eased=True),
        SessionToStore(
            planned=planned("c", date(2026, 11, 20)).planned,
            aerobic_minutes=25,
            strength_seconds=0,
        ),
    ]
    store(session, user.id, "2026-W47", *items)
    assert changes.user_topic(user.id) in changes.announced(session)
    rows = session.exec(
        select(PlannedSessionRow)
        .where(PlannedSessionRow.user_id == user.id)
        .order_by(col(PlannedSessionRow.position))
    ).all()
    assert [
        (row.id, row.week, row.date, row.position, row.eased, row.aerobic_minutes) for row in rows
    ] == [
        ("b", "2026-W47", date(2026, 11, 18), 0, False, 10),
        ("a", "2026-W47", date(2026, 11, 16), 1, True, 10),
        ("c", "2026-W47", date(2026, 11, 20), 2, False, 25),
    ]
    assert [row.strength_seconds for row in rows] == [90, 90, 0]
    assert {row.created_at for row in rows} == {row.updated_at for row in rows} == {NOW}
    assert [
        item.planned for item in plans.load_week(session, user_id=user.id, week="2026-W47")
    ] == [
        items[1].planned,
        items[0].planned,
        items[2].planned,
    ]
    week = session.get(StoredWeek, (user.id, "2026-W47"))
    assert week is not None
    assert week.stored_at == NOW


def test_history_carries_completions(session: Session) -> None:
    user = new_user(session)
    items = [planned("a", date(2026, 11, 16)), planned("b", date(2026, 11, 18))]
    store(session, user.id, "2026-W47", *items)
    report = CompletionReport(completed_at=NOW, pain_during=2, effort=3, skipped=("x",))
    _row, created = completions.put_completion(
        session, user_id=user.id, session_id="a", report=report, notes="ok", now=NOW
    )
    assert created
    history = plans.load_history(session, user_id=user.id)
    assert [log.session_id for log in history] == ["a", "b"]
    assert history[0].completion == Pains(pain_during=2)
    assert history[0].aerobic_minutes == 10
    assert history[1].completion is None


def test_an_identical_completion_changes_nothing(session: Session) -> None:
    user = new_user(session)
    store(session, user.id, "2026-W47", planned("a", date(2026, 11, 16)))
    report = CompletionReport(completed_at=NOW, pain_during=2, effort=3)
    completions.put_completion(
        session, user_id=user.id, session_id="a", report=report, notes=None, now=NOW
    )
    later = NOW + timedelta(hours=2)
    row, created = completions.put_completion(
        session, user_id=user.id, session_id="a", report=report, notes=None, now=later
    )
    assert not created
    assert row.updated_at == NOW
    changed = report.model_copy(update={"pain_next_morning": 1})
    row, _ = completions.put_completion(
        session, user_id=user.id, session_id="a", report=changed, notes=None, now=later
    )
    assert row.updated_at == later
    completions.delete_completion(session, user_id=user.id, session_id="a")
    with pytest.raises(NotFound):
        completions.get_completion(session, user_id=user.id, session_id="a")


def test_replacing_a_session_keeps_its_id(session: Session) -> None:
    user = new_user(session)
    store(session, user.id, "2026-W47", planned("a", date(2026, 11, 18)))
    row = plans.get_session_row(session, user_id=user.id, session_id="a")
    plans.replace_session(
        session, row=row, item=planned("a", date(2026, 11, 18), eased=True), now=NOW
    )
    assert row.eased
    assert plans.load_week(session, user_id=user.id, week="2026-W47")[0].planned.eased
    with pytest.raises(ValueError, match="cannot replace"):
        plans.replace_session(session, row=row, item=planned("z", date(2026, 11, 18)), now=NOW)
    with pytest.raises(NotFound):
        plans.get_session_row(session, user_id=user.id, session_id="z")


def latest_stage(session: Session, user_id: str) -> StageChange | None:
    """The person's stage change recorded last."""
    statement = (
        select(StageChange)
        .where(StageChange.user_id == user_id)
        .order_by(col(StageChange.recorded_at).desc(), col(StageChange.since).desc())
        .limit(1)
    )
    return session.exec(statement).first()


def test_stage_changes_are_recorded_only_when_the_stage_moves(session: Session) -> None:
    user = new_user(session)
    assert latest_stage(session, user.id) is None
    first = stages.record_stage(session, user_id=user.id, stage=1, since=date(2026, 11, 2), now=NOW)
    assert first is not None
    assert (
        stages.record_stage(
            session, user_id=user.id, stage=1, since=date(2026, 11, 2), now=NOW + timedelta(days=1)
        )
        is None
    )
    second = stages.record_stage(
        session, user_id=user.id, stage=2, since=date(2026, 11, 16), now=NOW + timedelta(days=14)
    )
    assert second is not None
    latest = latest_stage(session, user.id)
    assert latest is not None
    assert latest.stage == 2


def test_deleting_a_user_cascades(session: Session) -> None:
    user = new_user(session)
    episodes.add_episode(
        session,
        user_id=user.id,
        report=EpisodeReport(onset_date=date(2026, 9, 1), pain_now=1),
        now=NOW,
    )
    store(session, user.id, "2026-W47", planned("a", date(2026, 11, 16)))
    completions.put_completion(
        session,
        user_id=user.id,
        session_id="a",
        report=CompletionReport(completed_at=NOW, pain_during=1, effort=1),
        notes=None,
        now=NOW,
    )
    stages.record_stage(session, user_id=user.id, stage=1, since=date(2026, 11, 16), now=NOW)
    users.delete_user(session, client_id=user.client_id, user_id=user.id, now=NOW)
    for column in (
        Episode.user_id,
        StoredWeek.user_id,
        PlannedSessionRow.user_id,
        Completion.user_id,
        StageChange.user_id,
    ):
        count = session.exec(select(func.count()).where(column == user.id)).one()
        assert count == 0, column
    with pytest.raises(NotFound):
        users.delete_user(session, client_id=user.client_id, user_id=user.id, now=NOW)


def test_two_first_requests_at_once_store_the_week_once(engine: Engine) -> None:
    """As the service serves a week first (`api.planning`): the week is read
    under the person's lock and stored only if it has no sessions. The
    second request waits for the first's lock (PostgreSQL) or write lock
    (SQLite), then finds the first's week."""
    with Session(engine, expire_on_commit=False) as setup:
        user = new_user(setup, external_id="concurrent")
        setup.commit()
    outcome: dict[str, object] = {}

    def first_serve(session: Session, session_id: str) -> bool:
        reads = plans.planning_reads(session, user_id=user.id, week="2026-W47")
        if reads.week:
            return False
        store(session, user.id, "2026-W47", planned(session_id, date(2026, 11, 16)))
        return True

    def second_request() -> None:
        with Session(engine) as other:
            outcome["stored"] = first_serve(other, "late")
            outcome["ids"] = [log.session_id for log in plans.load_history(other, user_id=user.id)]
            other.commit()

    with Session(engine) as first:
        assert first_serve(first, "early")
        thread = threading.Thread(target=second_request)
        thread.start()
        thread.join(timeout=0.3)
        assert thread.is_alive(), "the second request waits for the first to commit"
        first.commit()
    thread.join(timeout=10)
    assert outcome == {"stored": False, "ids": ["early"]}
    with Session(engine) as cleanup:
        users.delete_user(cleanup, client_id=user.client_id, user_id=user.id, now=NOW)
        cleanup.commit()
