"""Request and response bodies: `XCreate` / `XUpdate` in, `XPublic` out.

Requests forbid unknown fields, take numbers only as JSON numbers (`true` or
`"5"` is not an integer; `5.0` is) and dates only as strings. The engine's own
models (`programs.Plan`, `programs.Progress`, `programs.Readiness`,
`programs.Exercise`) are served as they are.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationInfo,
    field_validator,
)
from pydantic.config import JsonDict

from programs import (
    AerobicActivity,
    Equipment,
    Exercise,
    FitnessLevel,
    Plan,
    RedFlag,
    Weekday,
)


def _number_only(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a JSON number")
    return value


def _text_only(value: object) -> object:
    # FastAPI validates parsed JSON in Python mode, where a number would pass as a date.
    if not isinstance(value, str | date):
        raise ValueError("must be an ISO 8601 string")
    return value


def _timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone such as Europe/Berlin") from None
    return name


# Constraints before the validator, so the JSON schema shows minimum/maximum.
Pain = Annotated[
    int,
    Field(ge=0, le=10, description="0 (none) to 10 (worst imaginable)."),
    BeforeValidator(_number_only),
]
Day = Annotated[date, BeforeValidator(_text_only)]
Moment = Annotated[datetime, BeforeValidator(_text_only)]
TimeZone = Annotated[
    str,
    Field(min_length=1, max_length=64, examples=["Europe/Berlin"]),
    AfterValidator(_timezone),
]
SessionMinutes = Annotated[int, Field(ge=15, le=90), BeforeValidator(_number_only)]
BirthYear = Annotated[int, Field(ge=1900, le=2100), BeforeValidator(_number_only)]
TrainingDays = Annotated[
    list[Weekday],
    Field(
        min_length=2,
        max_length=6,
        description="2-6 days; at least two of them not back to back.",
    ),
]
Slug = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9-]*$")]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _drop_null(schema: JsonDict) -> None:
    # A PATCH field may be left out but not sent as null: document it so.
    options = schema.pop("anyOf", None)
    if isinstance(options, list):
        kept = [option for option in options if option != {"type": "null"}]
        if len(kept) == 1 and isinstance(kept[0], dict):
            schema.update(kept[0])
        else:
            schema["anyOf"] = kept
    schema.pop("default", None)


def Omittable() -> Any:
    """The default of a PATCH field that may be omitted but is never null."""
    return Field(default=None, json_schema_extra=_drop_null)


class Partial(Request):
    """A PATCH body: absent fields stay as they are; only some may be null."""

    @field_validator("*", mode="after")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        # Runs only for fields sent: null is "clear", allowed where nullable.
        if value is None and info.field_name not in cls._nullable():
            raise ValueError("must not be null")
        return value

    @classmethod
    def _nullable(cls) -> frozenset[str]:
        return frozenset()


class Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- Clients ----------------------------------------------------------------


class ClientCreate(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Stride Fitness"}]})

    name: Annotated[str, Field(min_length=1, max_length=200)]


class ClientCreated(Public):
    id: str
    name: str
    api_key: str = Field(description="Shown only in this response; keep it secret.")
    created_at: datetime


# --- Users ------------------------------------------------------------------

_USER_EXAMPLE: dict[str, Any] = {
    "external_id": "app-user-1842",
    "timezone": "Europe/Berlin",
    "training_days": ["mon", "wed", "fri"],
    "session_minutes": 30,
    "fitness_level": "moderate",
    "equipment": ["mat", "band"],
    "aerobic_activities": ["walking", "cycling"],
    "birth_year": 1978,
}


class UserCreate(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [_USER_EXAMPLE]})

    external_id: Annotated[str, Field(min_length=1, max_length=200)] = Field(
        description="The app's own id for the person; unique per client."
    )
    timezone: TimeZone = "UTC"
    training_days: TrainingDays
    session_minutes: SessionMinutes
    fitness_level: FitnessLevel = FitnessLevel.moderate
    equipment: list[Equipment] = Field(default_factory=list, max_length=len(Equipment))
    aerobic_activities: list[AerobicActivity] = Field(
        default_factory=lambda: [AerobicActivity.walking], max_length=len(AerobicActivity)
    )
    birth_year: BirthYear | None = None
    program_start: Day | None = Field(
        default=None,
        description="Default: the first day the person is ready. May lie in the past.",
    )


class UserUpdate(Partial):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"training_days": ["tue", "thu", "sat"]}]}
    )

    external_id: Annotated[str, Field(min_length=1, max_length=200)] | None = Omittable()
    timezone: TimeZone | None = Omittable()
    training_days: TrainingDays | None = Omittable()
    session_minutes: SessionMinutes | None = Omittable()
    fitness_level: FitnessLevel | None = Omittable()
    equipment: list[Equipment] | None = Omittable()
    aerobic_activities: list[AerobicActivity] | None = Omittable()
    birth_year: BirthYear | None = None
    program_start: Day | None = Field(
        default=None, description="null goes back to the default start."
    )

    @classmethod
    def _nullable(cls) -> frozenset[str]:
        return frozenset({"birth_year", "program_start"})


class UserPublic(Public):
    id: str
    external_id: str
    timezone: str
    training_days: list[Weekday]
    session_minutes: int
    fitness_level: FitnessLevel
    equipment: list[Equipment]
    aerobic_activities: list[AerobicActivity]
    birth_year: int | None
    program_start: date | None
    created_at: datetime
    updated_at: datetime


class UsersPublic(BaseModel):
    data: list[UserPublic]


# --- Episodes ---------------------------------------------------------------


class EpisodeCreate(Request):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"onset_date": "2026-11-02", "pain_now": 4, "red_flags": []}]
        }
    )

    onset_date: Day
    pain_now: Pain
    red_flags: list[RedFlag] = Field(default_factory=list, max_length=len(RedFlag))
    resolved_on: Day | None = None
    cleared_by_clinician: StrictBool = Field(
        default=False, description="A clinician checked the person and cleared them to exercise."
    )


class EpisodeUpdate(Partial):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"pain_now": 1, "resolved_on": "2026-11-16"}]}
    )

    pain_now: Pain | None = Omittable()
    resolved_on: Day | None = None
    cleared_by_clinician: StrictBool | None = Omittable()

    @classmethod
    def _nullable(cls) -> frozenset[str]:
        return frozenset({"resolved_on"})


class EpisodePublic(Public):
    id: str
    onset_date: date
    pain_now: int
    red_flags: list[RedFlag]
    resolved_on: date | None
    cleared_by_clinician: bool
    created_at: datetime
    updated_at: datetime


class EpisodesPublic(BaseModel):
    data: list[EpisodePublic]


# --- Plans, completions, exercises -------------------------------------------


class PlanPublic(Plan):
    """The engine's plan for one ISO week."""

    preview: bool = Field(
        description="True for a week that has not begun: it is not stored and may change."
    )


class CompletionPut(Request):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "completed_at": "2026-11-18T18:30:00Z",
                    "pain_during": 2,
                    "effort": 4,
                    "skipped": ["side-plank-knees"],
                    "notes": "Felt fine.",
                }
            ]
        }
    )

    completed_at: Moment = Field(
        description="When the session was done; not in the future. Without an offset, UTC."
    )
    pain_during: Pain
    effort: Pain = Field(description="Rating of perceived exertion, 0-10.")
    pain_before: Pain | None = None
    pain_next_morning: Pain | None = Field(
        default=None, description="May be sent in a later PUT, with the other fields."
    )
    skipped: list[Slug] = Field(
        default_factory=list, max_length=100, description="Slugs of exercises left out."
    )
    notes: Annotated[str, Field(max_length=2000)] | None = None


class CompletionPublic(Public):
    session_id: str
    completed_at: datetime
    pain_during: int
    effort: int
    pain_before: int | None
    pain_next_morning: int | None
    skipped: list[str]
    notes: str | None
    created_at: datetime
    updated_at: datetime


class ExercisesPublic(BaseModel):
    data: list[Exercise]


# --- Health -----------------------------------------------------------------


class Health(BaseModel):
    status: str = Field(examples=["ok"])
