"""The hot reads, served as cached, pre-serialized bodies with their ETags.

A plan or a progress report is a function of the person's stored data and of
their local date. The caches (`api.caching`) hold its serialized body under
the person's topic, keyed by that date, until anything about the person
changes (a completion, an episode, a profile change, a week stored); then the
next read computes it again, in a transaction of its own, exactly as before.
The exercise list depends on nothing stored and is computed once per query.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from fastapi import Response
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State

from api import planning
from api.caching import Body, Caches, Stamp, transaction
from api.deps import UserRef, remember_user_ref
from api.etags import etag_of
from api.pagination import PageRequest, page
from api.schemas import ExercisesPublic
from db import changes
from db import plans as plan_store
from db.engine import lost_write_race
from programs import Category, Equipment, IsoWeek, Progress, Region, all_exercises

T = TypeVar("T")

# What an entry costs beyond its body, roughly: key, ETag, bookkeeping.
ENTRY_OVERHEAD_BYTES = 256


def respond(body: Body) -> Response:
    """The body as a JSON response with its ETag (`api.routing` answers 304)."""
    return Response(body.content, media_type="application/json", headers={"ETag": body.etag})


def body_of(model: BaseModel) -> Body:
    content = model.__pydantic_serializer__.to_json(model)
    return Body(content, etag_of(content))


async def cached(
    caches: Caches, key: Hashable, *, topic: str | None, compute: Callable[[], Awaitable[Body]]
) -> Body:
    """The cached body at `key`, or `compute()`'s, cached."""
    found: Body | None = caches.get(key)
    if found is not None:
        return found
    stamp = caches.stamp(topic)
    body = await compute()
    _keep(caches, key, body, topic=topic, stamp=stamp)
    return body


def _keep(caches: Caches, key: Hashable, body: Body, *, topic: str | None, stamp: Stamp) -> None:
    """Cache `body` at `key`, unless `topic` changed since `stamp`."""
    caches.put(key, body, topic=topic, stamp=stamp, size=len(body.content) + ENTRY_OVERHEAD_BYTES)


def plan_body(served: planning.ServedWeek) -> Body:
    """`body_of(served.plan)`, reusing the JSON of sessions just stored: a
    plan's sessions serialize in it exactly as on their own."""
    if served.stored is None:
        return body_of(served.plan)
    plan = served.plan
    rest = plan.model_copy(update={"sessions": ()})
    sessions = b'"sessions":[' + b",".join(served.stored) + b"]"
    # Keys are unique, and a quote inside a string is escaped: the only
    # `"sessions":[]` in the JSON is the field's.
    content = rest.__pydantic_serializer__.to_json(rest).replace(_NO_SESSIONS, sessions, 1)
    return Body(content, etag_of(content))


_NO_SESSIONS = b'"sessions":[]'


def _served(
    state: State,
    serve: Callable[[Session], T],
    render: Callable[[T], Body],
    *,
    writes: bool,
    hint: Callable[[], plan_store.PlanHint] | None = None,
) -> Callable[[], Awaitable[Body]]:
    """What `serve` answers, rendered, from one transaction on a thread.

    `writes`: work that writes when first asked (a week that has begun, stored
    the first time it is served) runs as a writer at once, committed together
    with others that arrive with it (`api.batching`, `state.plan_commit`).
    Other work (a preview, progress) usually writes nothing, so it need not
    queue for SQLite's write lock: it reads first, and runs again as a writer
    only if it does write and another writer won the race. `hint`: what
    `serve` will read, for a writer's batch to read ahead; asked for only
    then, not on a cached read."""

    def work(session: Session) -> Body:
        return render(serve(session))

    def attempt() -> Body:
        with transaction(state.engine, state.caches, read_first=True) as session:
            return work(session)

    async def compute_body() -> Body:
        if not writes:
            try:
                return await run_in_threadpool(attempt)
            except OperationalError as error:
                if not lost_write_race(error):
                    raise
        body: Body = await state.plan_commit.run(work, hint=None if hint is None else hint())
        return body

    return compute_body


