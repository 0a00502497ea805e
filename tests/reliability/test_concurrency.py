"""Concurrency on PostgreSQL, against the service under 2 uvicorn workers:
racing writers of the same rows leave one row and agree on the answer, and
many writers of different rows lose none."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text

from db.engine import make_engine
from tests.conftest import postgres_database, user_fields
from tests.reliability.service import (
    Service,
    StoredSession,
    all_at_once,
    iso_week,
    past_sessions,
    register,
    report,
    running_service,
)

pytestmark = pytest.mark.postgres
ROUNDS = 3


@pytest.fixture(scope="module")
def database(postgres_admin_url: str) -> Iterator[str]:
    with postgres_database(postgres_admin_url) as url:
        yield url


@pytest.fixture(scope="module")
def service(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    log = tmp_path_factory.mktemp("service") / "service.log"
    with running_service(database, log, workers=2) as service:
        workers = Path(f"/proc/{service.process.pid}/task/{service.process.pid}/children")
        assert len(workers.read_text().split()) >= 2, "uvicorn should run 2 worker processes"
        yield service


@pytest.fixture(scope="module")
def store(database: str) -> Iterator[Engine]:
    engine = make_engine(database)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def http(service: Service) -> Iterator[httpx.Client]:
    with register(service) as client:
        yield client


@pytest.fixture(scope="module")
def sessions(http: httpx.Client) -> list[StoredSession]:
    """Stored sessions nobody has reported yet, taken by the tests in turn."""
    found = past_sessions(http, users=9, weeks=4)
    assert len(found) >= ROUNDS + 200
    return found


def rows(store: Engine, sql: str, **params: str) -> int:
    with store.connect() as connection:
        count: int = connection.execute(text(sql), params).scalar_one()
        return count


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_50_identical_completion_puts_leave_one_row_and_one_answer(
    http: httpx.Client, store: Engine, sessions: list[StoredSession], round_: int
) -> None:
    target = sessions.pop()
    body = report(f"round {round_}")
    responses = all_at_once(50, lambda: http.put(target.completion, json=body))

    assert Counter(r.status_code for r in responses) == {201: 1, 200: 49}
    answers = {r.text for r in responses}
    assert len(answers) == 1, answers
    assert http.get(target.completion).text == answers.pop()
    assert (
        rows(
            store,
            "SELECT count(*) FROM completions WHERE user_id = :user AND session_id = :session",
            user=target.user_id,
            session=target.session_id,
        )
        == 1
    )


def test_200_completions_of_different_sessions_from_20_threads_are_all_stored(
    http: httpx.Client, store: Engine, sessions: list[StoredSession]
) -> None:
    batch = [sessions.pop() for _ in range(200)]
    notes = {item: f"batch {item.session_id}" for item in batch}
    with ThreadPoolExecutor(20) as pool:
        responses = list(
            pool.map(lambda item: http.put(item.completion, json=report(notes[item])), batch)
        )

    assert [r.status_code for r in responses] == [201] * 200, [
        r.text for r in responses if r.status_code != 201
    ]
    stored = rows(store, "SELECT count(*) FROM completions WHERE notes LIKE 'batch %'")
    assert stored == 200
    for item in batch[::10]:
        assert http.get(item.completion).json()["notes"] == notes[item]


def user_in_week_one(http: httpx.Client) -> str:
    """A new user whose program began on Monday of this week."""
    today = datetime.now(UTC).date()
    monday = today - timedelta(days=today.weekday())
    fields = user_fields(training_days=["mon", "wed", "fri", "sun"], program_start=str(monday))
    created = http.post("/v1/users", json=fields)
    assert created.status_code == 201, created.text
    user_id: str = created.json()["id"]
    return user_id


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_first_requests_for_a_week_store_one_plan_with_the_same_ids(
    http: httpx.Client, store: Engine, round_: int
) -> None:
    user = user_in_week_one(http)
    week = iso_week(datetime.now(UTC).date())

    plans = all_at_once(2, lambda: http.get(f"/v1/users/{user}/plan", params={"week": week}))

    assert [p.status_code for p in plans] == [200, 200], [p.text for p in plans]
    first, second = ([s["id"] for s in p.json()["sessions"]] for p in plans)
    assert first == second
    assert first, "a week that has begun has sessions"
    params = {"user": user, "week": week}
    where = "WHERE user_id = :user AND week = :week"
    assert rows(store, f"SELECT count(*) FROM stored_weeks {where}", **params) == 1
    assert rows(store, f"SELECT count(*) FROM planned_sessions {where}", **params) == len(first)
    assert rows(store, "SELECT count(*) FROM stage_changes WHERE user_id = :user", user=user) == 1


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_first_progress_reads_record_the_stage_once(
    http: httpx.Client, store: Engine, round_: int
) -> None:
    user = user_in_week_one(http)

    reads = all_at_once(2, lambda: http.get(f"/v1/users/{user}/progress"))

    assert [r.status_code for r in reads] == [200, 200], [r.text for r in reads]
    assert reads[0].json() == reads[1].json()
    assert rows(store, "SELECT count(*) FROM stage_changes WHERE user_id = :user", user=user) == 1
