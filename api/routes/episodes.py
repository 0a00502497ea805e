"""Episodes a person reports, and the readiness gate they feed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response

from api import etags, planning
from api.deps import (
    ClockDep,
    IfMatchHeader,
    PageDep,
    ReadPlans,
    SessionDep,
    UserDep,
    WriteUsers,
)
from api.errors import FieldError, invalid_fields, problem_responses
from api.pagination import page
from api.routing import Route
from api.schemas import EpisodeCreate, EpisodePublic, EpisodesPublic, EpisodeUpdate
from db import episodes as episode_store
from db.tables import User
from programs import Episode, Readiness

router = APIRouter(
    prefix="/v1/users/{user_id}",
    tags=["episodes"],
    responses=problem_responses(400, 401, 403, 404, 422, 500),
    route_class=Route,
)
EpisodeId = Annotated[str, Path(max_length=64)]


@router.post("/episodes", status_code=201, dependencies=[WriteUsers])
def create_episode(
    body: EpisodeCreate, user: UserDep, session: SessionDep, now: ClockDep, response: Response
) -> EpisodePublic:
    """Report an episode of back pain. A new episode pauses a running program
    until the readiness gate passes again. Scope `users:write`."""
    report = _checked(Episode.model_validate(body.model_dump()), user=user, now=now)
    row = planning.report_episode(session, user=user, report=report, now=now)
    response.headers["Location"] = f"/v1/users/{user.id}/episodes/{row.id}"
    return EpisodePublic.model_validate(row)


@router.get("/episodes", dependencies=[ReadPlans])
def list_episodes(user: UserDep, session: SessionDep, paging: PageDep) -> EpisodesPublic:
    """The person's episodes in report order. Scope `plans:read`."""
    after = paging.after_number("episodes")
    rows = episode_store.page_episodes(
        session, user_id=user.id, after=after, limit=paging.limit + 1
    )
    items, cursor = page(rows, paging, kind="episodes", key=lambda row: [row.seq])
    return EpisodesPublic(
        items=[EpisodePublic.model_validate(row) for row in items], next_cursor=cursor
    )


@router.get("/episodes/{episode_id}", dependencies=[ReadPlans])
def read_episode(episode_id: EpisodeId, user: UserDep, session: SessionDep) -> EpisodePublic:
    """One episode; its ETag is what `If-Match` takes. Scope `plans:read`."""
    row = episode_store.get_episode(session, user_id=user.id, episode_id=episode_id)
    return EpisodePublic.model_validate(row)


@router.patch("/episodes/{episode_id}", responses=problem_responses(412), dependencies=[WriteUsers])
def update_episode(
    episode_id: EpisodeId,
    body: EpisodeUpdate,
    user: UserDep,
    session: SessionDep,
    now: ClockDep,
    if_match: IfMatchHeader = None,
) -> EpisodePublic:
    """Update pain or resolution; `resolved_on: null` reopens the episode. With
    `If-Match`, only if the episode is unchanged since read (412 otherwise).
    Scope `users:write`."""
    row = episode_store.get_episode(session, user_id=user.id, episode_id=episode_id)
    episode_store.lock_episode(session, row=row)
    etags.require_match(if_match, EpisodePublic.model_validate(row))
    before = episode_store.report_of(row)
    report = _checked(
        before.model_copy(update=body.model_dump(exclude_unset=True)), user=user, now=now
    )
    planning.revise_episode(session, user=user, row=row, report=report, now=now)
    return EpisodePublic.model_validate(row)


@router.get("/readiness", dependencies=[ReadPlans])
def read_readiness(user: UserDep, session: SessionDep, now: ClockDep) -> Readiness:
    """Whether the program may run today: ready, recovering (self-care guidance)
    or refer (see a clinician; no exercises). Scope `plans:read`."""
    return planning.readiness(session, user=user, now=now)


def _checked(report: Episode, *, user: User, now: datetime) -> Episode:
    """Dates must be possible: nothing after today (in the person's time zone),
    no resolution before onset."""
    today = planning.local_today(user, now)
    errors: list[FieldError] = []
    if report.onset_date > today:
        errors.append(FieldError(detail="must not be in the future", pointer="#/onset_date"))
    if report.resolved_on is not None and report.resolved_on > today:
        errors.append(FieldError(detail="must not be in the future", pointer="#/resolved_on"))
    elif report.resolved_on is not None and report.resolved_on < report.onset_date:
        errors.append(FieldError(detail="must not be before onset_date", pointer="#/resolved_on"))
    if errors:
        raise invalid_fields(errors)
    return report
