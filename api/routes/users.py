"""Users: the people a client registers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import ValidationError

from api import planning
from api.deps import ClientDep, ClockDep, SessionDep, UserDep
from api.errors import field_errors, invalid_field, invalid_fields, problem_responses
from api.schemas import UserCreate, UserPublic, UsersPublic, UserUpdate
from db import users as user_store
from db.tables import User
from programs import Profile

router = APIRouter(
    prefix="/v1/users", tags=["users"], responses=problem_responses(400, 401, 404, 422, 500)
)

_PROFILE_FIELDS = frozenset(Profile.model_fields)


@router.post("", status_code=201, responses=problem_responses(409))
def create_user(
    body: UserCreate, client: ClientDep, session: SessionDep, now: ClockDep
) -> UserPublic:
    """Register a person. Without `program_start` the program starts on the
    first day the person is ready."""
    given = body.program_start is not None
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
    )
    return UserPublic.model_validate(user)


@router.get("")
def list_users(
    client: ClientDep,
    session: SessionDep,
    external_id: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> UsersPublic:
    """The client's users, oldest first; `external_id` finds one by the app's id."""
    users = user_store.find_users(
        session, client_id=client.id, external_id=external_id, limit=limit, offset=offset
    )
    return UsersPublic(data=[UserPublic.model_validate(user) for user in users])


@router.get("/{user_id}")
def read_user(user: UserDep) -> UserPublic:
    return UserPublic.model_validate(user)


@router.patch("/{user_id}", responses=problem_responses(409))
def update_user(body: UserUpdate, user: UserDep, session: SessionDep, now: ClockDep) -> UserPublic:
    """Change some fields. `program_start: null` goes back to the default start."""
    changes = body.model_dump(exclude_unset=True)
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
    )
    return UserPublic.model_validate(user)


@router.delete("/{user_id}", status_code=204)
def delete_user(user: UserDep, session: SessionDep) -> None:
    """Erase the person: every row about them goes."""
    user_store.delete_user(session, client_id=user.client_id, user_id=user.id)


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
