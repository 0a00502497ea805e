"""The weekly planner: what a person should do in one ISO week."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from typing import NamedTuple

from programs import constants as c
from programs.education import weekly_tip
from programs.models import (
    Adjustment,
    Balance,
    BlockType,
    Category,
    Episode,
    Logged,
    Plan,
    PlannedSession,
    Profile,
    ReadinessStatus,
    StageRef,
)
from programs.readiness import Readiness, assess, safety_notes
from programs.replay import Replay, State, Timeline, WeekRecord, draft_week, start_state
from programs.sessions import Draft, Figures, figures
from programs.stages import (
    STAGE_ENTRY_AEROBIC_MINUTES,
    STAGE_ENTRY_SESSION_STRENGTH,
    STAGE_NAMES,
)
from programs.weeks import IsoWeek

_SESSION_NAMESPACE = uuid.UUID("5b1f3c1e-8f57-4d0c-9a53-0c6d3b1e7a42")
_NAMESPACE_BYTES = _SESSION_NAMESPACE.bytes


@lru_cache(maxsize=1 << 14)
def session_id(person_id: str, day: date, slot: int = 0) -> str:
    """Stable for a (person, date, slot): re-planning never renames a session.

    `uuid.uuid5` of the name (RFC 4122: SHA-1 of namespace and name, version
    and variant bits set), without building a `UUID` on the way."""
    name = f"{person_id}/{day.isoformat()}/{slot}".encode()
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def first_ready_day(*, episodes: Sequence[Episode], today: date) -> date | None:
    """The default program start: today when ready, the earliest start when
    recovering, None while a referral stands."""
    readiness = assess(episodes, on=today)
    if readiness.status is ReadinessStatus.ready:
        return today
    if readiness.status is ReadinessStatus.recovering:
        return readiness.earliest_start
    return None


def plan_week(
    *,
    person_id: str,
    profile: Profile,
    week: IsoWeek,
    today: date,
    history: Sequence[Logged] = (),
    episodes: Sequence[Episode] = (),
    stage: int | None = None,
) -> Plan:
    """The plan for `week`, as seen on `today`. `stage` forces a stage for previews."""
    return replayed_plan(
        person_id=person_id,
        profile=profile,
        week=week,
        today=today,
        history=history,
        episodes=episodes,
        stage=stage,
    ).plan


class ReplayedPlan(NamedTuple):
    """A week's plan with what replaying the history up to it found."""

    plan: Plan
    start: date | None  # the program's start, None while referred
    record: WeekRecord | None  # the week as replayed; None when no replay ran


def replayed_plan(
    *,
    person_id: str,
    profile: Profile,
    week: IsoWeek,
    today: date,
    history: Sequence[Logged] = (),
    episodes: Sequence[Episode] = (),
    stage: int | None = None,
) -> ReplayedPlan:
    """`plan_week`, with the program's start and the replayed week's record."""
    timeline = Timeline(episodes)
    ref = today if today in week else week.monday()
    readiness = timeline.assess(ref)
    start = profile.program_start or first_ready_day(episodes=episodes, today=today)
    if start is None:  # referred today: no program has started
        return ReplayedPlan(_not_ready(week, timeline.assess(today)), None, None)
    if readiness.status is ReadinessStatus.refer:
        return ReplayedPlan(_not_ready(week, readiness), start, None)
    upcoming = [d for d in week.days() if d >= ref]
    if not any(timeline.status(d) is ReadinessStatus.ready for d in upcoming):
        return ReplayedPlan(_not_ready(week, readiness), start, None)

    replay = Replay(profile=profile, program_start=start, history=history, timeline=timeline)
    record: WeekRecord | None = None
    if stage is None:
        _, state, last_morning = replay.run(week)
        record, _ = replay.week(week, state, last_morning)
        state, days, red_on = record.state, record.days, record.red_on
    else:
        state = _preview_state(profile, stage, week)
        days, red_on = replay.session_days(week), None
    drafts = draft_week(profile, state, days, red_on=red_on)
    sessions = tuple(_session(person_id, draft) for draft in drafts)
    balance, aerobic, strength = _summary([draft.content.figures for draft in drafts])
    plan = Plan(
        week=str(week),
        status=ReadinessStatus.ready,
        reasons=readiness.reasons,
        guidance=readiness.guidance,
        earliest_start=max(start, readiness.earliest_start or start),
        stage=StageRef(number=state.stage, name=STAGE_NAMES[state.stage]),
        sessions=sessions,
        balance=balance,
        aerobic_minutes=aerobic,
        strength_seconds=strength,
        adjustment=Adjustment(signal=state.signal, action=state.action, reason=state.reason),
        notes=_notes(profile, state, week, start, days, drafts, aerobic, red_on),
        education=weekly_tip(week_in_program=max(0, week.weeks_since(IsoWeek.of(start)))),
        safety=safety_notes(),
    )
    return ReplayedPlan(plan, start, record)


