"""The reads a plan or progress makes (`week_sessions`, `load_history`,
`list_reports`, `record_stage`) agree with the ORM rows they stand
in for."""

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from db import completions, episodes, plans, stages
from db.errors import NotFound
from db.tables import StageChange, User
from programs import Completion as CompletionReport
from programs import Episode as EpisodeReport
from programs import Logged, Pains, RedFlag, SessionLog
from tests.conftest import NOW
from tests.db.conftest import locked_elsewhere
from tests.db.test_repositories import new_user, planned, store


def test_week_sessions_match_the_stored_rows(session: Session) -> None:
    user = new_user(session)
    # Stored out of date order: both reads order by date, then position.
    items = [
        planned("b", date(2026, 11, 18)),
        planned("a", date(2026, 11, 16), eased=True),
        planned("c", date(2026, 11, 18)),
    ]
    store(session, user.id, "2026-W47", *items)
    store(session, user.id, "2026-W48", planned("d", date(2026, 11, 23)))
    report = CompletionReport(completed_at=NOW, pain_during=1, effort=2)
    completions.put_completion(
        session, user_id=user.id, session_id="c", report=report, notes=None, now=NOW
    )
    read = plans.week_sessions(session, user_id=user.id, week="2026-W47")
    rows = plans.load_week(session, user_id=user.id, week="2026-W47")
    assert [item.id for item in read] == [item.row.id for item in rows] == ["a", "b", "c"]
    assert [item.date for item in read] == [item.row.date for item in rows]
    assert [item.done for item in read] == [item.completion is not None for item in rows]
    assert [item.done for item in read] == [False, False, True]
    assert [item.planned for item in read] == [item.planned for item in rows]
    assert read[0].planned.eased
    assert plans.week_sessions(session, user_id=user.id, week="2026-W49") == []


def test_history_reads_completions_with_every_field(session: Session) -> None:
    user = new_user(session)
    items = [planned("a", date(2026, 11, 16)), planned("b", date(2026, 11, 18))]
    store(session, user.id, "2026-W47", *items)
    full = CompletionReport(
        completed_at=NOW - timedelta(days=2),
        pain_during=3,
        effort=7,
        pain_before=2,
        pain_next_morning=4,
        skipped=("bird-dog", "side-plank-knees"),
    )
    bare = CompletionReport(completed_at=NOW, pain_during=0, effort=1)
    for session_id, report in (("a", full), ("b", bare)):
        completions.put_completion(
            session, user_id=user.id, session_id=session_id, report=report, notes=None, now=NOW
        )
    history = plans.load_history(session, user_id=user.id)
    assert [log.completion for log in history] == [
        Pains(pain_during=3, pain_before=2, pain_next_morning=4),
        Pains(pain_during=0),
    ]


def test_history_matches_the_rows_as_sqlalchemy_reads_them(session: Session) -> None:
    # The history reads dates from the driver itself; SQLAlchemy's column
    # type (`DATE`) reads the same values. The engine replays it as it would
    # the full `SessionLog`s: each field it reads is the same.
    user = new_user(session)
    weeks = {
        "2026-W53": [planned("a", date(2026, 12, 28)), planned("b", date(2027, 1, 2))],
        "2027-W01": [planned("c", date(2027, 1, 4)), planned("d", date(2027, 1, 9))],
    }
    for week, items in weeks.items():
        store(session, user.id, week, *items)
    reports = {
        # Another offset, microseconds, and none: each comes back UTC.
        "a": CompletionReport(
            completed_at=datetime(
                2026, 12, 28, 19, 30, 5, 123456, tzinfo=timezone(timedelta(hours=2))
            ),
            pain_during=4,
            effort=6,
            pain_next_morning=5,
            skipped=("bird-dog",),
        ),
        "b": CompletionReport(
            completed_at=datetime(2027, 1, 2, 0, 0, tzinfo=UTC), pain_during=0, effort=0
        ),
        "d": CompletionReport(
            completed_at=NOW, pain_during=10, effort=10, pain_before=0, skipped=("a", "b")
        ),
    }
    for session_id, report in reports.items():
        completions.put_completion(
            session, user_id=user.id, session_id=session_id, report=report, notes=None, now=NOW
        )
    rows = [item for week in weeks for item in plans.load_week(session, user_id=user.id, week=week)]
    full = [
        SessionLog(
            session_id=item.row.id,
            date=item.row.date,
            aerobic_minutes=item.row.aerobic_minutes,
            strength_seconds=item.row.strength_seconds,
            completion=None if item.completion is None else plans.report_of(item.completion),
        )
        for item in rows
    ]
    history = plans.load_history(session, user_id=user.id)
    assert [log.completion for log in full] == [reports["a"], reports["b"], None, reports["d"]]
    assert [_replayed(log) for log in history] == [_replayed(log) for log in full]
    for log in history:
        assert type(log.date) is date
        assert type(log.aerobic_minutes) is int
        if log.completion is not None:
            assert all(type(pain) in {int, type(None)} for pain in log.completion)


