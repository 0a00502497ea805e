"""The in-process caches (`api.caching`): what they hold, when it leaves, and
that two workers on one database never serve each other's stale data."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from api.caching import Caches
from api.deps import get_now
from api.main import create_app
from api.settings import Settings
from tests.conftest import ADMIN_TOKEN, Api, Clock, listening, register, unlimited_api


class Watcher:
    """A stand-in for `db.changes` watchers: reports what the test queues."""

    def __init__(self) -> None:
        self.pending: list[str] | None = []

    def poll(self) -> Iterable[str] | None:
        found, self.pending = self.pending, []
        return found

    def close(self) -> None:
        pass


# --- The cache itself -------------------------------------------------------------


def test_an_entry_leaves_when_its_topic_is_announced() -> None:
    caches = Caches(max_bytes=10_000, watcher=None)
    stamp = caches.stamp("user:a")
    assert caches.put("plan-a", b"a", topic="user:a", stamp=stamp, size=10)
    assert caches.put("plan-b", b"b", topic="user:b", stamp=caches.stamp("user:b"), size=10)
    caches.evict(["user:a"])
    assert caches.get("plan-a") is None
    assert caches.get("plan-b") == b"b"


def test_a_value_computed_across_an_announcement_is_not_cached() -> None:
    caches = Caches(max_bytes=10_000, watcher=None)
    before = caches.stamp("user:a")
    caches.evict(["user:a"])  # a writer committed while the reader computed
    assert not caches.put("plan-a", b"old", topic="user:a", stamp=before, size=10)
    assert caches.get("plan-a") is None
    assert caches.put("plan-a", b"new", topic="user:a", stamp=caches.stamp("user:a"), size=10)
    assert caches.get("plan-a") == b"new"


def test_the_cache_keeps_within_its_bytes_dropping_the_least_recently_used() -> None:
    caches = Caches(max_bytes=100, watcher=None)
    for name in "abc":
        caches.put(name, name, topic=None, stamp=caches.stamp(None), size=40)
    assert caches.get("a") is None
    assert caches.get("b") == "b"
    assert caches.get("c") == "c"
    assert caches.size_bytes == 80
    assert not caches.put("huge", "x", topic=None, stamp=caches.stamp(None), size=101)


def test_topics_from_the_watcher_evict_and_an_unknown_state_empties_the_cache() -> None:
    watcher = Watcher()
    caches = Caches(max_bytes=10_000, watcher=watcher)
    assert caches.sync()
    caches.put("plan-a", "a", topic="user:a", stamp=caches.stamp("user:a"), size=10)
    caches.put("plan-b", "b", topic="user:b", stamp=caches.stamp("user:b"), size=10)
    watcher.pending = ["user:a"]
    assert caches.sync()
    assert caches.get("plan-a") is None
    assert caches.get("plan-b") == "b"

    watcher.pending = None  # the watcher lost its connection
    assert not caches.sync()
    assert len(caches) == 0
    meanwhile = caches.stamp("user:b")  # a read computed while nobody listened
    assert not caches.put("plan-b", "b", topic="user:b", stamp=meanwhile, size=10)
    assert caches.sync()  # back: caching resumes, but not with what was computed meanwhile
    assert not caches.put("plan-b", "old", topic="user:b", stamp=meanwhile, size=10)
    assert caches.put("plan-b", "b", topic="user:b", stamp=caches.stamp("user:b"), size=10)


def test_a_cache_of_no_bytes_caches_nothing() -> None:
    caches = Caches(max_bytes=0, watcher=None)
    assert not caches.sync()
    assert not caches.put("a", "a", topic=None, stamp=caches.stamp(None), size=1)


# --- Through the API ----------------------------------------------------------------


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL the engine runs inside the block."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def unlimited(database_url: str) -> Iterator[Api]:
    """A client of an app without a rate limit, whose counting writes to the
    database on every request."""
    with unlimited_api(database_url) as api:
        yield api


def test_a_repeated_read_is_served_from_the_cache(unlimited: Api) -> None:
    api = unlimited
    user = api.user()
    engine = api.http.app.state.engine  # type: ignore[attr-defined]
    # The first read stores the week, so it is the second that gets cached.
    for _ in range(2):
        first = api.get(f"/v1/users/{user['id']}/plan")
        api.get(f"/v1/users/{user['id']}/progress")
        api.get("/v1/exercises")
    with statements(engine) as seen:
        again = api.get(f"/v1/users/{user['id']}/plan")
        progress = api.get(f"/v1/users/{user['id']}/progress")
        exercises = api.get("/v1/exercises")
    assert again.status_code == 200
    assert progress.status_code == 200
    assert exercises.status_code == 200
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    assert seen == []
    not_modified = api.get(
        f"/v1/users/{user['id']}/plan", headers={"If-None-Match": first.headers["etag"]}
    )
    assert not_modified.status_code == 304


def test_a_completion_changes_the_next_progress_read(api: Api, clock: Clock) -> None:
    user = api.user(program_start=clock.now.date().isoformat())
    plan = api.get(f"/v1/users/{user['id']}/plan").json()
    before = api.get(f"/v1/users/{user['id']}/progress").json()
    session = plan["sessions"][0]
    clock.now = clock.now.replace(hour=23)
    report = {"completed_at": clock.now.isoformat(), "pain_during": 1, "effort": 4}
    done = api.put(f"/v1/users/{user['id']}/sessions/{session['id']}/completion", json=report)
    assert done.status_code == 201, done.text
    after = api.get(f"/v1/users/{user['id']}/progress").json()
    assert after != before
    assert after["weeks"][-1]["done"] == before["weeks"][-1]["done"] + 1


def test_the_date_is_part_of_what_is_cached(api: Api, clock: Clock) -> None:
    user = api.user()
    this_week = api.get(f"/v1/users/{user['id']}/plan").json()
    clock.now += timedelta(days=7)
    next_week = api.get(f"/v1/users/{user['id']}/plan").json()
    assert next_week["week"] != this_week["week"]


# --- Two workers on one database ----------------------------------------------------


@pytest.fixture
def second_worker(database_url: str, app: FastAPI, clock: Clock) -> Iterator[TestClient]:
    """Another app on the same database, as a second uvicorn worker would be:
    its own engine and its own caches, on the same clock."""
    settings = Settings(
        database_url=database_url, admin_token=ADMIN_TOKEN, webhooks_in_process=False
    )
    other = create_app(settings)
    other.dependency_overrides[get_now] = clock
    with TestClient(other) as client:
        listening(app.state.caches)
        listening(other.state.caches)
        yield client


def eventually(read: Callable[[], httpx.Response], until: Callable[[httpx.Response], bool]) -> Any:
    """The first answer of `read` for which `until` holds, within 5 s. On
    PostgreSQL another worker hears of a change by NOTIFY, which arrives a
    moment after the commit; SQLite workers look within a millisecond."""
    deadline = time.monotonic() + 5
    while True:
        answer = read()
        if until(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(0.01)


def test_a_change_made_by_one_worker_reaches_the_others_cache(
    api: Api, second_worker: TestClient, clock: Clock
) -> None:
    user = api.user()
    path = f"/v1/users/{user['id']}/plan"
    for _ in range(2):
        assert api.get(path).json()["status"] == "ready"  # cached by the first worker
    other = Api(http=second_worker, client_id=api.client_id, key=api.key)
    onset = clock.now.date().isoformat()
    flagged = {"onset_date": onset, "pain_now": 5, "red_flags": ["saddle_numbness"]}
    assert other.post(f"/v1/users/{user['id']}/episodes", json=flagged).status_code == 201
    answer = eventually(lambda: api.get(path), lambda answer: answer.json()["status"] == "refer")
    assert answer.json()["status"] == "refer"
    assert answer.json()["sessions"] == []


def test_a_key_revoked_by_one_worker_is_refused_by_the_other(
    http: TestClient, second_worker: TestClient
) -> None:
    owner = register(http)
    made = owner.post("/v1/keys", json={"name": "temporary", "scopes": ["plans:read"]})
    assert made.status_code == 201, made.text
    temporary = Api(http=http, client_id=owner.client_id, key=made.json()["api_key"])
    for _ in range(2):
        assert temporary.get("/v1/exercises").status_code == 200  # cached by the first worker
    other = Api(http=second_worker, client_id=owner.client_id, key=owner.key)
    assert other.delete(f"/v1/keys/{made.json()['id']}").status_code == 204
    answer = eventually(lambda: temporary.get("/v1/exercises"), lambda a: a.status_code == 401)
    assert answer.status_code == 401


def test_first_reads_at_once_all_succeed_and_store_each_week_once(unlimited: Api) -> None:
    # On SQLite a first read begins as a reader and, when it must store the
    # week while another request writes, runs again as a writer.
    users = [unlimited.user() for _ in range(12)]
    paths = [f"/v1/users/{user['id']}/plan" for user in users]
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(unlimited.get, paths))
    assert [answer.status_code for answer in answers] == [200] * len(paths)
    for path, answer in zip(paths, answers, strict=True):
        assert unlimited.get(path).json()["sessions"] == answer.json()["sessions"]
