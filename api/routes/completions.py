"""Completions: the person reports a stored session done."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Response
from sqlmodel import Session

from api.deps import ClockDep, ReadPlans, SessionDep, UserDep, UserRefDep, WriteSessions
from api.errors import FieldError, invalid_fields, problem_responses
from api.routing import Route
from api.schemas import CompletionPublic, CompletionPut
from db import completions as completion_store
from db.completions import Target
from db.errors import NotFound
from programs import Completion

router = APIRouter(
    prefix="/v1/users/{user_id}/sessions/{session_id}/completion",
    tags=["completions"],
    responses=problem_responses(401, 403, 404, 500),
    route_class=Route,
)
SessionId = Annotated[str, Path(max_length=64, description="A stored session's id.")]

# Device clocks run a little fast; a report this far ahead still counts as now.
CLOCK_SKEW = timedelta(minutes=2)


@router.put(
    "",
    responses={
        **problem_responses(400, 422),
        201: {"model": CompletionPublic, "description": "Created"},
    },
    dependencies=[WriteSessions],
)
def put_completion(
    session_id: SessionId,
    body: CompletionPut,
    user: UserRefDep,
    session: SessionDep,
    now: ClockDep,
    response: Response,
) -> CompletionPublic:
    """Report the session done: 201 the first time, 200 after. The same report
    again changes nothing. A PUT replaces the whole report, so send every field
    again when adding `pain_next_morning`. Scope `sessions:write`."""
    completion, created = report(
        session,
        client_id=user.client_id,
        user_id=user.id,
        session_id=session_id,
        body=body,
        now=now,
    )
    response.status_code = 201 if created else 200
    return completion


def report(
    session: Session,
    *,
    client_id: str,
    user_id: str,
    session_id: str,
    body: CompletionPut,
    now: datetime,
    unread: bool = False,
) -> tuple[CompletionPublic, bool]:
    """Store the report of the client's user's session; True when it is the
    first. The work of `put_completion`, shared with its fast path
    (`api.hot`), which has not looked the user up: NotFound for another
    client's user, as for an unknown one. `unread`: see
    `db.completions.store_report`."""
    target = completion_store.find_target(
        session, user_id=user_id, session_id=session_id, with_slugs=bool(body.skipped)
    )
    if target.client_id != client_id:
        raise NotFound("user", user_id)
    checked = _checked(body, target=target, now=now)
    completion, created = completion_store.store_report(
        session, target=target, report=checked, notes=body.notes, now=now, unread=unread
    )
    return CompletionPublic.model_validate(completion), created


@router.get("", dependencies=[ReadPlans])
def read_completion(session_id: SessionId, user: UserDep, session: SessionDep) -> CompletionPublic:
    """The session's report. Scope `plans:read`."""
    row = completion_store.get_completion(session, user_id=user.id, session_id=session_id)
    return CompletionPublic.model_validate(row)


@router.delete("", status_code=204, dependencies=[WriteSessions])
def delete_completion(session_id: SessionId, user: UserDep, session: SessionDep) -> None:
    """Undo the report: the session counts as not done. Scope `sessions:write`."""
    completion_store.delete_completion(session, user_id=user.id, session_id=session_id)


def _checked(body: CompletionPut, *, target: Target, now: datetime) -> Completion:
    completed_at = body.completed_at
    if completed_at.tzinfo is None:
        completed_at = completed_at.replace(tzinfo=UTC)
    completed_at = completed_at.astimezone(UTC)
    errors: list[FieldError] = []
    if completed_at > now + CLOCK_SKEW:
        errors.append(FieldError(detail="must not be in the future", pointer="#/completed_at"))
    elif completed_at.astimezone(ZoneInfo(target.timezone)).date() < target.day:
        errors.append(
            FieldError(
                detail=f"must not be before the session's date, {target.day.isoformat()}",
                pointer="#/completed_at",
            )
        )
    errors.extend(
        FieldError(detail=f"{slug!r} is not an exercise of this session", pointer=f"#/skipped/{i}")
        for i, slug in enumerate(body.skipped)
        if slug not in target.slugs
    )
    if errors:
        raise invalid_fields(errors)
    return Completion(
        completed_at=completed_at,
        pain_during=body.pain_during,
        effort=body.effort,
        pain_before=body.pain_before,
        pain_next_morning=body.pain_next_morning,
        skipped=tuple(dict.fromkeys(body.skipped)),
    )