def _replayed(log: Logged) -> tuple[object, ...]:
    """What the engine reads of a history's session (`programs.Logged`)."""
    done = log.completion
    pains = None if done is None else (done.pain_during, done.pain_before, done.pain_next_morning)
    return (log.session_id, log.date, log.aerobic_minutes, pains)


def test_reports_match_the_episode_rows(session: Session) -> None:
    user = new_user(session)
    assert episodes.list_reports(session, user_id=user.id) == []
    for report in (
        EpisodeReport(onset_date=date(2026, 10, 1), pain_now=2, resolved_on=date(2026, 10, 9)),
        EpisodeReport(
            onset_date=date(2026, 9, 1),
            pain_now=7,
            red_flags=(RedFlag.fever, RedFlag.major_trauma),
            cleared_by_clinician=True,
        ),
    ):
        episodes.add_episode(session, user_id=user.id, report=report, now=NOW)
    rows = episodes.list_episodes(session, user_id=user.id)
    assert episodes.list_reports(session, user_id=user.id) == [
        episodes.report_of(row) for row in rows
    ]


def test_a_stage_is_recorded_against_the_latest_one(session: Session) -> None:
    user = new_user(session)

    def recorded() -> list[tuple[int, date]]:
        statement = (
            select(StageChange)
            .where(StageChange.user_id == user.id)
            .order_by(col(StageChange.recorded_at))
        )
        return [(row.stage, row.since) for row in session.exec(statement)]

    for days, stage in ((0, 1), (1, 1), (7, 2), (8, 2), (14, 1), (15, 1)):
        stages.record_stage(
            session,
            user_id=user.id,
            stage=stage,
            since=date(2026, 11, 2) + timedelta(days=days),
            now=NOW + timedelta(days=days),
        )
    assert recorded() == [(1, date(2026, 11, 2)), (2, date(2026, 11, 9)), (1, date(2026, 11, 16))]


def test_planning_reads_read_what_recording_the_stage_reads(session: Session) -> None:
    user = new_user(session, external_id="stage-reader")
    first = plans.planning_reads(session, user_id=user.id, week=None).stage
    assert first == stages.StageReads(person=(user.client_id, "stage-reader"), latest=None)
    stages.record_stage(session, user_id=user.id, stage=2, since=date(2026, 11, 9), now=NOW)
    assert plans.planning_reads(session, user_id=user.id, week="2026-W47").stage.latest == 2
    nobody = plans.planning_reads(session, user_id="nobody", week=None).stage
    assert nobody == stages.StageReads(person=None, latest=None)


