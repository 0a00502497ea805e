"""The domain's vocabulary: enums, inputs and the plan schema.

These pydantic models are the one schema the CLI prints and the HTTP API
serves. Inputs are frozen; nothing here knows about HTTP or storage.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, NamedTuple, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from programs import constants as c


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Weekday(StrEnum):
    mon = "mon"
    tue = "tue"
    wed = "wed"
    thu = "thu"
    fri = "fri"
    sat = "sat"
    sun = "sun"

    @property
    def position(self) -> int:
        """0 for Monday through 6 for Sunday, as `date.weekday()`."""
        return _WEEKDAY_POSITIONS[self]


_WEEKDAY_POSITIONS = {day: position for position, day in enumerate(Weekday)}


class FitnessLevel(StrEnum):
    low = "low"
    moderate = "moderate"
    high = "high"


class Category(StrEnum):
    stretching = "stretching"
    strengthening = "strengthening"
    aerobic = "aerobic"


class Region(StrEnum):
    back_extensor = "back_extensor"
    abdominal_front = "abdominal_front"
    abdominal_side = "abdominal_side"
    hip = "hip"
    legs = "legs"
    upper_body = "upper_body"
    full_body = "full_body"


class Equipment(StrEnum):
    none = "none"
    mat = "mat"
    chair = "chair"
    wall = "wall"
    band = "band"
    dumbbells = "dumbbells"
    bike = "bike"
    pool = "pool"
    elliptical = "elliptical"


class AerobicActivity(StrEnum):
    walking = "walking"
    cycling = "cycling"
    swimming = "swimming"
    elliptical = "elliptical"


class RedFlag(StrEnum):
    """Red-flag codes (NICE NG59; AHCPR 1994; Verhagen 2016)."""

    bladder_bowel_change = "bladder_bowel_change"
    saddle_numbness = "saddle_numbness"
    leg_weakness_progressive = "leg_weakness_progressive"
    bilateral_leg_symptoms = "bilateral_leg_symptoms"
    unsteady_walking = "unsteady_walking"
    fever = "fever"
    unexplained_weight_loss = "unexplained_weight_loss"
    history_of_cancer = "history_of_cancer"
    immunosuppression = "immunosuppression"
    constant_night_pain = "constant_night_pain"
    major_trauma = "major_trauma"
    long_term_steroids = "long_term_steroids"


# Signs of cauda equina compression or serious nerve involvement: urgent referral.
URGENT_RED_FLAGS = frozenset(
    {
        RedFlag.bladder_bowel_change,
        RedFlag.saddle_numbness,
        RedFlag.leg_weakness_progressive,
        RedFlag.bilateral_leg_symptoms,
        RedFlag.unsteady_walking,
    }
)


class ReadinessStatus(StrEnum):
    ready = "ready"
    recovering = "recovering"
    refer = "refer"


class BlockType(StrEnum):
    warm_up = "warm_up"
    stretching = "stretching"
    strengthening = "strengthening"
    aerobic = "aerobic"
    cool_down = "cool_down"


class Intensity(StrEnum):
    """Open mHealth `reported_activity_intensity`."""

    light = "light"
    moderate = "moderate"
    vigorous = "vigorous"


class PainSignal(StrEnum):
    """Silbernagel's pain-monitoring traffic light."""

    green = "green"
    amber = "amber"
    red = "red"


Pain = Annotated[int, Field(ge=0, le=10, strict=True)]


# --- Inputs -----------------------------------------------------------------------


class Episode(Frozen):
    """One reported episode of back pain with spasm, in report order."""

    onset_date: date
    pain_now: Pain
    red_flags: tuple[RedFlag, ...] = ()
    resolved_on: date | None = None
    cleared_by_clinician: bool = False


def _are_adjacent(a: Weekday, b: Weekday) -> bool:
    return abs(a.position - b.position) == 1


class Profile(Frozen):
    """What the person can do and has; the same fields as the API's user."""

    training_days: tuple[Weekday, ...]
    session_minutes: Annotated[int, Field(ge=15, le=90, strict=True)]
    fitness_level: FitnessLevel = FitnessLevel.moderate
    equipment: tuple[Equipment, ...] = ()
    aerobic_activities: tuple[AerobicActivity, ...] = (AerobicActivity.walking,)
    birth_year: Annotated[int, Field(ge=1900, le=2100, strict=True)] | None = None
    program_start: date | None = None

    @field_validator("training_days")
    @classmethod
    def _training_days(cls, days: tuple[Weekday, ...]) -> tuple[Weekday, ...]:
        low, high = c.TRAINING_DAYS_RANGE
        if len(set(days)) != len(days):
            raise ValueError("training_days must not repeat a day")
        if not low <= len(days) <= high:
            raise ValueError(f"training_days must hold {low} to {high} days")
        ordered = tuple(sorted(days, key=lambda d: d.position))
        if not any(
            not _are_adjacent(a, b) for i, a in enumerate(ordered) for b in ordered[i + 1 :]
        ):
            raise ValueError(
                "training_days must include two days that are not back to back "
                "(e.g. mon and wed), so strength days can have a rest day between them"
            )
        return ordered

    @field_validator("equipment", "aerobic_activities")
    @classmethod
    def _unique(cls, items: tuple[StrEnum, ...]) -> tuple[StrEnum, ...]:
        return tuple(dict.fromkeys(items))

    def age_in(self, year: int) -> int | None:
        return None if self.birth_year is None else year - self.birth_year


