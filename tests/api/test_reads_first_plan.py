"""A week served for the first time: one writer transaction, its sessions
serialized once, and the very bytes a later read of the stored week gives."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import available_timezones

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, event
from sqlmodel import Session

from api import planning, reads
from api.batching import GroupCommit
from api.caching import Body, Caches
from db import plans as plan_store
from db.engine import READ_ONLY_OPTION
from db.errors import NotFound
from db.raw import Raw
from programs import IsoWeek, PlannedSession
from tests.api.test_batching import commits_counted
from tests.conftest import NOW, Api, register, unlimited_api
from tests.db.test_plans_read_ahead import reads_counted
from tests.programs.simulate import profile, simulate


@pytest.fixture
def quiet(database_url: str) -> Iterator[Api]:
    """A client of an app without a rate limit (which writes on every
    request), at the tests' clock."""
    with unlimited_api(database_url, now=NOW) as api:
        yield api


@contextmanager
def transactions(engine: Engine) -> Iterator[list[str]]:
    """Each transaction begun inside the block: "reader" or "writer"."""
    begun: list[str] = []

    def record(connection: Any) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY_OPTION, False)
        begun.append("reader" if read_only else "writer")

    event.listen(engine, "begin", record)
    try:
        yield begun
    finally:
        event.remove(engine, "begin", record)


def test_a_first_read_of_a_begun_week_is_one_writer_transaction(quiet: Api) -> None:
    user = quiet.user(program_start="2026-11-16")
    path = f"/v1/users/{user['id']}"
    # Caches the key and the person, so that only the plan's own work remains.
    assert quiet.get(f"{path}/progress").status_code == 200
    engine: Engine = quiet.http.app.state.engine  # type: ignore[attr-defined]
    with transactions(engine) as first:
        served = quiet.get(f"{path}/plan")
    assert served.status_code == 200
    assert served.json()["sessions"]
    assert first == ["writer"]
    # A preview stores nothing: it reads (its person, evicted by the week just
    # stored, is looked up again).
    with transactions(engine) as preview:
        assert quiet.get(f"{path}/plan", params={"week": "2026-W49"}).status_code == 200
    assert set(preview) == {"reader"}


def test_a_first_read_gives_the_bytes_of_the_stored_week(quiet: Api) -> None:
    user = quiet.user(program_start="2026-11-02", equipment=["band", "dumbbells"])
    answer = quiet.get(f"/v1/users/{user['id']}/plan")
    assert answer.status_code == 200
    engine: Engine = quiet.http.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        ask = planning.read_ahead_hint(
            client_id=quiet.client_id, user_id=user["id"], week=None, now=NOW
        )
        _person, again = planning.serve_week_of(session, ask=ask, week=None, now=NOW)
        stored = plan_store.week_sessions(session, user_id=user["id"], week="2026-W47")
        session.rollback()
    assert again.stored is None  # read from the store this time
    body = reads.plan_body(again)
    assert answer.content == body.content
    assert answer.headers["ETag"] == body.etag
    assert [item.planned for item in stored] == list(again.plan.sessions)


def test_a_plan_body_splices_the_stored_json_exactly() -> None:
    person = profile(session_minutes=60, equipment=("band", "mat"), birth_year=1950)
    # Stages 1 to 2, and a week regressed after a red pain signal.
    plans = simulate(person, 6, pain=lambda week, s: 7 if week == 4 else 2)
    for plan in plans:
        public = planning.public_plan(plan, preview=False)
        stored = tuple(plan_store.content_of(session) for session in plan.sessions)
        spliced = reads.plan_body(planning.ServedWeek(public, stored))
        assert spliced == reads.body_of(public)
        assert [PlannedSession.model_validate_json(s) for s in stored] == list(plan.sessions)
    before_start = simulate(person, 1, first=IsoWeek.parse("2025-W50"))[0]
    assert not before_start.sessions
    empty = planning.public_plan(before_start, preview=True)
    assert reads.plan_body(planning.ServedWeek(empty, ())) == reads.body_of(empty)