def test_a_stage_read_ahead_is_not_read_again(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = new_user(session, external_id="read-ahead")
    read = plans.planning_reads(session, user_id=user.id, week=None).stage

    def read_again(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("read again")

    monkeypatch.setattr(stages, "read_together", read_again)
    since = date(2026, 11, 2)
    change = stages.record_stage(session, user_id=user.id, stage=1, since=since, now=NOW, read=read)
    assert change is not None
    assert (change.stage, change.since) == (1, since)
    # Read once more after the change: the same stage is not recorded twice.
    again = plans.planning_reads(session, user_id=user.id, week=None).stage
    assert again.latest == 1
    assert (
        stages.record_stage(session, user_id=user.id, stage=1, since=since, now=NOW, read=again)
        is None
    )
    with pytest.raises(NotFound):
        stages.record_stage(
            session,
            user_id="nobody",
            stage=1,
            since=since,
            now=NOW,
            read=stages.StageReads(person=None, latest=None),
        )


def test_person_and_reads_read_the_user_row_and_what_planning_reads_read(
    session: Session,
) -> None:
    user = new_user(session, external_id="all-at-once")
    store(session, user.id, "2026-W47", planned("a", date(2026, 11, 16)))
    store(session, user.id, "2026-W48", planned("b", date(2026, 11, 23)))
    store(session, user.id, "2026-W49", planned("c", date(2026, 11, 30)))
    report = CompletionReport(completed_at=NOW, pain_during=1, effort=2)
    completions.put_completion(
        session, user_id=user.id, session_id="b", report=report, notes=None, now=NOW
    )
    onset = EpisodeReport(onset_date=date(2026, 10, 1), pain_now=3, resolved_on=date(2026, 10, 5))
    episodes.add_episode(session, user_id=user.id, report=onset, now=NOW)
    stages.record_stage(session, user_id=user.id, stage=2, since=date(2026, 11, 9), now=NOW)
    asked: list[plans.Person] = []

    def week_of(person: plans.Person) -> str:
        asked.append(person)
        return "2026-W48"

    # The week asked for lies among those read ahead; then one read outside them.
    for weeks in [("2026-W48", "2026-W49"), ("2026-W47", "2026-W48"), ("2026-W50", "2026-W50")]:
        person, read = plans.person_and_reads(
            session, client_id=user.client_id, user_id=user.id, weeks=weeks, week_of=week_of
        )
        assert person == plans.person_of(user)
        assert asked[-1] == person
        expected = plans.planning_reads(session, user_id=user.id, week="2026-W48")
        assert read == expected
        assert [item.id for item in read.week or []] == ["b"]
        assert read.week is not None
        assert read.week[0].done
        assert read.stage == stages.StageReads(person=(user.client_id, "all-at-once"), latest=2)
        assert len(read.episodes) == 1
        assert [log.session_id for log in read.history] == ["a", "b", "c"]
    # No week read ahead, and none wanted.
    person, read = plans.person_and_reads(
        session, client_id=user.client_id, user_id=user.id, weeks=None, week_of=lambda _: None
    )
    assert read == plans.planning_reads(session, user_id=user.id, week=None)
    assert read.week is None


def test_person_and_reads_find_only_the_clients_user(session: Session) -> None:
    user = new_user(session)
    other = new_user(session, external_id="another").client_id
    for client_id, user_id in [(other, user.id), (user.client_id, "nobody")]:
        with pytest.raises(NotFound):
            plans.person_and_reads(
                session, client_id=client_id, user_id=user_id, weeks=None, week_of=lambda _: None
            )


@pytest.mark.postgres
def test_planning_reads_lock_the_person_until_the_transaction_ends(pg_scratch: Engine) -> None:
    """Two first serves for one person both read the latest stage: the
    second waits for the first's lock, and so sees the stage it recorded."""
    engine = pg_scratch
    with Session(engine) as setup:
        user_id = new_user(setup).id
        setup.commit()
        client_id = setup.get_one(User, user_id).client_id

    def person_and_reads(planning: Session) -> object:
        return plans.person_and_reads(
            planning,
            client_id=client_id,
            user_id=user_id,
            weeks=("2026-W47", "2026-W48"),
            week_of=lambda _: "2026-W47",
        )

    def planning_reads(planning: Session) -> object:
        return plans.planning_reads(planning, user_id=user_id, week=None)

    for read in (planning_reads, person_and_reads):
        with Session(engine) as planning:
            read(planning)
            assert locked_elsewhere(engine, user_id)
            planning.rollback()
        assert not locked_elsewhere(engine, user_id)
