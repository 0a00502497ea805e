"""Progress: what a person has done, per week, and what the next stage needs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from math import ceil
from operator import attrgetter

from programs import constants as c
from programs.models import (
    Episode,
    Frozen,
    Logged,
    PainSignal,
    Plan,
    Profile,
    ReadinessStatus,
)
from programs.planner import first_ready_day, replayed_plan
from programs.replay import Replay, State, Timeline, WeekRecord
from programs.stages import FINAL_STAGE, STAGE_NAMES
from programs.weeks import IsoWeek


class StageProgress(Frozen):
    number: int
    name: str
    since: date
    weeks_in_stage: int


class WeekProgress(Frozen):
    week: str
    planned: int
    done: int
    adherence: float | None
    mean_pain: float | None
    aerobic_minutes_done: int
    signal: PainSignal | None


class NextStage(Frozen):
    number: int
    name: str
    weeks_remaining: int
    adherence_needed: float
    adherence_recent: float | None
    pain_ok: bool
    missing: tuple[str, ...]


class Progress(Frozen):
    status: ReadinessStatus
    stage: StageProgress | None
    weeks: tuple[WeekProgress, ...]
    streak_weeks: int
    streak_sessions: int
    next_stage: NextStage | None


def progress(
    *,
    person_id: str,
    profile: Profile,
    today: date,
    history: Sequence[Logged] = (),
    episodes: Sequence[Episode] = (),
) -> Progress:
    """Stage, per-week adherence and pain, streaks, and what the next stage needs."""
    timeline = Timeline(episodes)
    status = timeline.status(today)
    start = profile.program_start or first_ready_day(episodes=episodes, today=today)
    if start is None or start > today:
        return Progress(
            status=status, stage=None, weeks=(), streak_weeks=0, streak_sessions=0, next_stage=None
        )
    replay = Replay(profile=profile, program_start=start, history=history, timeline=timeline)
    current = IsoWeek.of(today)
    records, state, last_morning = replay.run(current)
    record, _ = replay.week(current, state, last_morning)
    records.append(record)
    state = record.state
    weeks = tuple(_week(r) for r in records)
    previous = next((r for r in reversed(records[:-1]) if r.planned), None)
    return Progress(
        status=status,
        stage=_stage(state, start=start, today=today),
        weeks=weeks,
        streak_weeks=_streak_weeks(records),
        streak_sessions=_streak_sessions(history, today),
        next_stage=_next_stage(state, record, previous, history=history, today=today),
    )


def plan_with_stage(
    *,
    person_id: str,
    profile: Profile,
    week: IsoWeek,
    today: date,
    history: Sequence[Logged] = (),
    episodes: Sequence[Episode] = (),
) -> tuple[Plan, StageProgress | None]:
    """`plan_week` and `progress(...).stage`, as serving a week needs both: for
    this week, from one replay of the history.

    The stage is the same whether or not `history` holds the week's own
    sessions (stored when first served): replaying a week reads only their
    dates, which are the days the week was planned on, and their completions."""
    planned = replayed_plan(
        person_id=person_id,
        profile=profile,
        week=week,
        today=today,
        history=history,
        episodes=episodes,
    )
    start, record = planned.start, planned.record
    if start is None or start > today:
        return planned.plan, None
    if record is not None and week == IsoWeek.of(today):
        return planned.plan, _stage(record.state, start=start, today=today)
    stage = current_stage(profile=profile, today=today, history=history, episodes=episodes)
    return planned.plan, stage


def current_stage(
    *,
    profile: Profile,
    today: date,
    history: Sequence[Logged] = (),
    episodes: Sequence[Episode] = (),
) -> StageProgress | None:
    """`progress(...).stage` alone: the stage, without the weeks' figures."""
    start = profile.program_start or first_ready_day(episodes=episodes, today=today)
    if start is None or start > today:
        return None
    replay = Replay(
        profile=profile, program_start=start, history=history, timeline=Timeline(episodes)
    )
    current = IsoWeek.of(today)
    _, state, last_morning = replay.run(current)
    record, _ = replay.week(current, state, last_morning)
    return _stage(record.state, start=start, today=today)


