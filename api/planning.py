"""Plans, progress and readiness for a stored user: load what the engine
needs, call it, and store what must stay stable.

A week that has begun is stored the first time it is served and read back
from then on; completed sessions never change; sessions still to come may be
replaced by the engine's eased version, keeping their ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

import programs
from api.schemas import PlanPublic
from db import blocks, outbox
from db import episodes as episode_store
from db import plans as plan_store
from db import stages as stage_store
from db import users as user_store
from db.outbox import EventType
from db.plans import Person, SessionToStore
from db.tables import Episode, User
from programs import (
    IsoWeek,
    Plan,
    PlannedSession,
    Progress,
    Readiness,
    ReadinessStatus,
)

# Product decisions, not clinical rules. The engine replays every week from the
# program's start to the week asked for, so both stay within reach of today: a
# start in year 1 or a preview of year 9998 would keep a worker busy for minutes.
PREVIEW_WEEKS_AHEAD = 104
PROGRAM_START_WEEKS_BACK = 520


def program_start_problem(start: date, *, today: date) -> str | None:
    """Why `start` cannot be a program start, if it cannot."""
    earliest = today - timedelta(weeks=PROGRAM_START_WEEKS_BACK)
    latest = today + timedelta(weeks=PREVIEW_WEEKS_AHEAD)
    if not earliest <= start <= latest:
        return f"must lie between {earliest.isoformat()} and {latest.isoformat()}"
    return None


def local_date(timezone: str, now: datetime) -> date:
    """The date at `now` in `timezone`."""
    return now.astimezone(ZoneInfo(timezone)).date()


def local_today(user: User, now: datetime) -> date:
    """Today in the person's time zone."""
    return local_date(user.timezone, now)


def episodes_of(session: Session, *, user: User) -> list[programs.Episode]:
    return episode_store.list_reports(session, user_id=user.id)


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


def report_episode(
    session: Session, *, user: User, report: programs.Episode, now: datetime
) -> Episode:
    """Store a new episode; it may pause the program or call for a referral,
    and the client hears of it (`program.paused`, `referral.needed`)."""
    before = _gate(session, user=user, now=now)
    row = episode_store.add_episode(session, user_id=user.id, report=report, now=now)
    refresh_default_start(session, user=user, now=now)
    _announce(
        session,
        user=user,
        episode=row,
        before=before,
        new_red_flags=bool(report.red_flags),
        now=now,
    )
    return row


def revise_episode(
    session: Session, *, user: User, row: Episode, report: programs.Episode, now: datetime
) -> None:
    """Update an episode, with the same consequences as reporting one."""
    before = _gate(session, user=user, now=now)
    episode_store.update_episode(session, row=row, report=report, now=now)
    refresh_default_start(session, user=user, now=now)
    _announce(session, user=user, episode=row, before=before, new_red_flags=False, now=now)


def _gate(session: Session, *, user: User, now: datetime) -> tuple[ReadinessStatus, bool]:
    """The readiness status, and whether the program is running (begun and ready)."""
    status = readiness(session, user=user, now=now).status
    begun = user.program_start is not None and user.program_start <= local_today(user, now)
    return status, begun and status is ReadinessStatus.ready


def _announce(
    session: Session,
    *,
    user: User,
    episode: Episode,
    before: tuple[ReadinessStatus, bool],
    new_red_flags: bool,
    now: datetime,
) -> None:
    was, running = before
    status = readiness(session, user=user, now=now).status
    if running and status is not ReadinessStatus.ready:
        outbox.emit_for_user(
            session, user=user, type=EventType.program_paused, now=now, episode_id=episode.id
        )
    if status is ReadinessStatus.refer and (new_red_flags or was is not ReadinessStatus.refer):
        outbox.emit_for_user(
            session, user=user, type=EventType.referral_needed, now=now, episode_id=episode.id
        )


def refresh_default_start(session: Session, *, user: User, now: datetime) -> None:
    """After an episode changed: move a default start that no week depends on yet."""
    if not user.program_start_given:
        start = default_start(session, user=user, timezone=user.timezone, now=now)
        user_store.set_program_start(session, user=user, start=start, now=now)


@dataclass(frozen=True, slots=True)
class ServedWeek:
    """A served week's plan and, when this request stored its sessions, their
    JSON (`db.blocks.SplitSession.json`, as `db.plans.content_of`), in the
    plan's order: the same bytes its body holds, so they are serialized once."""

    plan: PlanPublic
    stored: tuple[bytes, ...] | None = None


