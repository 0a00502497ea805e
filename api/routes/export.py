"""Data rights: everything stored about a person, as JSON (GDPR Art. 20).
Erasure (Art. 17) is `DELETE /v1/users/{user_id}`."""

from __future__ import annotations

import json

from fastapi import APIRouter

from api.deps import ClockDep, ReadPlans, SessionDep, UserDep
from api.errors import problem_responses
from api.routing import Route
from api.schemas import (
    CalendarFeedPublic,
    CompletionPublic,
    EpisodePublic,
    EventRecordPublic,
    StageChangePublic,
    StoredRequestPublic,
    StoredSessionPublic,
    StoredWeekPublic,
    UserExport,
    UserPublic,
)
from db import privacy

router = APIRouter(
    prefix="/v1/users/{user_id}",
    tags=["data rights"],
    responses=problem_responses(401, 403, 404, 500),
    route_class=Route,
)


@router.get("/export", dependencies=[ReadPlans])
def export_user(user: UserDep, session: SessionDep, now: ClockDep) -> UserExport:
    """Everything backplan stores about the person, machine-readable: their
    settings, episodes, stored weeks and sessions with completions, stage
    changes, calendar feed (without its secret), the requests whose
    responses are kept for Idempotency-Key replays and the webhook events
    about them still kept for delivery. Scope `plans:read`."""
    record = privacy.everything_about(session, user=user)
    feed = record.calendar_feed
    return UserExport(
        exported_at=now,
        user=UserPublic.model_validate(record.user),
        episodes=[EpisodePublic.model_validate(row) for row in record.episodes],
        weeks=[StoredWeekPublic(week=row.week, stored_at=row.stored_at) for row in record.weeks],
        sessions=[
            StoredSessionPublic(
                id=item.row.id,
                week=item.row.week,
                date=item.row.date,
                position=item.row.position,
                eased=item.row.eased,
                session=item.planned,
                created_at=item.row.created_at,
                updated_at=item.row.updated_at,
                completion=None
                if item.completion is None
                else CompletionPublic.model_validate(item.completion),
            )
            for item in record.sessions
        ],
        stage_changes=[
            StageChangePublic(stage=row.stage, since=row.since, recorded_at=row.recorded_at)
            for row in record.stage_changes
        ],
        calendar_feed=None if feed is None else CalendarFeedPublic(created_at=feed.created_at),
        requests=[
            StoredRequestPublic(
                idempotency_key=row.key,
                method=row.method,
                path=row.path,
                status=row.status,
                created_at=row.created_at,
            )
            for row in record.requests
        ],
        events=[
            EventRecordPublic(
                id=row.id, type=row.type, created_at=row.created_at, payload=json.loads(row.payload)
            )
            for row in record.events
        ],
    )
