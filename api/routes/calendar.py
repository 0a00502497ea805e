"""The person's sessions as a calendar, and the secret feed URL a calendar app
subscribes to without an API key."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from sqlmodel import Session

from api import ics
from api.deps import (
    ClockDep,
    ReadPlans,
    SessionDep,
    SettingsDep,
    UserDep,
    WriteUsers,
)
from api.errors import ApiError, problem_responses
from api.idempotency import secret_fields
from api.keys import hash_key
from api.routing import Route
from api.schemas import CalendarFeedCreated, CalendarFeedPublic
from db import calendar_feeds as feed_store
from db.tables import User

router = APIRouter(
    tags=["calendar"],
    responses=problem_responses(401, 403, 404, 500),
    route_class=Route,
)
_CALENDAR: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/calendar": {"schema": {"type": "string"}}},
        "description": "An RFC 5545 calendar: one VEVENT per session.",
    }
}
FeedToken = Annotated[
    str, Path(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_-]+$", description="The secret.")
]


@router.get(
    "/v1/users/{user_id}/calendar.ics",
    response_class=Response,
    responses=_CALENDAR,
    dependencies=[ReadPlans],
)
def read_calendar(user: UserDep, session: SessionDep, now: ClockDep) -> Response:
    """This ISO week's sessions and next week's, as an iCalendar file in the
    person's time zone. Each event's UID is `session-<session id>@backplan`
    and its DTSTAMP the time the session last changed, so importing the file
    again updates events instead of duplicating them. Events start at the
    person's `session_time` (default 18:00). Scope `plans:read`."""
    return _calendar(session, user=user, now=now)


@router.get(
    "/v1/calendar/{token}.ics",
    response_class=Response,
    responses={**_CALENDAR, **problem_responses(422)},
)
def read_calendar_feed(token: FeedToken, session: SessionDep, now: ClockDep) -> Response:
    """The calendar of the person whose feed this is, without an API key: the
    secret URL from `POST /v1/users/{user_id}/calendar-feed`. A revoked,
    reissued or unknown token answers 404."""
    user = feed_store.user_of(session, token_hash=hash_key(token))
    if user is None:
        raise ApiError(404, "No calendar feed at this URL; it may have been revoked.")
    return _calendar(session, user=user, now=now)


@router.post("/v1/users/{user_id}/calendar-feed", status_code=201, dependencies=[WriteUsers])
@secret_fields("url")
def issue_calendar_feed(
    user: UserDep,
    session: SessionDep,
    settings: SettingsDep,
    now: ClockDep,
    request: Request,
    response: Response,
) -> CalendarFeedCreated:
    """Issue the person's secret calendar feed URL, revoking any earlier one.
    The URL is in this response only (backplan keeps a hash of its token): an
    idempotent replay has `url: null`. Scope `users:write`."""
    token = ics.new_token()
    feed = feed_store.issue(session, user_id=user.id, token_hash=hash_key(token), now=now)
    base = settings.public_url or str(request.base_url)
    response.headers["Location"] = f"/v1/users/{user.id}/calendar-feed"
    return CalendarFeedCreated(
        created_at=feed.created_at, url=f"{base.rstrip('/')}/v1/calendar/{token}.ics"
    )


@router.get("/v1/users/{user_id}/calendar-feed", dependencies=[ReadPlans])
def read_calendar_feed_info(user: UserDep, session: SessionDep) -> CalendarFeedPublic:
    """When the person's feed URL was issued (the URL itself is not kept); 404
    when there is none. Scope `plans:read`."""
    feed = feed_store.get(session, user_id=user.id)
    return CalendarFeedPublic(created_at=feed.created_at)


@router.delete("/v1/users/{user_id}/calendar-feed", status_code=204, dependencies=[WriteUsers])
def revoke_calendar_feed(user: UserDep, session: SessionDep) -> None:
    """Revoke the feed URL: it answers 404 from now on. Scope `users:write`."""
    feed_store.revoke(session, user_id=user.id)


def _calendar(session: Session, *, user: User, now: datetime) -> Response:
    document = ics.render(user=user, sessions=ics.scheduled(session, user=user, now=now))
    return Response(
        document,
        media_type=ics.MEDIA_TYPE,
        headers={"Content-Disposition": 'inline; filename="backplan.ics"'},
    )