def serve_plan(
    session: Session, *, user: User | Person, week: IsoWeek | None, now: datetime
) -> PlanPublic:
    """The plan for `week` (default: this week), stored once the week has begun."""
    return serve_week(session, person=_person(user), week=week, now=now).plan


def serve_week(
    session: Session, *, person: Person, week: IsoWeek | None, now: datetime
) -> ServedWeek:
    """`serve_plan`, with the sessions' JSON when they were stored now."""
    today = local_date(person.timezone, now)
    the_week = _week_to_serve(week, today)
    # A week that has begun is stored once served: its stored sessions are
    # read with the rest (nothing below writes them before they are used).
    reads = plan_store.planning_reads(
        session, user_id=person.id, week=_stored_week(the_week, today)
    )
    return _served(session, person=person, week=the_week, today=today, reads=reads, now=now)


def serve_week_of(
    session: Session, *, ask: plan_store.PlanHint, week: IsoWeek | None, now: datetime
) -> tuple[Person, ServedWeek]:
    """`serve_week` for the client's user, not read yet: the person is read
    with the plan's other reads (`db.plans.person_and_reads`), one round trip
    fewer on PostgreSQL. `ask`: what to read of them (`read_ahead_hint` for
    the same `week` and `now`), the hint their batch read ahead with. Before
    the person's time zone is known, the week's sessions are read for every
    week their today may fall in."""
    # The person's today and the week served, worked out once the person is read.
    picked: list[tuple[date, IsoWeek]] = []

    def week_to_read(person: Person) -> str | None:
        today = local_date(person.timezone, now)
        the_week = _week_to_serve(week, today)
        picked.append((today, the_week))
        return _stored_week(the_week, today)

    person, reads = plan_store.person_and_reads(
        session,
        client_id=ask.client_id,
        user_id=ask.user_id,
        weeks=ask.weeks,
        week_of=week_to_read,
    )
    today, the_week = picked[0]
    served = _served(session, person=person, week=the_week, today=today, reads=reads, now=now)
    return person, served


def read_ahead_hint(
    *, client_id: str, user_id: str, week: IsoWeek | None, now: datetime
) -> plan_store.PlanHint:
    """What `serve_week_of` will read of the client's user, for the batch
    that runs it to read ahead with others' (`db.plans.read_ahead`)."""
    return plan_store.PlanHint(client_id, user_id, weeks_begun_somewhere(week, now))


def _stored_week(week: IsoWeek, today: date) -> str | None:
    """`week`, if it has begun on `today` (so its sessions are stored once
    served); None otherwise."""
    return str(week) if week.monday() <= today else None


def weeks_begun_somewhere(week: IsoWeek | None, now: datetime) -> tuple[str, str] | None:
    """The weeks (first, last) that may be `week` (None: this week) and have
    begun at `now`, in some time zone (local dates lie within a day of
    UTC's); None when there is none."""
    earliest = (now - timedelta(days=1)).astimezone(UTC).date()
    latest = (now + timedelta(days=1)).astimezone(UTC).date()
    if week is None:
        return str(IsoWeek.of(earliest)), str(IsoWeek.of(latest))
    return (str(week), str(week)) if week.monday() <= latest else None


def _week_to_serve(week: IsoWeek | None, today: date) -> IsoWeek:
    """`week` (default: this week), if it may be served on `today`."""
    this_week = IsoWeek.of(today)
    week = week or this_week
    if week.weeks_since(this_week) > PREVIEW_WEEKS_AHEAD:
        last = this_week.shift(PREVIEW_WEEKS_AHEAD)
        raise programs.InvalidWeek(f"{week}: plans can be previewed up to {last}")
    return week


def _served(
    session: Session,
    *,
    person: Person,
    week: IsoWeek,
    today: date,
    reads: plan_store.PlanningReads,
    now: datetime,
) -> ServedWeek:
    """The plan for `week` on the person's `today` from what `reads` read of
    them: for a week that has begun, `reads.week` holds its stored sessions."""
    begun = week.monday() <= today
    episodes, history = reads.episodes, reads.history
    person = _set_start_once_ready(session, person=person, episodes=episodes, today=today, now=now)
    # The stage does not depend on whether the history holds this week's
    # sessions (`programs.plan_with_stage`): it holds for what is stored below.
    plan, stage = programs.plan_with_stage(
        person_id=person.id,
        profile=person.profile,
        week=week,
        today=today,
        history=history,
        episodes=episodes,
    )
    stored = None
    if reads.week is not None and plan.status is ReadinessStatus.ready:
        plan, stored = _keep_stored(
            session, person_id=person.id, plan=plan, stored=reads.week, today=today, now=now
        )
    _record_stage(session, user_id=person.id, stage=stage, read=reads.stage, now=now)
    return ServedWeek(public_plan(plan, preview=not begun), stored)


