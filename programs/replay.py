"""Replaying a person's history week by week to find where the program stands.

The program's state is never stored: it follows from the profile, the
sessions planned and done, their pain reports and the episodes. The same
inputs always give the same state.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from itertools import combinations, pairwise
from math import ceil, floor
from typing import NamedTuple

from programs import constants as c
from programs.models import (
    BlockType,
    Completion,
    Episode,
    PainSignal,
    Profile,
    ReadinessStatus,
    SessionLog,
)
from programs.readiness import Readiness, assess
from programs.sessions import (
    AEROBIC_RESERVE_MINUTES,
    Draft,
    Item,
    Setting,
    aerobic_exercise,
    aerobic_intensity,
    cool_down,
    share_out,
    strength_block,
    stretching,
    warm_up,
)
from programs.stages import (
    FINAL_STAGE,
    MIN_SESSION_STRENGTH_SECONDS,
    MIN_WEEKLY_AEROBIC_MINUTES,
    STAGE_SESSION_STRENGTH_CAP,
    START_SESSION_STRENGTH_SECONDS,
    TEMPLATES,
    level_cap,
    start_aerobic_minutes,
)
from programs.weeks import IsoWeek

_SEVERITY = {PainSignal.green: 0, PainSignal.amber: 1, PainSignal.red: 2}
# Any Monday: weeks are worked out on this one instead of their own, so that weeks
# alike in everything but their dates share one cached result.
_REFERENCE_MONDAY = date(2024, 1, 1)


def pain_signal(completion: Completion, *, last_morning: int | None) -> PainSignal:
    """Silbernagel's traffic light for one session. Next-morning pain above the
    pain before the session (or the last morning reported) is red."""
    signal: PainSignal | None = _grade(completion.pain_during)
    morning = completion.pain_next_morning
    if morning is not None:
        baseline = completion.pain_before if completion.pain_before is not None else last_morning
        if baseline is not None and morning > baseline:
            return PainSignal.red
        signal = worst(signal, _grade(morning))
    return signal or PainSignal.green


def _grade(pain: int) -> PainSignal:
    if pain <= c.GREEN_MAX_PAIN:
        return PainSignal.green
    if pain <= c.AMBER_MAX_PAIN:
        return PainSignal.amber
    return PainSignal.red


def worst(a: PainSignal | None, b: PainSignal | None) -> PainSignal | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if _SEVERITY[a] >= _SEVERITY[b] else b


class Timeline:
    """The readiness gate for every day, computed once per set of episodes.

    The gate's answer only changes at onsets, 14 and 28 days after them and at
    resolution dates, so it is evaluated at those points and looked up between.
    """

    def __init__(self, episodes: Sequence[Episode]) -> None:
        self.episodes = tuple(episodes)
        points: set[date] = set()
        for e in self.episodes:
            points.add(e.onset_date)
            points.add(e.onset_date + timedelta(days=c.MIN_DAYS_AFTER_ONSET))
            points.add(e.onset_date + timedelta(days=c.NO_IMPROVEMENT_DAYS))
            if e.resolved_on is not None:
                points.add(e.resolved_on)
        self._points = sorted(points)
        self._status = [assess(self.episodes, on=p).status for p in self._points]

    def status(self, day: date) -> ReadinessStatus:
        i = bisect_right(self._points, day)
        return ReadinessStatus.ready if i == 0 else self._status[i - 1]

    def assess(self, day: date) -> Readiness:
        return assess(self.episodes, on=day)


class State(NamedTuple):
    """Where the program stands at the start of a week."""

    stage: int
    since: date | None  # first day of the stage; None while paused
    session_strength: int  # seconds under tension per strength session
    weekly_aerobic: int  # minutes for a full week
    ease: bool  # easier variants after a red pain signal
    signal: PainSignal | None = None  # last active week's signal
    action: str = "start"
    reason: str = "first week of the program"


@dataclass(frozen=True, slots=True)
class WeekRecord:
    week: IsoWeek
    state: State  # at the start of the week
    days: tuple[date, ...]  # session days
    planned: int
    done: int
    pains: tuple[int, ...]
    signal: PainSignal | None
    aerobic_planned: int
    aerobic_done: int
    strength_planned: int
    red_on: date | None  # first day with a red signal this week


def start_state(profile: Profile, *, stage: int = 1) -> State:
    return State(
        stage=stage,
        since=None,
        session_strength=START_SESSION_STRENGTH_SECONDS[profile.fitness_level],
        weekly_aerobic=start_aerobic_minutes(profile.fitness_level, len(profile.training_days)),
        ease=False,
    )


def strength_days(days: Sequence[date]) -> tuple[date, ...]:
    """Up to 3 days with a rest day between each (ACSM 2009: 2-3 non-consecutive
    days a week), spread out, avoiding Sunday-then-Monday across weeks."""
    chosen = _strength_weekdays(tuple(sorted(day.weekday() for day in days)))
    return tuple(day for day in sorted(days) if day.weekday() in chosen)


@lru_cache(maxsize=256)
def _strength_weekdays(weekdays: tuple[int, ...]) -> frozenset[int]:
    days = [_REFERENCE_MONDAY + timedelta(days=d) for d in weekdays]
    for size in (3, 2, 1):
        options = [
            combo
            for combo in combinations(days, size)
            if all((b - a).days > 1 for a, b in pairwise(combo))
        ]
        if options:
            return frozenset(day.weekday() for day in min(options, key=_spread))
    return frozenset()


def _spread(combo: tuple[date, ...]) -> tuple[int, int, tuple[date, ...]]:
    wraps = int(combo[0].weekday() == 0 and combo[-1].weekday() == 6)
    gaps = [(b - a).days for a, b in pairwise(combo)] or [7]
    return (wraps, -min(gaps), combo)


def draft_week(
    profile: Profile,
    state: State,
    days: Sequence[date],
    *,
    red_on: date | None,
    year: int | None = None,
) -> tuple[Draft, ...]:
    """The sessions of one week; those after a red pain signal this week are eased."""
    if not days:
        return ()
    template = TEMPLATES[state.stage]
    strong = set(days) if template.strength_every_session else set(strength_days(days))
    older = _older(profile, year or days[0].year)
    frames = []
    for day in days:
        eased = red_on is not None and day > red_on
        setting = Setting(
            stage=state.stage,
            cap=level_cap(
                stage=state.stage,
                fitness=profile.fitness_level,
                older=older,
                eased=state.ease or eased,
            ),
            equipment=profile.equipment,
            activities=profile.aerobic_activities,
            session_minutes=profile.session_minutes,
            older=older,
        )
        rotation = day.toordinal()
        warm = warm_up(setting)
        stretches = stretching(setting, rotation)
        cool = cool_down(setting, (i.exercise.slug for i in (*warm, *stretches)))
        room = setting.session_minutes - _minutes(warm, stretches, cool)
        budget = round(state.session_strength * (1 - c.REGRESSION_STEP if eased else 1))
        wanted = least = 0
        if day in strong:
            limit = room - min(AEROBIC_RESERVE_MINUTES, room // 2)
            wanted = _minutes(
                strength_block(state.stage, setting.cap, setting.equipment, budget, limit)
            )
            least = _minutes(
                strength_block(
                    state.stage, setting.cap, setting.equipment, MIN_SESSION_STRENGTH_SECONDS, limit
                )
            )
        frames.append((day, setting, eased, warm, stretches, cool, room, budget, wanted, least))
    # Aerobic minutes first fill the room strength work leaves; only a shortfall
    # squeezes strength sessions, never below their floor.
    target = round(state.weekly_aerobic * len(days) / len(profile.training_days))
    first = share_out(target, [f[6] - f[8] for f in frames])
    spare = [
        max(0, f[6] - _strength_floor(state.stage, room=f[6], wanted=f[8], least=f[9]) - got)
        if f[8]
        else 0
        for f, got in zip(frames, first, strict=True)
    ]
    extra = share_out(target - sum(first), spare)
    drafts = []
    for frame, aerobic_first, aerobic_extra in zip(frames, first, extra, strict=True):
        day, setting, eased, warm, stretches, cool, room, budget, wanted, _ = frame
        aerobic = aerobic_first + aerobic_extra
        strength: tuple[Item, ...] = ()
        if wanted:
            strength = strength_block(
                state.stage, setting.cap, setting.equipment, budget, room - aerobic
            )
        if eased:
            aerobic = floor(aerobic * (1 - c.REGRESSION_STEP))
        blocks: list[tuple[BlockType, tuple[Item, ...]]] = [
            (BlockType.warm_up, warm),
            (BlockType.stretching, stretches),
        ]
        if strength:
            blocks.append((BlockType.strengthening, strength))
        if aerobic > 0:
            exercise = aerobic_exercise(setting, day.toordinal())
            item = Item(exercise, None, aerobic, aerobic_intensity(state.stage))
            blocks.append((BlockType.aerobic, (item,)))
        if cool:
            blocks.append((BlockType.cool_down, cool))
        drafts.append(Draft(day, tuple(blocks), eased))
    return tuple(drafts)


def _strength_floor(stage: int, *, room: int, wanted: int, least: int) -> int:
    """Minutes a strength session keeps when aerobic work is short of its target.
    In maintenance the 150 aerobic minutes come first (DOMAIN, stage 4); before
    that strength keeps up to half the room. Product decision."""
    if stage == FINAL_STAGE:
        return least
    return max(least, min(wanted, room // 2))


class ProfileKey:
    """A profile as a cache key, hashed once: replaying a year asks the weekly
    volumes cache fifty-odd times for the same profile."""

    __slots__ = ("_hash", "profile")

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self._hash = hash(profile)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ProfileKey) and other.profile == self.profile


@lru_cache(maxsize=1 << 14)
def week_volumes(
    key: ProfileKey,
    volumes: tuple[int, int, int, bool],
    weekdays: tuple[int, ...],
    *,
    eased_after: int | None,
    year: int,
) -> tuple[int, int]:
    """(aerobic minutes, strength seconds) a week would plan, given (stage, strength
    per session, weekly aerobic, ease): what replaying a year of history needs,
    without building its sessions each time."""
    stage, strength, aerobic, ease = volumes
    state = State(stage, None, strength, aerobic, ease)
    days = [_REFERENCE_MONDAY + timedelta(days=d) for d in weekdays]
    red_on = None if eased_after is None else _REFERENCE_MONDAY + timedelta(days=eased_after)
    drafts = draft_week(key.profile, state, days, red_on=red_on, year=year)
    return sum(d.aerobic_minutes for d in drafts), sum(d.strength_work for d in drafts)


def _minutes(*groups: tuple[Item, ...]) -> int:
    return sum(item.minutes for group in groups for item in group)


def _older(profile: Profile, year: int) -> bool:
    age = profile.age_in(year)
    return age is not None and age >= c.OLDER_ADULT_AGE


class Replay:
    """Walks the program from its start up to a target week."""

    def __init__(
        self,
        *,
        profile: Profile,
        program_start: date,
        history: Sequence[SessionLog],
        timeline: Timeline,
    ) -> None:
        self.profile = profile
        self.profile_key = ProfileKey(profile)
        self.start = program_start
        self.timeline = timeline
        self.logs: dict[tuple[int, int], list[SessionLog]] = defaultdict(list)
        for log in sorted(history, key=lambda log: (log.date, log.session_id)):
            year, number, _ = log.date.isocalendar()
            self.logs[year, number].append(log)
        self.restarts = {e.onset_date for e in timeline.episodes if e.onset_date > program_start}

    def session_days(self, week: IsoWeek) -> tuple[date, ...]:
        """Training days of the week on which the program runs."""
        wanted = {d.position for d in self.profile.training_days}
        return tuple(
            day
            for day in week.days()
            if day.weekday() in wanted
            and day >= self.start
            and self.timeline.status(day) is ReadinessStatus.ready
        )

    def run(self, until: IsoWeek) -> tuple[list[WeekRecord], State, int | None]:
        """Records for every week from the start up to, not including, `until`,
        the state at the start of `until` and the last next-morning pain."""
        state = start_state(self.profile)
        records: list[WeekRecord] = []
        week = IsoWeek.of(self.start)
        last_morning: int | None = None
        previous: WeekRecord | None = None
        while week < until:
            record, last_morning = self.week(week, state, last_morning)
            records.append(record)
            state = self._next(record.state, record, previous)
            if record.planned:
                previous = record
            week = week.shift(1)
        return records, state, last_morning

    def week(
        self, week: IsoWeek, state: State, last_morning: int | None
    ) -> tuple[WeekRecord, int | None]:
        logs = self.logs.get((week.year, week.week), [])
        days = tuple(sorted({log.date for log in logs})) if logs else self.session_days(week)
        if days and state.since is None:
            state = state._replace(since=days[0])
        signal: PainSignal | None = None
        red_on: date | None = None
        pains: list[int] = []
        done_aerobic = 0
        done = 0
        for log in logs:
            if log.completion is None:
                continue
            done += 1
            done_aerobic += log.aerobic_minutes
            pains.append(log.completion.pain_during)
            session_signal = pain_signal(log.completion, last_morning=last_morning)
            if session_signal is PainSignal.red and red_on is None:
                red_on = log.date
            signal = worst(signal, session_signal)
            if log.completion.pain_next_morning is not None:
                last_morning = log.completion.pain_next_morning
        weekdays = tuple(day.weekday() for day in days)
        aerobic, strength = week_volumes(
            self.profile_key,
            (state.stage, state.session_strength, state.weekly_aerobic, state.ease),
            weekdays,
            eased_after=None if red_on is None else red_on.weekday(),
            year=week.year,
        )
        record = WeekRecord(
            week=week,
            state=state,
            days=days,
            planned=len(logs) if logs else len(days),
            done=done,
            pains=tuple(pains),
            signal=signal,
            aerobic_planned=aerobic,
            aerobic_done=done_aerobic,
            strength_planned=strength,
            red_on=red_on,
        )
        return record, last_morning

    def _next(self, state: State, record: WeekRecord, previous: WeekRecord | None) -> State:
        restart = [d for d in self.restarts if d in record.week]
        if restart:
            stage = max(1, state.stage - 1)
            fresh = start_state(self.profile, stage=stage)
            return fresh._replace(
                action="restart",
                reason=f"a new episode began on {min(restart)}: restarting at stage {stage}",
            )
        if not record.planned:
            return state
        state = self._progress(state, record)
        return self._advance(state, record, previous)

    def _progress(self, state: State, record: WeekRecord) -> State:
        strength_days_planned = len(record.days)
        if not TEMPLATES[state.stage].strength_every_session:
            weekdays = tuple(sorted(day.weekday() for day in record.days))
            strength_days_planned = len(_strength_weekdays(weekdays))
        per_session = (
            record.strength_planned / strength_days_planned
            if strength_days_planned and record.strength_planned
            else state.session_strength
        )
        # A week cut short (start, resume) is scaled up to a full week's volume.
        full_week = record.aerobic_planned * len(self.profile.training_days) / len(record.days)
        adherence = record.done / record.planned
        cap_strength = STAGE_SESSION_STRENGTH_CAP[state.stage]
        cap_aerobic = c.AEROBIC_STAGE_CAP_MINUTES[state.stage]
        if record.signal is PainSignal.red:
            return state._replace(
                session_strength=max(MIN_SESSION_STRENGTH_SECONDS, floor(per_session * 0.8)),
                weekly_aerobic=max(MIN_WEEKLY_AEROBIC_MINUTES, floor(full_week * 0.8)),
                ease=True,
                signal=record.signal,
                action="regress",
                reason="pain above 5/10, or worse the next morning: less volume, easier variants",
            )
        if record.signal is PainSignal.amber:
            return state._replace(
                session_strength=min(cap_strength, round(per_session)),
                weekly_aerobic=min(cap_aerobic, max(MIN_WEEKLY_AEROBIC_MINUTES, round(full_week))),
                signal=record.signal,
                action="hold",
                reason="pain 4-5/10 last week: holding the volume",
            )
        if record.signal is PainSignal.green and adherence >= c.ADVANCE_MIN_ADHERENCE:
            step = 1 + c.PROGRESSION_STEP
            return state._replace(
                session_strength=min(cap_strength, max(ceil(per_session * step), 1)),
                weekly_aerobic=min(
                    cap_aerobic, max(MIN_WEEKLY_AEROBIC_MINUTES, ceil(full_week * step))
                ),
                ease=False,
                signal=record.signal,
                action="progress",
                reason="low pain and sessions done: about 10% more",
            )
        return state._replace(
            session_strength=min(cap_strength, round(per_session)),
            weekly_aerobic=min(cap_aerobic, max(MIN_WEEKLY_AEROBIC_MINUTES, round(full_week))),
            signal=record.signal,
            action="hold",
            reason=(
                "no sessions reported last week: holding the volume"
                if record.signal is None
                else "fewer than 3 in 4 sessions done: holding the volume"
            ),
        )

    def _advance(self, state: State, record: WeekRecord, previous: WeekRecord | None) -> State:
        if not can_advance(state, record, previous):
            return state
        stage = state.stage + 1
        return state._replace(
            stage=stage,
            since=record.week.sunday() + timedelta(days=1),
            reason=f"{state.reason}; stage {state.stage} complete: moving on to stage {stage}",
        )


def adherence(record: WeekRecord, previous: WeekRecord | None) -> float | None:
    """Share of planned sessions done over the last two weeks."""
    weeks = [record] + ([previous] if previous and previous.week == record.week.shift(-1) else [])
    planned = sum(w.planned for w in weeks)
    return None if planned == 0 else sum(w.done for w in weeks) / planned


def days_in_stage(state: State, record: WeekRecord) -> int:
    if state.since is None:
        return 0
    return (record.week.sunday() + timedelta(days=1) - state.since).days


def can_advance(state: State, record: WeekRecord, previous: WeekRecord | None) -> bool:
    if state.stage >= FINAL_STAGE or state.since is None:
        return False
    recent = adherence(record, previous)
    return (
        days_in_stage(state, record) >= c.STAGE_MIN_WEEKS[state.stage] * 7
        and recent is not None
        and recent >= c.ADVANCE_MIN_ADHERENCE
        and record.signal is not PainSignal.red
    )
