"""Replaying a person's history week by week to find where the program stands.

The program's state is never stored: it follows from the profile, the
sessions planned and done, their pain reports and the episodes. The same
inputs always give the same state.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from datetime import date, timedelta
from functools import lru_cache
from itertools import combinations, islice, pairwise
from math import ceil, floor
from operator import attrgetter, lt
from typing import NamedTuple

from programs import constants as c
from programs.models import (
    BlockType,
    Episode,
    Logged,
    PainReport,
    PainSignal,
    Profile,
    ReadinessStatus,
)
from programs.readiness import Readiness, assess
from programs.sessions import (
    AEROBIC_RESERVE_MINUTES,
    Blocks,
    Content,
    Draft,
    Item,
    Setting,
    aerobic_intensity,
    aerobic_options,
    built_block,
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

_SIGNALS = (PainSignal.green, PainSignal.amber, PainSignal.red)  # by severity
# Enum members read in the replay's loop: a module global is read several
# times faster than an enum's member.
_GREEN, _AMBER, _RED = _SIGNALS
_READY = ReadinessStatus.ready
# Any Monday: weeks are worked out on this one instead of their own, so that weeks
# alike in everything but their dates share one cached result.
_REFERENCE_MONDAY = date(2024, 1, 1)


def pain_signal(completion: PainReport, *, last_morning: int | None) -> PainSignal:
    """Silbernagel's traffic light for one session. Next-morning pain above the
    pain before the session (or the last morning reported) is red."""
    return _SIGNALS[severity(completion, last_morning)]


def severity(completion: PainReport, last_morning: int | None) -> int:
    """`pain_signal` as a number, 0 green, 1 amber, 2 red, so that a week's
    signal is the highest: replaying a history asks this of every session."""
    pain = completion.pain_during
    level = 0 if pain <= c.GREEN_MAX_PAIN else 1 if pain <= c.AMBER_MAX_PAIN else 2
    morning = completion.pain_next_morning
    if morning is None or level == 2:
        return level
    before = completion.pain_before
    baseline = before if before is not None else last_morning
    if baseline is not None and morning > baseline:
        return 2
    return max(level, 0 if morning <= c.GREEN_MAX_PAIN else 1 if morning <= c.AMBER_MAX_PAIN else 2)


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
        self.always_ready = all(status is _READY for status in self._status)

    def status(self, day: date) -> ReadinessStatus:
        i = bisect_right(self._points, day)
        return _READY if i == 0 else self._status[i - 1]

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


class WeekRecord(NamedTuple):
    monday: date  # the week's Monday
    state: State  # at the start of the week
    days: tuple[date, ...]  # session days
    planned: int
    done: int
    pains: tuple[int, ...]
    signal: PainSignal | None
    aerobic_planned: int
    aerobic_done: int
    strength_planned: int
    strength_sessions: int  # sessions planned with strength work
    red_on: date | None  # first day with a red signal this week

    @property
    def week(self) -> IsoWeek:
        return IsoWeek.of(self.monday)


def start_state(profile: Profile, *, stage: int = 1) -> State:
    return State(
        stage=stage,
        since=None,
        session_strength=START_SESSION_STRENGTH_SECONDS[profile.fitness_level],
        weekly_aerobic=start_aerobic_minutes(profile.fitness_level, len(profile.training_days)),
        ease=False,
    )


@lru_cache(maxsize=256)
def _strength_weekdays(weekdays: tuple[int, ...]) -> frozenset[int]:
    """Of a week's session weekdays (sorted), those for strength work: up to 3
    with a rest day between each (ACSM 2009: 2-3 non-consecutive days a week),
    spread out, avoiding Sunday-then-Monday across weeks."""
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
    stretches = len(TEMPLATES[state.stage].stretches)
    layout = _week_layout(
        profile_key(profile),
        state.stage,
        state.session_strength,
        state.weekly_aerobic,
        state.ease,
        tuple([day.weekday() for day in days]),
        tuple([day.toordinal() % stretches for day in days]),
        tuple([red_on is not None and day > red_on for day in days]),
        _older(profile, year or days[0].year),
    )
    drafts = []
    for day, frame in zip(days, layout, strict=True):
        drafts.append(Draft(day, frame.eased, frame.content(day)))
    return tuple(drafts)


class DayLayout:
    """A session as far as its weekday decides it: all but its date, which
    picks the aerobic activity that comes round that day (the person's in
    turn, by the day's ordinal)."""

    __slots__ = (
        "_built_head",
        "_built_tail",
        "_contents",
        "aerobic",
        "eased",
        "head",
        "setting",
        "tail",
    )

    def __init__(
        self, setting: Setting, eased: bool, head: Blocks, aerobic: int, tail: Blocks
    ) -> None:
        self.setting = setting
        self.eased = eased
        self.head = head  # warm-up, stretching and strengthening
        self.aerobic = aerobic  # minutes
        self.tail = tail  # cool-down
        self._built_head = tuple(built_block(kind, items) for kind, items in head)
        self._built_tail = tuple(built_block(kind, items) for kind, items in tail)
        # The session's content for each aerobic activity (one when it holds no
        # aerobic work), made when a day first takes it: a layout that misses
        # the cache makes only those its week takes. Two threads may both make
        # one at first; they make equal ones, and either is kept.
        options = len(aerobic_options(setting)) if aerobic > 0 else 1
        self._contents: list[Content | None] = [None] * options

    def content(self, day: date) -> Content:
        contents = self._contents
        turn = day.toordinal() % len(contents)
        found = contents[turn]
        if found is None:
            found = contents[turn] = self._content(turn)
        return found

    def _content(self, turn: int) -> Content:
        head, tail = self.head, self.tail
        if self.aerobic <= 0:
            return Content(head + tail, self._built_head + self._built_tail)
        exercise = aerobic_options(self.setting)[turn]
        items = (Item(exercise, None, self.aerobic, aerobic_intensity(self.setting.stage)),)
        return Content(
            (*head, (BlockType.aerobic, items), *tail),
            (*self._built_head, built_block(BlockType.aerobic, items), *self._built_tail),
        )


@lru_cache(maxsize=4096)
def _week_layout(
    key: ProfileKey,
    stage: int,
    session_strength: int,
    weekly_aerobic: int,
    ease: bool,
    weekdays: tuple[int, ...],
    rotations: tuple[int, ...],
    eased_days: tuple[bool, ...],
    older: bool,
) -> tuple[DayLayout, ...]:
    """`draft_week`'s work that its dates do not change: a week's sessions follow
    from the weekdays, the stretching rotation (the day's ordinal modulo the number
    of stretches) and which days come after a red pain signal. Cached: a week's
    plan is asked for again and again, and weeks alike share their layout."""
    profile = key.profile
    template = TEMPLATES[stage]
    strong = (
        set(weekdays)
        if template.strength_every_session
        else _strength_weekdays(tuple(sorted(weekdays)))
    )
    frames = []
    for weekday, rotation, eased in zip(weekdays, rotations, eased_days, strict=True):
        setting = Setting(
            stage=stage,
            cap=level_cap(
                stage=stage,
                fitness=profile.fitness_level,
                older=older,
                eased=ease or eased,
            ),
            equipment=profile.equipment,
            activities=profile.aerobic_activities,
            session_minutes=profile.session_minutes,
            older=older,
        )
        warm = warm_up(setting)
        stretches = stretching(setting, rotation)
        cool = cool_down(setting, (i.exercise.slug for i in (*warm, *stretches)))
        room = setting.session_minutes - _minutes(warm, stretches, cool)
        budget = round(session_strength * (1 - c.REGRESSION_STEP if eased else 1))
        wanted = least = 0
        if weekday in strong:
            limit = room - min(AEROBIC_RESERVE_MINUTES, room // 2)
            wanted = _minutes(strength_block(stage, setting.cap, setting.equipment, budget, limit))
            least = _minutes(
                strength_block(
                    stage, setting.cap, setting.equipment, MIN_SESSION_STRENGTH_SECONDS, limit
                )
            )
        frames.append((setting, eased, warm, stretches, cool, room, budget, wanted, least))
    # Aerobic minutes first fill the room strength work leaves; only a shortfall
    # squeezes strength sessions, never below their floor.
    target = round(weekly_aerobic * len(weekdays) / len(profile.training_days))
    first = share_out(target, [f[5] - f[7] for f in frames])
    spare = [
        max(0, f[5] - _strength_floor(stage, room=f[5], wanted=f[7], least=f[8]) - got)
        if f[7]
        else 0
        for f, got in zip(frames, first, strict=True)
    ]
    extra = share_out(target - sum(first), spare)
    layout = []
    for frame, aerobic_first, aerobic_extra in zip(frames, first, extra, strict=True):
        setting, eased, warm, stretches, cool, room, budget, wanted, _ = frame
        aerobic = aerobic_first + aerobic_extra
        head: list[tuple[BlockType, tuple[Item, ...]]] = [
            (BlockType.warm_up, warm),
            (BlockType.stretching, stretches),
        ]
        if wanted:
            strength = strength_block(stage, setting.cap, setting.equipment, budget, room - aerobic)
            if strength:
                head.append((BlockType.strengthening, strength))
        if eased:
            aerobic = floor(aerobic * (1 - c.REGRESSION_STEP))
        tail = ((BlockType.cool_down, cool),) if cool else ()
        layout.append(DayLayout(setting, eased, tuple(head), aerobic, tail))
    return tuple(layout)


def _strength_floor(stage: int, *, room: int, wanted: int, least: int) -> int:
    """Minutes a strength session keeps when aerobic work is short of its target.
    In maintenance the 150 aerobic minutes come first (DOMAIN, stage 4); before
    that strength keeps up to half the room. Product decision."""
    if stage == FINAL_STAGE:
        return least
    return max(least, min(wanted, room // 2))


class ProfileKey:
    """A profile as a cache key, hashed once. Equal profiles share one key (see
    `profile_key`), so the week layout and volumes caches compare keys by
    identity instead of comparing profiles field by field fifty-odd times a
    replay."""

    __slots__ = ("_hash", "profile")

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self._hash = hash(profile)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ProfileKey) and (
            other.profile is self.profile or other.profile == self.profile
        )


@lru_cache(maxsize=1024)
def profile_key(profile: Profile) -> ProfileKey:
    """The one key for profiles equal to `profile`."""
    return ProfileKey(profile)


class Volumes(NamedTuple):
    """What a week plans, as far as replaying history needs to know."""

    aerobic: int  # minutes
    strength: int  # seconds under tension
    strength_sessions: int  # sessions holding strength work, as the template asks


@lru_cache(maxsize=1 << 14)
def week_volumes(
    key: ProfileKey,
    stage: int,
    strength: int,
    aerobic: int,
    ease: bool,
    weekdays: tuple[int, ...],
    eased_after: int | None,
    year: int,
    /,
) -> Volumes:
    """The volumes a week would plan, given the state's (stage, strength per
    session, weekly aerobic, ease), its session weekdays (sorted) and the weekday
    of its first red pain signal: what replaying a year of history needs, without
    building its sessions each time. Positional-only, which keeps the key cheap."""
    state = State(stage, None, strength, aerobic, ease)
    days = [_REFERENCE_MONDAY + timedelta(days=d) for d in weekdays]
    red_on = None if eased_after is None else _REFERENCE_MONDAY + timedelta(days=eased_after)
    drafts = draft_week(key.profile, state, days, red_on=red_on, year=year)
    sessions = len(weekdays)
    if not TEMPLATES[stage].strength_every_session:
        sessions = len(_strength_weekdays(weekdays))
    return Volumes(
        aerobic=sum(d.aerobic_minutes for d in drafts),
        strength=sum(d.strength_work for d in drafts),
        strength_sessions=sessions,
    )


def _minutes(*groups: tuple[Item, ...]) -> int:
    return sum(item.minutes for group in groups for item in group)


def _older(profile: Profile, year: int) -> bool:
    age = profile.age_in(year)
    return age is not None and age >= c.OLDER_ADULT_AGE


_WEEK = timedelta(days=7)
_STEP = 1 + c.PROGRESSION_STEP


class Replay:
    """Walks the program from its start up to a target week."""

    def __init__(
        self,
        *,
        profile: Profile,
        program_start: date,
        history: Sequence[Logged],
        timeline: Timeline,
    ) -> None:
        self.profile = profile
        self.profile_key = profile_key(profile)
        self.start = program_start
        self.timeline = timeline
        self._training_days = len(profile.training_days)
        self._offsets = [
            timedelta(days=d) for d in sorted({d.position for d in profile.training_days})
        ]
        # Logs in (date, session id) order; a week's logs are found by bisecting dates.
        # Histories usually come in date order, one session a day: then no sorting.
        self._logs = list(history)
        self._dates = [log.date for log in self._logs]
        if not all(map(lt, self._dates, islice(self._dates, 1, None))):
            self._logs.sort(key=attrgetter("date", "session_id"))
            self._dates = [log.date for log in self._logs]
        self.restarts = sorted(
            {e.onset_date for e in timeline.episodes if e.onset_date > program_start}
        )

    def session_days(self, week: IsoWeek) -> tuple[date, ...]:
        """Training days of the week on which the program runs."""
        return self._session_days(week.monday())

    def _session_days(self, monday: date) -> tuple[date, ...]:
        start = self.start
        days = [day for day in [monday + offset for offset in self._offsets] if day >= start]
        if self.timeline.always_ready:
            return tuple(days)
        status = self.timeline.status
        return tuple(day for day in days if status(day) is _READY)

    def run(self, until: IsoWeek) -> tuple[list[WeekRecord], State, int | None]:
        """Records for every week from the start up to, not including, `until`,
        the state at the start of `until` and the last next-morning pain."""
        state = start_state(self.profile)
        records: list[WeekRecord] = []
        monday = self.start - timedelta(days=self.start.weekday())
        end = until.monday()
        last_morning: int | None = None
        previous: WeekRecord | None = None
        while monday < end:
            record, last_morning = self._week(monday, state, last_morning)
            records.append(record)
            state = self._next(record.state, record, previous)
            if record.planned:
                previous = record
            monday += _WEEK
        return records, state, last_morning

    def week(
        self, week: IsoWeek, state: State, last_morning: int | None
    ) -> tuple[WeekRecord, int | None]:
        return self._week(week.monday(), state, last_morning)

    def _week(
        self, monday: date, state: State, last_morning: int | None
    ) -> tuple[WeekRecord, int | None]:
        dates = self._dates
        first = bisect_left(dates, monday)
        end = bisect_left(dates, monday + _WEEK, first)
        if first == end:
            logs: list[Logged] = []
            days = self._session_days(monday)
        else:
            logs = self._logs[first:end]
            days = tuple(dict.fromkeys(dates[first:end]))
        if days and state.since is None:
            state = state._replace(since=days[0])
        worst = -1  # the week's highest severity; -1 while no session is reported
        red_on: date | None = None
        pains: list[int] = []
        done_aerobic = 0
        for log in logs:
            completion = log.completion
            if completion is None:
                continue
            done_aerobic += log.aerobic_minutes
            pains.append(completion.pain_during)
            level = severity(completion, last_morning)
            if level > worst:
                worst = level
            if level == 2 and red_on is None:
                red_on = log.date
            if completion.pain_next_morning is not None:
                last_morning = completion.pain_next_morning
        volumes = week_volumes(
            self.profile_key,
            state.stage,
            state.session_strength,
            state.weekly_aerobic,
            state.ease,
            tuple(map(date.weekday, days)),
            None if red_on is None else red_on.weekday(),
            monday.isocalendar()[0],
        )
        record = WeekRecord(
            monday,
            state,
            days,
            len(logs) if logs else len(days),
            len(pains),
            tuple(pains),
            None if worst < 0 else _SIGNALS[worst],
            volumes.aerobic,
            done_aerobic,
            volumes.strength,
            volumes.strength_sessions,
            red_on,
        )
        return record, last_morning

    def _next(self, state: State, record: WeekRecord, previous: WeekRecord | None) -> State:
        if self.restarts:
            monday = record.monday
            restart = [d for d in self.restarts if monday <= d < monday + _WEEK]
            if restart:
                stage = max(1, state.stage - 1)
                fresh = start_state(self.profile, stage=stage)
                return fresh._replace(
                    action="restart",
                    reason=f"a new episode began on {restart[0]}: restarting at stage {stage}",
                )
        if not record.planned:
            return state
        state = self._progress(state, record)
        if state.stage < FINAL_STAGE and can_advance(state, record, previous):
            stage = state.stage + 1
            return state._replace(
                stage=stage,
                since=record.monday + _WEEK,
                reason=f"{state.reason}; stage {state.stage} complete: moving on to stage {stage}",
            )
        return state

    def _progress(self, state: State, record: WeekRecord) -> State:
        stage, since = state.stage, state.since
        per_session = (
            record.strength_planned / record.strength_sessions
            if record.strength_sessions and record.strength_planned
            else state.session_strength
        )
        # A week cut short (start, resume) is scaled up to a full week's volume.
        full_week = record.aerobic_planned * self._training_days / len(record.days)
        signal = record.signal
        if signal is _RED:
            return State(
                stage,
                since,
                max(MIN_SESSION_STRENGTH_SECONDS, floor(per_session * 0.8)),
                max(MIN_WEEKLY_AEROBIC_MINUTES, floor(full_week * 0.8)),
                True,
                signal,
                "regress",
                "pain above 5/10, or worse the next morning: less volume, easier variants",
            )
        cap_strength = STAGE_SESSION_STRENGTH_CAP[stage]
        cap_aerobic = c.AEROBIC_STAGE_CAP_MINUTES[stage]
        if signal is _GREEN and record.done / record.planned >= c.ADVANCE_MIN_ADHERENCE:
            return State(
                stage,
                since,
                min(cap_strength, max(ceil(per_session * _STEP), 1)),
                min(cap_aerobic, max(MIN_WEEKLY_AEROBIC_MINUTES, ceil(full_week * _STEP))),
                False,
                signal,
                "progress",
                "low pain and sessions done: about 10% more",
            )
        if signal is _AMBER:
            reason = "pain 4-5/10 last week: holding the volume"
        elif signal is None:
            reason = "no sessions reported last week: holding the volume"
        else:
            reason = "fewer than 3 in 4 sessions done: holding the volume"
        return State(
            stage,
            since,
            min(cap_strength, round(per_session)),
            min(cap_aerobic, max(MIN_WEEKLY_AEROBIC_MINUTES, round(full_week))),
            state.ease,
            signal,
            "hold",
            reason,
        )


def adherence(record: WeekRecord, previous: WeekRecord | None) -> float | None:
    """Share of planned sessions done over the last two weeks."""
    planned, done = record.planned, record.done
    if previous is not None and previous.monday == record.monday - _WEEK:
        planned += previous.planned
        done += previous.done
    return None if planned == 0 else done / planned


def days_in_stage(state: State, record: WeekRecord) -> int:
    if state.since is None:
        return 0
    return (record.monday + _WEEK - state.since).days


def can_advance(state: State, record: WeekRecord, previous: WeekRecord | None) -> bool:
    if state.stage >= FINAL_STAGE or state.since is None:
        return False
    if record.signal is _RED:
        return False
    if days_in_stage(state, record) < c.STAGE_MIN_WEEKS[state.stage] * 7:
        return False
    recent = adherence(record, previous)
    return recent is not None and recent >= c.ADVANCE_MIN_ADHERENCE