async def plan(state: State, *, ref: UserRef, week: IsoWeek | None, now: datetime) -> Body:
    today = planning.local_date(ref.timezone, now)
    the_week = week or IsoWeek.of(today)

    def ask() -> plan_store.PlanHint:
        return planning.read_ahead_hint(client_id=ref.client_id, user_id=ref.id, week=week, now=now)

    def serve(session: Session) -> planning.ServedWeek:
        _person, served = planning.serve_week_of(session, ask=ask(), week=week, now=now)
        return served

    key = _plan_key(ref.id, the_week, today)
    compute_body = _served(state, serve, plan_body, writes=the_week.monday() <= today, hint=ask)
    return await cached(state.caches, key, topic=changes.user_topic(ref.id), compute=compute_body)


def _plan_key(user_id: str, week: IsoWeek, today: date) -> Hashable:
    """A person's plan for `week` as served on their local date `today`."""
    return ("plan", user_id, str(week), today)


async def this_weeks_plan_of(state: State, *, client_id: str, user_id: str, now: datetime) -> Body:
    """`plan` for this week, of a person whose `UserRef` is not cached: the
    person is read in the plan's own work, which runs as a writer's (a week
    that has begun is stored when first served) and commits with others that
    arrive with it (`state.plan_commit`), not in a transaction and a thread
    hop of its own first. NotFound for an unknown id and for another client's
    user."""
    topic = changes.user_topic(user_id)
    stamp = state.caches.stamp(topic)

    # What to read of the person: asked once, for their batch to read ahead
    # and for their own work.
    ask = planning.read_ahead_hint(client_id=client_id, user_id=user_id, week=None, now=now)

    def work(session: Session) -> tuple[plan_store.Person, Body]:
        person, served = planning.serve_week_of(session, ask=ask, week=None, now=now)
        return person, plan_body(served)

    found: tuple[plan_store.Person, Body] = await state.plan_commit.run(work, hint=ask)
    person, body = found
    today = planning.local_date(person.timezone, now)
    ref = UserRef(id=person.id, client_id=person.client_id, timezone=person.timezone)
    # Kept unless the person changed meanwhile (a week stored now is such a
    # change, as in `cached`): then the next read computes them again.
    _keep(state.caches, _plan_key(ref.id, IsoWeek.of(today), today), body, topic=topic, stamp=stamp)
    remember_user_ref(state.caches, ref, stamp=stamp)
    return body


async def progress(state: State, *, ref: UserRef, now: datetime) -> Body:
    today = planning.local_date(ref.timezone, now)

    def serve(session: Session) -> Progress:
        return planning.serve_progress_of(session, client_id=ref.client_id, user_id=ref.id, now=now)

    key = ("progress", ref.id, today)
    compute_body = _served(state, serve, body_of, writes=False)
    return await cached(state.caches, key, topic=changes.user_topic(ref.id), compute=compute_body)


@dataclass(frozen=True, slots=True)
class ExerciseFilters:
    category: Category | None = None
    region: Region | None = None
    equipment: list[Equipment] | None = None
    level: int | None = None


async def exercises(caches: Caches, paging: PageRequest, filters: ExerciseFilters) -> Body:
    """A page of the exercise library. The library is part of the code: its
    pages change only with a deploy, so they are cached without a topic."""
    kit = None if filters.equipment is None else tuple(sorted(set(filters.equipment)))
    key = (
        "exercises",
        paging.limit,
        paging.cursor,
        kit,
        filters.category,
        filters.region,
        filters.level,
    )

    async def compute() -> Body:
        return await run_in_threadpool(lambda: body_of(_exercise_page(paging, filters)))

    return await cached(caches, key, topic=None, compute=compute)


def _exercise_page(paging: PageRequest, filters: ExerciseFilters) -> ExercisesPublic:
    after = paging.after_text("exercises") or ""
    found = [
        exercise
        for exercise in sorted(all_exercises(), key=lambda exercise: exercise.slug)
        if exercise.slug > after
        and (filters.category is None or exercise.category is filters.category)
        and (filters.region is None or exercise.region is filters.region)
        and (filters.equipment is None or exercise.usable_with(filters.equipment))
        and (filters.level is None or exercise.level == filters.level)
    ]
    items, cursor = page(found, paging, kind="exercises", key=lambda exercise: [exercise.slug])
    return ExercisesPublic(items=items, next_cursor=cursor)
