"""Plans, progress and readiness for a stored user: load what the engine
needs, call it, and store what must stay stable.

A week that has begun is stored the first time it is served and read back
from then on; completed sessions never change; sessions still to come may be
replaced by the engine's eased version, keeping their ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

import programs
from api.schemas import PlanPublic
from db import episodes as episode_store
from db import plans as plan_store
from db import stages as stage_store
from db import users as user_store
from db.plans import SessionToStore
from db.tables import User
from programs import IsoWeek, Plan, PlannedSession, Progress, Readiness, ReadinessStatus


def local_today(user: User, now: datetime) -> date:
    """Today in the person's time zone."""
    return now.astimezone(ZoneInfo(user.timezone)).date()


def episodes_of(session: Session, *, user: User) -> list[programs.Episode]:
    return [
        episode_store.report_of(row)
        for row in episode_store.list_episodes(session, user_id=user.id)
    ]


def readiness(session: Session, *, user: User, now: datetime) -> Readiness:
    return programs.assess(episodes_of(session, user=user), on=local_today(user, now))


def default_start(
    session: Session, *, user: User | None, timezone: str, now: datetime
) -> date | None:
    """The default program start: the first day the person is ready (None while
    referred). Once a week of the program is stored, the start stays put."""
    if user is not None and user_store.has_stored_weeks(session, user_id=user.id):
        return user.program_start
    episodes = [] if user is None else episodes_of(session, user=user)
    today = now.astimezone(ZoneInfo(timezone)).date()
    return programs.first_ready_day(episodes=episodes, today=today)


def refresh_default_start(session: Session, *, user: User, now: datetime) -> None:
    """After an episode changed: move a default start that no week depends on yet."""
    if not user.program_start_given:
        start = default_start(session, user=user, timezone=user.timezone, now=now)
        user_store.set_program_start(session, user=user, start=start, now=now)


def serve_plan(session: Session, *, user: User, week: IsoWeek | None, now: datetime) -> PlanPublic:
    """The plan for `week` (default: this week), stored once the week has begun."""
    today = local_today(user, now)
    week = week or IsoWeek.of(today)
    episodes = episodes_of(session, user=user)
    _set_start_once_ready(session, user=user, episodes=episodes, today=today, now=now)
    history = plan_store.load_history(session, user_id=user.id)
    plan = programs.plan_week(
        person_id=user.id,
        profile=user_store.profile_of(user),
        week=week,
        today=today,
        history=history,
        episodes=episodes,
    )
    begun = week.monday() <= today
    if begun and plan.status is ReadinessStatus.ready:
        plan, changed = _keep_stored(session, user=user, plan=plan, today=today, now=now)
        if changed:
            history = plan_store.load_history(session, user_id=user.id)
    _record_stage(session, user=user, history=history, episodes=episodes, today=today, now=now)
    return PlanPublic.model_validate({**plan.model_dump(), "preview": not begun})


def serve_progress(session: Session, *, user: User, now: datetime) -> Progress:
    today = local_today(user, now)
    episodes = episodes_of(session, user=user)
    history = plan_store.load_history(session, user_id=user.id)
    return _record_stage(
        session, user=user, history=history, episodes=episodes, today=today, now=now
    )


def _set_start_once_ready(
    session: Session,
    *,
    user: User,
    episodes: Sequence[programs.Episode],
    today: date,
    now: datetime,
) -> None:
    # A referral leaves the default start unset; the first plan fetch after it
    # is lifted sets it.
    if user.program_start is None and not user.program_start_given:
        start = programs.first_ready_day(episodes=episodes, today=today)
        if start is not None:
            user_store.set_program_start(session, user=user, start=start, now=now)


def _keep_stored(
    session: Session,
    *,
    user: User,
    plan: Plan,
    today: date,
    now: datetime,
) -> tuple[Plan, bool]:
    """The plan with the week's stored sessions; True when anything was written."""
    week = plan.week
    stored = plan_store.load_week(session, user_id=user.id, week=week)
    if not stored:
        if not plan.sessions:
            return plan, False
        items = [_to_store(planned) for planned in plan.sessions]
        if plan_store.store_week(session, user_id=user.id, week=week, sessions=items, now=now):
            return plan, True
        # A concurrent first request stored the week: serve its sessions.
        stored = plan_store.load_week(session, user_id=user.id, week=week)

    fresh = {planned.id: planned for planned in plan.sessions}
    sessions: list[PlannedSession] = []
    changed = False
    for item in stored:
        current = item.planned
        newer = fresh.get(item.row.id)
        if (
            item.completion is None
            and item.row.date >= today
            and newer is not None
            and newer.eased
            and newer != current
        ):
            plan_store.replace_session(session, row=item.row, item=_to_store(newer), now=now)
            current, changed = newer, True
        sessions.append(current)
    balance, aerobic, strength = programs.summarize(sessions)
    update = {
        "sessions": tuple(sessions),
        "balance": balance,
        "aerobic_minutes": aerobic,
        "strength_seconds": strength,
    }
    return plan.model_copy(update=update), changed


def _to_store(planned: PlannedSession) -> SessionToStore:
    aerobic, strength = programs.session_volume(planned)
    return SessionToStore(planned=planned, aerobic_minutes=aerobic, strength_seconds=strength)


def _record_stage(
    session: Session,
    *,
    user: User,
    history: Sequence[programs.SessionLog],
    episodes: Sequence[programs.Episode],
    today: date,
    now: datetime,
) -> Progress:
    """The person's progress; records a stage change when the stage moved."""
    result = programs.progress(
        person_id=user.id,
        profile=user_store.profile_of(user),
        today=today,
        history=history,
        episodes=episodes,
    )
    if result.stage is not None:
        stage_store.record_stage(
            session, user_id=user.id, stage=result.stage.number, since=result.stage.since, now=now
        )
    return result
