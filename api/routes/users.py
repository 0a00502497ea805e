"""Users: the people a client registers."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import ValidationError

from api import etags, planning
from api.deps import (
    ClientDep,
    ClockDep,
    DeleteUsers,
    IfMatchHeader,
    PageDep,
    ReadPlans,
    SessionDep,
    UserDep,
    WriteUsers,
)
from api.errors import field_errors, invalid_field, invalid_fields, problem_responses
from api.pagination import by_creation, page
from api.routing import Route
from api.schemas import UserCreate, UserPublic, UsersPublic, UserUpdate
from db import users as user_store
from db.tables import User
from programs import Profile

router = APIRouter(
    prefix="/v1/users",
    tags=["users"],
    responses=problem_responses(400, 401, 403, 404, 422, 500),
    route_class=Route,
)

_PROFILE_FIELDS = frozenset(Profile.model_fields)


@router.post("", status_code=201, responses=problem_responses(409), dependencies=[WriteUsers])
def create_user(
    body: UserCreate, client: ClientDep, session: SessionDep, now: ClockDep, response: Response
) -> UserPublic:
    """Register a person. Without `program_start` the program starts on the
    first day the person is ready. Scope `users:write`."""
    given = body.program_start is not None
    _check_start(body.program_start, now=now)
    profile = _profile(body.model_dump(include=set(_PROFILE_FIELDS)), now=now)
    if not given:
        start = planning.default_start(session, user=None, timezone=body.timezone, now=now)
        profile = profile.model_copy(update={"program_start": start})
    user = user_store.create_user(
        session,
        client_id=client.id,
        external_id=body.external_id,
        timezone=body.timezone,
        profile=profile,
        program_start_given=given,
        now=now,
        session_time=time.fromisoformat(body.session_time),
    )
    response.headers["Location"] = f"/v1/users/{user.id}"
    return UserPublic.model_validate(user)


@router.get("", dependencies=[ReadPlans])
def list_users(
    client: ClientDep,
    session: SessionDep,
    paging: PageDep,
    external_id: Annotated[str | None, Query(max_length=200)] = None,
) -> UsersPublic:
    """The client's users, oldest first; `external_id` finds one by the app's id.
    Scope `plans:read`."""
    users = user_store.find_users(
        session,
        client_id=client.id,
        external_id=external_id,
        after=paging.after_position("users"),
        limit=paging.limit + 1,
    )
    items, cursor = page(
        users, paging, kind="users", key=lambda user: by_creation(user.created_at, user.id)
    )
    return UsersPublic(
        items=[UserPublic.model_validate(user) for user in items], next_cursor=cursor
    )


@router.get("/{user_id}", dependencies=[ReadPlans])
def read_user(user: UserDep) -> UserPublic:
    """The person's settings; its ETag is what `If-Match` takes. Scope `plans:read`."""
    return UserPublic.model_validate(user)


@router.patch("/{user_id}", responses=problem_responses(409, 412), dependencies=[WriteUsers])
def update_user(
    body: UserUpdate,
    user: UserDep,
    session: SessionDep,
    now: ClockDep,
    if_match: IfMatchHeader = None,
) -> UserPublic:
    """Change some fields. `program_start: null` goes back to the default start.
    With `If-Match`, only if the user is unchanged since read (412 otherwise).
    Scope `users:write`."""
    user_store.lock_user(session, user=user)
    etags.require_match(if_match, UserPublic.model_validate(user))
    changes = body.model_dump(exclude_unset=True)
    _check_start(changes.get("program_start"), now=now)
    values: dict[str, Any] = {**_fields_of(user), **changes}
    given = user.program_start_given
    if "program_start" in changes:
        given = changes["program_start"] is not None
        if not given:
            values["program_start"] = planning.default_start(
                session, user=user, timezone=values["timezone"], now=now
            )
    profile = _profile({key: values[key] for key in _PROFILE_FIELDS}, now=now)
    user_store.update_user(
        session,
        user=user,
        external_id=values["external_id"],
        timezone=values["timezone"],
        profile=profile,
        program_start_given=given,
        now=now,
        session_time=time.fromisoformat(values["session_time"]),
    )
    return UserPublic.model_validate(user)


@router.delete("/{user_id}", status_code=204, dependencies=[DeleteUsers])
def delete_user(user: UserDep, session: SessionDep, now: ClockDep) -> None:
    """Erase the person: every row about them goes, their calendar feed and
    the stored responses of requests about them (Idempotency-Key) included.
    Afterwards every URL of theirs answers 404. Scope `users:delete`.
    Webhook events about them go too, except `user.deleted`: ids only."""
    user_store.delete_user(session, client_id=user.client_id, user_id=user.id, now=now)


def _check_start(start: date | None, *, now: datetime) -> None:
    problem = None if start is None else planning.program_start_problem(start, today=now.date())
    if problem is not None:
        raise invalid_field("#/program_start", problem)


def _profile(values: dict[str, Any], *, now: datetime) -> Profile:
    """The engine's profile; its rules (e.g. not only back-to-back days) answer 422."""
    birth_year = values.get("birth_year")
    if birth_year is not None and birth_year > now.year:
        raise invalid_field("#/birth_year", "must not be in the future")
    try:
        return Profile.model_validate(values)
    except ValidationError as exc:
        raise invalid_fields(field_errors(exc)) from None


def _fields_of(user: User) -> dict[str, Any]:
    return UserPublic.model_validate(user).model_dump(exclude={"id", "created_at", "updated_at"})
