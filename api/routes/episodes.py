"""Episodes a person reports, and the readiness gate they feed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path

from api import planning
from api.deps import ClockDep, SessionDep, UserDep
from api.errors import FieldError, invalid_fields, problem_responses
from api.schemas import EpisodeCreate, EpisodePublic, EpisodesPublic, EpisodeUpdate
from db import episodes as episode_store
from db.tables import User
from programs import Episode, Readiness

router = APIRouter(
    prefix="/v1/users/{user_id}",
    tags=["episodes"],
    responses=problem_responses(400, 401, 404, 422, 500),
)
EpisodeId = Annotated[str, Path(max_length=64)]


@router.post("/episodes", status_code=201)
def create_episode(
    body: EpisodeCreate, user: UserDep, session: SessionDep, now: ClockDep
) -> EpisodePublic:
    """Report an episode of back pain. A new episode pauses a running program
    until the readiness gate passes again."""
    report = _checked(Episode.model_validate(body.model_dump()), user=user, now=now)
    row = episode_store.add_episode(session, user_id=user.id, report=report, now=now)
    planning.refresh_default_start(session, user=user, now=now)
    return EpisodePublic.model_validate(row)


@router.get("/episodes")
def list_episodes(user: UserDep, session: SessionDep) -> EpisodesPublic:
    """The person's episodes in report order."""
    rows = episode_store.list_episodes(session, user_id=user.id)
    return EpisodesPublic(data=[EpisodePublic.model_validate(row) for row in rows])


@router.get("/episodes/{episode_id}")
def read_episode(episode_id: EpisodeId, user: UserDep, session: SessionDep) -> EpisodePublic:
    row = episode_store.get_episode(session, user_id=user.id, episode_id=episode_id)
    return EpisodePublic.model_validate(row)


@router.patch("/episodes/{episode_id}")
def update_episode(
    episode_id: EpisodeId, body: EpisodeUpdate, user: UserDep, session: SessionDep, now: ClockDep
) -> EpisodePublic:
    """Update pain or resolution; `resolved_on: null` reopens the episode."""
    row = episode_store.get_episode(session, user_id=user.id, episode_id=episode_id)
    before = episode_store.report_of(row)
    report = _checked(
        before.model_copy(update=body.model_dump(exclude_unset=True)), user=user, now=now
    )
    episode_store.update_episode(session, row=row, report=report, now=now)
    planning.refresh_default_start(session, user=user, now=now)
    return EpisodePublic.model_validate(row)


@router.get("/readiness")
def read_readiness(user: UserDep, session: SessionDep, now: ClockDep) -> Readiness:
    """Whether the program may run today: ready, recovering (self-care guidance)
    or refer (see a clinician; no exercises)."""
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