def public_plan(plan: Plan, *, preview: bool) -> PlanPublic:
    """The plan as served: its fields as they are, not dumped and validated
    again (the engine and the store made them), and `preview`."""
    return PlanPublic.model_construct(**dict(plan), preview=preview)


def serve_progress(session: Session, *, user: User | Person, now: datetime) -> Progress:
    person = _person(user)
    reads = plan_store.planning_reads(session, user_id=person.id, week=None)
    return _progress(session, person=person, reads=reads, now=now)


def serve_progress_of(session: Session, *, client_id: str, user_id: str, now: datetime) -> Progress:
    """`serve_progress` for the client's user, not read yet: the person is
    read with the other reads (`db.plans.person_and_reads`)."""
    person, reads = plan_store.person_and_reads(
        session, client_id=client_id, user_id=user_id, weeks=None, week_of=lambda _: None
    )
    return _progress(session, person=person, reads=reads, now=now)


def _progress(
    session: Session, *, person: Person, reads: plan_store.PlanningReads, now: datetime
) -> Progress:
    result = programs.progress(
        person_id=person.id,
        profile=person.profile,
        today=local_date(person.timezone, now),
        history=reads.history,
        episodes=reads.episodes,
    )
    _record_stage(session, user_id=person.id, stage=result.stage, read=reads.stage, now=now)
    return result


def _person(user: User | Person) -> Person:
    return user if isinstance(user, Person) else plan_store.person_of(user)


def _set_start_once_ready(
    session: Session,
    *,
    person: Person,
    episodes: Sequence[programs.Episode],
    today: date,
    now: datetime,
) -> Person:
    # A referral leaves the default start unset; the first plan fetch after it
    # is lifted sets it.
    if person.program_start is None and not person.program_start_given:
        start = programs.first_ready_day(episodes=episodes, today=today)
        if start is not None:
            user = user_store.get_user(session, client_id=person.client_id, user_id=person.id)
            user_store.set_program_start(session, user=user, start=start, now=now)
            return replace(person, program_start=start)
    return person


def _keep_stored(
    session: Session,
    *,
    person_id: str,
    plan: Plan,
    stored: list[plan_store.WeekSession],
    today: date,
    now: datetime,
) -> tuple[Plan, tuple[bytes, ...] | None]:
    """The plan with the week's `stored` sessions, as read under the
    person's lock (none: the week is not stored yet, and is stored now), and,
    when this stored them, their JSON."""
    week = plan.week
    if not stored:
        if not plan.sessions:
            return plan, None
        parts = tuple(map(blocks.split, plan.sessions))
        contents = tuple(part.json() for part in parts)
        items = [_to_store(p, split=s) for p, s in zip(plan.sessions, parts, strict=True)]
        plan_store.store_week(session, user_id=person_id, week=week, sessions=items, now=now)
        return plan, contents

    fresh = {planned.id: planned for planned in plan.sessions}
    sessions: list[PlannedSession] = []
    for item in stored:
        current = item.planned
        newer = fresh.get(item.id)
        if (
            not item.done
            and item.date >= today
            and newer is not None
            and newer.eased
            and newer != current
        ):
            row = plan_store.get_session_row(session, user_id=person_id, session_id=item.id)
            plan_store.replace_session(session, row=row, item=_to_store(newer), now=now)
            current = newer
        sessions.append(current)
    balance, aerobic, strength = programs.summarize(sessions)
    update = {
        "sessions": tuple(sessions),
        "balance": balance,
        "aerobic_minutes": aerobic,
        "strength_seconds": strength,
    }
    return plan.model_copy(update=update), None


def _to_store(
    planned: PlannedSession, *, split: blocks.SplitSession | None = None
) -> SessionToStore:
    aerobic, strength = programs.session_volume(planned)
    return SessionToStore(
        planned=planned, aerobic_minutes=aerobic, strength_seconds=strength, split=split
    )


def _record_stage(
    session: Session,
    *,
    user_id: str,
    stage: programs.StageProgress | None,
    read: stage_store.StageReads,
    now: datetime,
) -> None:
    """Record a stage change when the stage moved (`read`: what
    `plan_store.planning_reads` read for it)."""
    if stage is not None:
        stage_store.record_stage(
            session, user_id=user_id, stage=stage.number, since=stage.since, now=now, read=read
        )