def test_a_first_plan_of_a_person_not_cached_reads_them_in_its_own_transaction(
    quiet: Api,
) -> None:
    user = quiet.user(program_start="2026-11-16")
    app = quiet.http.app
    caches: Caches = app.state.caches  # type: ignore[attr-defined]
    caches.clear()  # the person's id and time zone are not cached
    assert quiet.get("/v1/exercises").status_code == 200  # the API key is, again
    engine: Engine = app.state.engine  # type: ignore[attr-defined]
    with transactions(engine) as first:
        served = quiet.get(f"/v1/users/{user['id']}/plan")
    assert served.status_code == 200
    assert first == ["writer"]  # the person's lookup, the plan and its storing
    again = quiet.get(f"/v1/users/{user['id']}/plan", params={"week": served.json()["week"]})
    assert again.content == served.content  # the route's answer, from the stored week
    other = register(quiet.http, "Another App")
    assert other.get(f"/v1/users/{user['id']}/plan").status_code == 404
    assert quiet.get("/v1/users/nobody/plan").status_code == 404


def first_plans_together(api: Api, user_ids: list[str]) -> list[Body | BaseException]:
    """This week's plan of each person, asked all at once of the app's event
    loop, as requests that arrive together (`reads.this_weeks_plan_of`): a
    body each, or the error it raised."""
    state = api.http.app.state  # type: ignore[attr-defined]

    async def together() -> list[Body | BaseException]:
        asked = (
            reads.this_weeks_plan_of(state, client_id=api.client_id, user_id=user_id, now=NOW)
            for user_id in user_ids
        )
        return list(await asyncio.gather(*asked, return_exceptions=True))

    assert api.http.portal is not None  # entered: the app's loop runs there
    return api.http.portal.call(together)