class Completion(Frozen):
    """What the person reported after a session."""

    completed_at: datetime
    pain_during: Pain
    effort: Pain
    pain_before: Pain | None = None
    pain_next_morning: Pain | None = None
    skipped: tuple[str, ...] = ()


class SessionLog(Frozen):
    """A session that was planned (stored), with its completion if any."""

    session_id: str
    date: date
    aerobic_minutes: int = 0
    strength_seconds: int = 0
    completion: Completion | None = None


class PainReport(Protocol):
    """What replaying a history reads of a completion: a `Completion`, or
    `Pains`."""

    @property
    def pain_during(self) -> int: ...

    @property
    def pain_before(self) -> int | None: ...

    @property
    def pain_next_morning(self) -> int | None: ...


class Logged(Protocol):
    """What replaying a history reads of a session: a `SessionLog`, or a
    `LogEntry`."""

    @property
    def session_id(self) -> str: ...

    @property
    def date(self) -> date: ...

    @property
    def aerobic_minutes(self) -> int: ...

    @property
    def completion(self) -> PainReport | None: ...


class Pains(NamedTuple):
    """A completion's pain reports, all that planning reads of it."""

    pain_during: int
    pain_before: int | None = None
    pain_next_morning: int | None = None


class LogEntry(NamedTuple):
    """A stored session as planning reads it back: a `SessionLog` without
    its volume of strength work, and of its completion only `Pains`. Made by
    the store from rows validated as they were written, so not validated
    again: a history of a year is read on every plan and progress computed."""

    session_id: str
    date: date
    aerobic_minutes: int = 0
    completion: Pains | None = None


# --- Outputs ----------------------------------------------------------------------


class PrescribedExercise(Frozen):
    slug: str
    name: str
    category: Category
    region: Region
    sets: int
    reps: int
    hold_seconds: int | None
    per_side: bool
    minutes: int
    intensity: Intensity | None
    instructions: tuple[str, ...]
    cues: tuple[str, ...] = ()
    cautions: tuple[str, ...] = ()
    work_seconds: int = Field(description="Time under tension: sets x reps x hold, x2 per side.")
    healthkit_activity: str | None = None
    health_connect_exercise: str | None = None


class Block(Frozen):
    type: BlockType
    minutes: int
    exercises: tuple[PrescribedExercise, ...]


class PlannedSession(Frozen):
    id: str
    date: date
    minutes: int
    blocks: tuple[Block, ...]
    eased: bool = Field(
        default=False, description="Eased after a red pain signal earlier in the week."
    )
    healthkit_activity: str | None = Field(
        default=None, description="HKWorkoutActivityType name of the session's main block."
    )
    health_connect_exercise: str | None = Field(
        default=None, description="Health Connect exercise type of the session's main block."
    )


class Balance(Frozen):
    back_extensor_seconds: int
    abdominal_seconds: int
    ratio: float | None = Field(description="back_extensor_seconds / abdominal_seconds.")
    left_seconds: int
    right_seconds: int


class StageRef(Frozen):
    number: int
    name: str


class EducationTip(Frozen):
    topic: str
    text: str


class Adjustment(Frozen):
    """How this week's volume follows from last week's pain and adherence."""

    signal: PainSignal | None
    action: str = Field(description="start | progress | hold | regress | restart")
    reason: str


class Plan(Frozen):
    week: str
    status: ReadinessStatus
    reasons: tuple[str, ...] = ()
    guidance: tuple[str, ...] = ()
    earliest_start: date | None = None
    stage: StageRef | None = None
    sessions: tuple[PlannedSession, ...] = ()
    balance: Balance | None = None
    aerobic_minutes: int = 0
    strength_seconds: int = 0
    adjustment: Adjustment | None = None
    notes: tuple[str, ...] = ()
    education: EducationTip | None = None
    safety: tuple[str, ...] = ()
