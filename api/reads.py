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
from datetime import datetime

from fastapi import Response
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State

from api import planning
from api.caching import Body, Caches, transaction, write_turn
from api.deps import UserRef
from api.etags import etag_of
from api.pagination import PageRequest, page
from api.schemas import ExercisesPublic
from db import changes
from db import plans as plan_store
from db import users as user_store
from db.engine import lost_write_race
from db.tables import User
from programs import Category, Equipment, IsoWeek, Region, all_exercises

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
    size = len(body.content) + ENTRY_OVERHEAD_BYTES
    caches.put(key, body, topic=topic, stamp=stamp, size=size)
    return body


class _WriterNeeded(Exception):
    """A read-first transaction found that it will write: run it as a writer."""


def _served(
    state: State,
    ref: UserRef,
    serve: Callable[[Session, User], BaseModel],
    *,
    will_write: Callable[[Session], bool] | None = None,
) -> Callable[[], Awaitable[Body]]:
    """What `serve` answers for the user, in a transaction that reads first:
    a served week or progress usually writes nothing, so it need not queue
    for SQLite's write lock. `will_write`, asked first, sends work that
    certainly writes (a week served for the first time) straight to a
    writer, instead of computing it twice when another writer wins."""

    def attempt(read_first: bool) -> Body:
        with transaction(state.engine, state.caches, read_first=read_first) as session:
            if read_first and will_write is not None and will_write(session):
                raise _WriterNeeded
            user = user_store.get_user(session, client_id=ref.client_id, user_id=ref.id)
            served = serve(session, user)
        return body_of(served)

    async def compute() -> Body:
        try:
            return await run_in_threadpool(attempt, True)
        except _WriterNeeded:
            pass
        except OperationalError as error:
            if not lost_write_race(error):
                raise
        async with write_turn(state):
            return await run_in_threadpool(attempt, False)

    return compute


async def plan(state: State, *, ref: UserRef, week: IsoWeek | None, now: datetime) -> Body:
    today = planning.local_date(ref.timezone, now)
    the_week = week or IsoWeek.of(today)

    def compute(session: Session, user: User) -> BaseModel:
        return planning.serve_plan(session, user=user, week=week, now=now)

    def will_write(session: Session) -> bool:
        begun = the_week.monday() <= today
        return begun and not plan_store.is_stored(session, user_id=ref.id, week=str(the_week))

    key = ("plan", ref.id, str(the_week), today)
    compute_body = _served(state, ref, compute, will_write=will_write)
    return await cached(state.caches, key, topic=changes.user_topic(ref.id), compute=compute_body)


async def progress(state: State, *, ref: UserRef, now: datetime) -> Body:
    today = planning.local_date(ref.timezone, now)

    def compute(session: Session, user: User) -> BaseModel:
        return planning.serve_progress(session, user=user, now=now)

    key = ("progress", ref.id, today)
    compute_body = _served(state, ref, compute)
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