def test_first_reads_that_arrive_together_store_their_weeks_in_shared_transactions(
    quiet: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = [quiet.user(program_start="2026-11-16")["id"] for _ in range(6)]
    app = quiet.http.app
    sizes = commits_counted(app.state.engine, monkeypatch)  # type: ignore[attr-defined]

    *bodies, unknown = first_plans_together(quiet, [*people, "nobody"])
    assert isinstance(unknown, NotFound)  # its own answer; the others are unharmed
    assert sum(sizes) == 7
    assert len(sizes) < 7
    for person, body in zip(people, bodies, strict=True):
        assert isinstance(body, Body)
        # Stored: a later read is of the stored week, the same bytes.
        again = quiet.get(f"/v1/users/{person}/plan", params={"week": "2026-W47"})
        assert again.status_code == 200
        assert again.content == body.content


def test_first_reads_that_arrive_together_are_read_ahead_and_stored_at_once(
    quiet: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Their batch reads what every plan needs at once (`db.plans.read_ahead`):
    on PostgreSQL no piece reads for itself. It stores their weeks as it
    ends, each statement once for all of them (`db.raw.deferred`), without
    falling back to one piece at a time. Each serves what it would alone,
    the bytes a later read of its stored week gives."""
    people = [quiet.user(program_start="2026-11-16")["id"] for _ in range(5)]
    app = quiet.http.app
    own_reads = reads_counted(monkeypatch)
    weeks_stored: list[int] = []  # the rows of each run of the weeks' insert
    run_many = Raw._run_many

    def counted_rows(statement: Raw, dialect: Any, driver: Any, parameters: list[Any]) -> None:
        if statement is plan_store._INSERT_WEEK:
            weeks_stored.append(len(parameters))
        run_many(statement, dialect, driver, parameters)

    monkeypatch.setattr(Raw, "_run_many", counted_rows)
    one_by_one: list[int] = []
    original_one_by_one = GroupCommit._one_by_one

    def counted_one_by_one(commit: GroupCommit, batch: list[Any]) -> Any:
        one_by_one.append(len(batch))
        return original_one_by_one(commit, batch)

    monkeypatch.setattr(GroupCommit, "_one_by_one", counted_one_by_one)

    bodies = first_plans_together(quiet, [*people, people[0]])  # one of them asked twice
    on_postgres = app.state.engine.dialect.name == "postgresql"  # type: ignore[attr-defined]
    # Asked twice: in one batch, the second ask reads again (the first stored the week).
    if on_postgres:
        assert own_reads in ([], [people[0]])
    else:
        assert sorted(own_reads) == sorted([*people, people[0]])
    assert one_by_one == []
    assert sum(weeks_stored) == len(people)  # asked twice, stored once
    assert max(weeks_stored) > 1
    assert bodies[-1] == bodies[0]
    for person, body in zip(people, bodies, strict=False):
        assert isinstance(body, Body)
        again = quiet.get(f"/v1/users/{person}/plan", params={"week": "2026-W47"})
        assert again.status_code == 200
        assert again.content == body.content


@pytest.mark.parametrize(
    ("timezone", "now", "week"),
    [
        # Sunday in UTC, Monday of the next week on Kiritimati (UTC+14).
        ("Pacific/Kiritimati", datetime(2026, 11, 22, 11, 0, tzinfo=UTC), "2026-W48"),
        # Monday in UTC, still Sunday of the week before in UTC-12.
        ("Etc/GMT+12", datetime(2026, 11, 23, 10, 0, tzinfo=UTC), "2026-W47"),
        ("UTC", datetime(2026, 11, 23, 0, 0, tzinfo=UTC), "2026-W48"),
    ],
)
@pytest.mark.parametrize("cached", [True, False])
def test_a_first_plan_stores_the_week_of_the_persons_own_today(
    database_url: str, timezone: str, now: datetime, week: str, cached: bool
) -> None:
    """The person is read with the plan's other reads, before their time zone
    is known: the week read ahead, and stored, is still theirs."""
    with unlimited_api(database_url, now=now) as api:
        user = api.user(timezone=timezone, program_start="2026-11-09")
        caches: Caches = api.http.app.state.caches  # type: ignore[attr-defined]
        if not cached:
            caches.clear()
        served = api.get(f"/v1/users/{user['id']}/plan")
        assert served.status_code == 200
        assert served.json()["week"] == week
        assert served.json()["preview"] is False
        engine: Engine = api.http.app.state.engine  # type: ignore[attr-defined]
        with Session(engine) as session:
            stored = plan_store.week_sessions(session, user_id=user["id"], week=week)
            other_weeks = {str(IsoWeek.parse(week).shift(shift)) for shift in (-1, 1)}
            elsewhere = [
                plan_store.week_sessions(session, user_id=user["id"], week=other)
                for other in other_weeks
            ]
        assert [item.id for item in stored] == [s["id"] for s in served.json()["sessions"]]
        assert stored
        assert elsewhere == [[], []]
        caches.clear()
        again = api.get(f"/v1/users/{user['id']}/plan")
        assert again.content == served.content


@settings(max_examples=300, deadline=None)
@given(
    now=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    timezone=st.sampled_from(sorted(available_timezones())),
    ahead=st.integers(min_value=-3, max_value=3),
)
def test_the_weeks_read_ahead_hold_the_persons_week_in_every_time_zone(
    now: datetime, timezone: str, ahead: int
) -> None:
    """The person's week is then read with the rest, not on its own."""
    today = planning.local_date(timezone, now)
    this_week = IsoWeek.of(today)
    weeks = planning.weeks_begun_somewhere(None, now)
    assert weeks is not None
    assert weeks[0] <= str(this_week) <= weeks[1]
    assert IsoWeek.parse(weeks[1]).weeks_since(IsoWeek.parse(weeks[0])) <= 1
    asked = this_week.shift(ahead)
    span = planning.weeks_begun_somewhere(asked, now)
    assert span in (None, (str(asked), str(asked)))
    if asked.monday() <= today:  # begun here: read ahead
        assert span is not None
    if asked.monday() > (now + timedelta(days=1)).date():  # begun nowhere yet
        assert span is None