def _stage(state: State, *, start: date, today: date) -> StageProgress:
    since = state.since or start
    return StageProgress(
        number=state.stage,
        name=STAGE_NAMES[state.stage],
        since=since,
        weeks_in_stage=max(0, (today - since).days) // 7,
    )


def _week(record: WeekRecord) -> WeekProgress:
    return WeekProgress(
        week=str(record.week),
        planned=record.planned,
        done=record.done,
        adherence=round(record.done / record.planned, 3) if record.planned else None,
        mean_pain=round(mean_pain(record.pains), 1) if record.pains else None,
        aerobic_minutes_done=record.aerobic_done,
        signal=record.signal,
    )


def mean_pain(pains: Sequence[int]) -> float:
    """The mean of whole-number pains: `statistics.mean` without its exact
    fractions. Dividing an int by an int is correctly rounded, as `mean` rounds
    its exact result (it gives an int when the mean is whole; a float field
    holds the same value either way)."""
    return sum(pains) / len(pains)


def _streak_weeks(records: Sequence[WeekRecord]) -> int:
    """Weeks in a row with at least 3 in 4 planned sessions done. The current
    week counts once it meets the goal; until then the streak ends last week."""
    streak = 0
    for i, record in enumerate(reversed(records)):
        if not record.planned:
            continue
        met = record.done / record.planned >= c.ADVANCE_MIN_ADHERENCE
        if met:
            streak += 1
        elif i > 0:
            break
    return streak


def _streak_sessions(history: Sequence[Logged], today: date) -> int:
    """Planned sessions done in a row, up to today; today's may still be to come."""
    streak = 0
    for log in sorted(history, key=attrgetter("date", "session_id"), reverse=True):
        if log.date > today or (log.date == today and log.completion is None):
            continue
        if log.completion is None:
            break
        streak += 1
    return streak


def _next_stage(
    state: State,
    record: WeekRecord,
    previous: WeekRecord | None,
    *,
    history: Sequence[Logged],
    today: date,
) -> NextStage | None:
    if state.stage >= FINAL_STAGE:
        return None
    monday = record.week.monday()
    in_stage = 0 if state.since is None else max(0, (monday - state.since).days)
    weeks_left = max(0, ceil((c.STAGE_MIN_WEEKS[state.stage] * 7 - in_stage) / 7))
    recent = _recent_adherence(record, previous, history=history, today=today)
    pain_ok = record.signal is not PainSignal.red
    missing = []
    if weeks_left > 1:
        missing.append(f"{weeks_left} more weeks in this stage, this one included")
    elif weeks_left == 1:
        missing.append("to finish this week")
    if recent is None or recent < c.ADVANCE_MIN_ADHERENCE:
        missing.append(
            f"at least {c.ADVANCE_MIN_ADHERENCE:.0%} of planned sessions done over the last "
            f"{c.ADHERENCE_WINDOW_WEEKS} weeks"
        )
    if not pain_ok:
        missing.append("a week without pain above 5/10 or worse next-morning pain")
    return NextStage(
        number=state.stage + 1,
        name=STAGE_NAMES[state.stage + 1],
        weeks_remaining=weeks_left,
        adherence_needed=c.ADVANCE_MIN_ADHERENCE,
        adherence_recent=None if recent is None else round(recent, 3),
        pain_ok=pain_ok,
        missing=tuple(missing),
    )


def _recent_adherence(
    record: WeekRecord,
    previous: WeekRecord | None,
    *,
    history: Sequence[Logged],
    today: date,
) -> float | None:
    """Adherence over last week and this week so far: sessions still to come
    this week are not counted as missed."""
    due = sum(1 for day in record.days if day < today)
    due += sum(1 for log in history if log.date == today and log.completion is not None)
    planned, done = due, record.done
    if previous is not None and previous.week == record.week.shift(-1):
        planned += previous.planned
        done += previous.done
    return None if planned == 0 else done / planned