def session_volume(session: PlannedSession) -> tuple[int, int]:
    """(aerobic minutes, strengthening seconds under tension) of a session:
    `summarize`'s figures for it alone."""
    aerobic = strength = 0
    for block in session.blocks:
        if block.type is BlockType.aerobic:
            aerobic += block.minutes
        for e in block.exercises:
            if e.category is Category.strengthening:
                strength += e.work_seconds
    return aerobic, strength


def _not_ready(week: IsoWeek, readiness: Readiness) -> Plan:
    return Plan(
        week=str(week),
        status=readiness.status,
        reasons=readiness.reasons,
        guidance=readiness.guidance,
        earliest_start=readiness.earliest_start,
        safety=safety_notes(),
    )


def _preview_state(profile: Profile, stage: int, week: IsoWeek) -> State:
    aerobic = (
        start_state(profile).weekly_aerobic if stage == 1 else STAGE_ENTRY_AEROBIC_MINUTES[stage]
    )
    return start_state(profile, stage=stage)._replace(
        since=week.monday(),
        session_strength=STAGE_ENTRY_SESSION_STRENGTH[stage],
        weekly_aerobic=aerobic,
        action="preview",
        reason=f"a preview of stage {stage} at its usual starting volume",
    )


def _session(person_id: str, draft: Draft) -> PlannedSession:
    content = draft.content
    # A session is logged on health platforms as one workout, named by its main block.
    main = content.main
    if main is None:
        raise ValueError("a session holds nothing but a warm-up and a cool-down")
    return PlannedSession.model_validate(
        {
            "id": session_id(person_id, draft.day),
            "date": draft.day,
            "minutes": content.minutes,
            "blocks": content.built,
            "eased": draft.eased,
            "healthkit_activity": main.exercises[0].healthkit_activity,
            "health_connect_exercise": main.exercises[0].health_connect_exercise,
        }
    )


def summarize(sessions: Sequence[PlannedSession]) -> tuple[Balance | None, int, int]:
    """A week's balance, aerobic minutes and strengthening seconds, from its
    sessions (as planned now, or as stored when the week began)."""
    return _summary([figures(session.blocks) for session in sessions])


def _summary(sessions: Sequence[Figures]) -> tuple[Balance | None, int, int]:
    """`summarize`, from each session's figures."""
    if not sessions:
        return None, 0, 0
    back = sum(f.back for f in sessions)
    abdominal = sum(f.abdominal for f in sessions)
    sided = sum(f.sided for f in sessions)
    balance = Balance(
        back_extensor_seconds=back,
        abdominal_seconds=abdominal,
        ratio=round(back / abdominal, 3) if abdominal else None,
        left_seconds=sided // 2,
        right_seconds=sided // 2,
    )
    return balance, sum(f.aerobic for f in sessions), sum(f.strength for f in sessions)


def _notes(
    profile: Profile,
    state: State,
    week: IsoWeek,
    start: date,
    days: Sequence[date],
    drafts: Sequence[Draft],
    aerobic: int,
    red_on: date | None,
) -> tuple[str, ...]:
    notes: list[str] = []
    if week.sunday() < start:
        notes.append(f"The program starts on {start.isoformat()}.")
    elif not days:
        notes.append("None of this week's training days is open for a session.")
    elif len(days) < len(profile.training_days) and start in week:
        notes.append(f"The program starts on {start.isoformat()}: this week is a short one.")
    if red_on is not None:
        notes.append(
            f"You reported strong pain after the session on {red_on.isoformat()}: the rest "
            "of this week is eased. Stop any exercise that brings the pain back."
        )
    goal = c.AEROBIC_GOAL_MINUTES
    if drafts:
        target = round(state.weekly_aerobic * len(days) / len(profile.training_days))
        wanted = goal if state.stage == 4 and state.weekly_aerobic >= goal else target
        eased = red_on is not None
        if aerobic < wanted and not eased:
            notes.append(
                f"Your sessions leave room for {aerobic} of the {wanted} aerobic minutes "
                f"planned this week: add about {wanted - aerobic} minutes of walking on other "
                "days, at a pace where you can talk but not sing."
            )
        elif state.stage == 4 and aerobic < goal:
            notes.append(f"Building up towards {goal} aerobic minutes a week: {aerobic} this week.")
    return tuple(notes)
