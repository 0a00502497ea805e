"""The person's sessions as an RFC 5545 calendar: this ISO week and the next,
in the person's time zone.

Re-importing or re-fetching the calendar updates events and never duplicates
them: each event's UID is `session-<session id>@backplan` (session ids are
stable per person, date and slot), and its DTSTAMP is a stored time, not the
time of the request: when a stored session last changed, or, for next week's
preview, when anything the plan is made from last changed.

Events start at the person's `session_time` (default 18:00 local) and last the
session's minutes. They describe the plan only, with its safety notes: no
pain scores or notes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlmodel import Session

from api import planning
from db import plans as plan_store
from db import privacy
from db.tables import User
from programs import Block, BlockType, Category, IsoWeek, PlannedSession, PrescribedExercise

PRODID = "-//backplan//EN"
# RFC 7986 REFRESH-INTERVAL: how often a subscribed calendar app should fetch.
REFRESH = timedelta(hours=6)
MEDIA_TYPE = "text/calendar; charset=utf-8"
TOKEN_PREFIX = "bpcal_"

_BLOCK_NAMES = {
    BlockType.warm_up: "warm-up",
    BlockType.stretching: "stretching",
    BlockType.strengthening: "strengthening",
    BlockType.aerobic: "aerobic",
    BlockType.cool_down: "cool-down",
}


@dataclass(frozen=True, slots=True)
class Scheduled:
    """A session to put in the calendar, the time its content last changed and
    its plan's safety notes."""

    session: PlannedSession
    stamp: datetime
    safety: tuple[str, ...]


def new_token() -> str:
    """A feed token: 256 random bits, URL-safe."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def scheduled(session: Session, *, user: User, now: datetime) -> list[Scheduled]:
    """This week's sessions (stored, as the plan serves them) and next week's preview."""
    this_week = IsoWeek.of(planning.local_today(user, now))
    next_week = this_week.shift(1)
    current = planning.serve_plan(session, user=user, week=this_week, now=now)
    upcoming = planning.serve_plan(session, user=user, week=next_week, now=now)
    stored = {
        item.row.id: item.row.updated_at
        for item in plan_store.load_week(session, user_id=user.id, week=str(this_week))
    }
    preview_stamp = privacy.last_change(session, user=user)
    return [
        Scheduled(planned, stored.get(planned.id, preview_stamp), plan.safety)
        for plan in (current, upcoming)
        for planned in plan.sessions
    ]


def render(*, user: User, sessions: list[Scheduled]) -> bytes:
    """The calendar document, byte for byte the same for the same inputs."""
    calendar = Calendar.new(
        prodid=PRODID,
        uid=f"calendar-{user.id}@backplan",
        name="Back program",
        description="Exercise sessions from backplan, to prevent the next episode of back pain.",
        refresh_interval=REFRESH,
    )
    zone = ZoneInfo(user.timezone)
    for item in sessions:
        planned = item.session
        start = datetime.combine(planned.date, user.session_time, tzinfo=zone)
        calendar.add_component(
            Event.new(
                uid=f"session-{planned.id}@backplan",
                stamp=item.stamp,
                last_modified=item.stamp,
                start=start,
                end=start + timedelta(minutes=planned.minutes),
                summary=_summary(planned),
                description=_description(planned, item.safety),
                categories=["Exercise"],
            )
        )
    calendar.add_missing_timezones()
    document: bytes = calendar.to_ical()
    return document


def _summary(planned: PlannedSession) -> str:
    kinds = dict.fromkeys(
        _BLOCK_NAMES[block.type]
        for block in planned.blocks
        if block.type not in {BlockType.warm_up, BlockType.cool_down}
    )
    eased = ", eased" if planned.eased else ""
    return f"Back program: {', '.join(kinds) or 'mobility'} ({planned.minutes} min{eased})"


def _description(planned: PlannedSession, safety: tuple[str, ...]) -> str:
    lines: list[str] = []
    for block in planned.blocks:
        lines.append(f"{_block_title(block)}:")
        lines.extend(f"- {exercise.name}: {_dose(exercise)}" for exercise in block.exercises)
    if safety:
        lines.extend(["", *safety])
    return "\n".join(lines)


def _block_title(block: Block) -> str:
    return f"{_BLOCK_NAMES[block.type].capitalize()} ({block.minutes} min)"


def _dose(exercise: PrescribedExercise) -> str:
    if exercise.category is Category.aerobic:
        intensity = f", {exercise.intensity.value}" if exercise.intensity else ""
        return f"{exercise.minutes} min{intensity}"
    hold = f", hold {exercise.hold_seconds} s" if exercise.hold_seconds else ""
    side = " each side" if exercise.per_side else ""
    return f"{exercise.sets} x {exercise.reps}{hold}{side}"
