"""Request and response bodies: `XCreate` / `XUpdate` in, `XPublic` out.

Requests forbid unknown fields, take numbers only as JSON numbers (`true` or
`"5"` is not an integer; `5.0` is) and dates only as strings. The engine's own
models (`programs.Plan`, `programs.Progress`, `programs.Readiness`,
`programs.Exercise`) are served as they are.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Annotated, Any, Generic, Literal, TypeVar
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
    PlannedSession,
    RedFlag,
    Weekday,
)


def _number_only(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a JSON number")
    return value


def _utc_representable(value: datetime) -> datetime:
    # 0001-01-01T00:00:00+14:00 parses, but lies before the first UTC instant
    # Python can hold; converting it would fail in the middle of a request.
    try:
        value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except OverflowError:
        raise ValueError("is out of range") from None
    return value


def _text_only(value: object) -> object:
    # FastAPI validates parsed JSON in Python mode, where a number would pass as a date.
    if not isinstance(value, str | date):
        raise ValueError("must be an ISO 8601 string")
    return value


def _hours_minutes(value: object) -> object:
    # Stored as a time; served and taken as HH:MM text.
    return value.strftime("%H:%M") if isinstance(value, time) else value


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
Moment = Annotated[datetime, BeforeValidator(_text_only), AfterValidator(_utc_representable)]
TimeZone = Annotated[
    str,
    Field(min_length=1, max_length=64, examples=["Europe/Berlin"]),
    AfterValidator(_timezone),
]
# Not JSON Schema's `time` format, which requires an offset: a wall-clock time.
LocalTime = Annotated[
    str,
    Field(
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="A local time of day, HH:MM (24-hour clock).",
        examples=["18:00"],
    ),
    BeforeValidator(_hours_minutes),
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
    """A request body. Unknown fields are rejected, and so is U+0000 in any
    text: PostgreSQL cannot store it."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _has_nul(value):
            raise ValueError("must not contain the NUL character (U+0000)")
        return value


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    return False


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


Item = TypeVar("Item")


class Page(BaseModel, Generic[Item]):
    """One page of a list; `next_cursor` fetches the next."""

    items: list[Item]
    next_cursor: str | None = Field(
        description="Send as `cursor` to get the next page; null on the last page."
    )


class Scope(StrEnum):
    """What an API key may do. Every operation names the scope it needs."""

    plans_read = "plans:read"
    sessions_write = "sessions:write"
    users_write = "users:write"
    users_delete = "users:delete"


# --- Clients ----------------------------------------------------------------


class ClientCreate(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Stride Fitness"}]})

    name: Annotated[str, Field(min_length=1, max_length=200)]


class ClientCreated(Public):
    id: str
    name: str
    api_key: str | None = Field(
        description="The client's first key, with every scope. Shown only in this response; "
        "keep it secret. null when the response is an idempotent replay: backplan keeps only "
        "the key's hash."
    )
    created_at: datetime


# --- API keys ----------------------------------------------------------------


class KeyCreate(Request):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "watch app", "scopes": ["plans:read"]}]}
    )

    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    scopes: list[Scope] | None = Field(
        default=None,
        min_length=1,
        max_length=len(Scope),
        description="A subset of the calling key's scopes; default: all of them.",
    )


class KeyPublic(Public):
    id: str = Field(description="The key's public id, the part after `bp_live_`.")
    name: str | None
    prefix: str = Field(description="The non-secret start of the key, to recognise it.")
    scopes: list[Scope]
    created_at: datetime
    revoked_at: datetime | None


class KeyCreated(KeyPublic):
    api_key: str | None = Field(
        description="The key. Shown only in this response; keep it secret. null when the "
        "response is an idempotent replay: backplan keeps only the key's hash."
    )


class KeysPublic(Page[KeyPublic]):
    pass


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
    session_time: LocalTime = Field(
        default="18:00",
        description="When the person trains, local time; calendar events start then.",
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
    session_time: LocalTime | None = Omittable()

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
    session_time: LocalTime
    created_at: datetime
    updated_at: datetime


class UsersPublic(Page[UserPublic]):
    pass


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


class EpisodesPublic(Page[EpisodePublic]):
    pass


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


class ExercisesPublic(Page[Exercise]):
    pass


# --- Calendar ------------------------------------------------------------------


class CalendarFeedPublic(BaseModel):
    created_at: datetime = Field(description="When the current feed URL was issued.")


class CalendarFeedCreated(CalendarFeedPublic):
    url: str | None = Field(
        description="The secret feed URL, for a calendar app to subscribe to; it works "
        "without an API key. Shown only in this response. null when the response is an "
        "idempotent replay: backplan keeps only the token's hash."
    )


# --- Data export ---------------------------------------------------------------


class StoredWeekPublic(BaseModel):
    week: str = Field(examples=["2026-W47"])
    stored_at: datetime


class StoredSessionPublic(BaseModel):
    id: str
    week: str
    date: date
    position: int = Field(description="Order within the day's sessions.")
    eased: bool
    session: PlannedSession = Field(description="The session as served in the plan.")
    created_at: datetime
    updated_at: datetime
    completion: CompletionPublic | None


class StageChangePublic(BaseModel):
    stage: int
    since: date
    recorded_at: datetime


class StoredRequestPublic(BaseModel):
    """A request sent with an Idempotency-Key whose response is kept for replay."""

    idempotency_key: str
    method: str
    path: str
    status: int | None = Field(description="null while the request is still running.")
    created_at: datetime


class EventRecordPublic(BaseModel):
    """A webhook event about the person, as kept in the outbox."""

    id: str
    type: str
    created_at: datetime
    payload: dict[str, Any] = Field(description="The body sent to webhook endpoints.")


class UserExport(BaseModel):
    """Everything backplan stores about one person (GDPR Art. 20)."""

    format: Literal["backplan.export/1"] = "backplan.export/1"
    exported_at: datetime
    user: UserPublic
    episodes: list[EpisodePublic]
    weeks: list[StoredWeekPublic] = Field(description="Weeks stored when first served.")
    sessions: list[StoredSessionPublic] = Field(
        description="The stored weeks' sessions with their completions, in date order."
    )
    stage_changes: list[StageChangePublic]
    calendar_feed: CalendarFeedPublic | None = Field(
        description="The secret feed, if issued; its URL is not stored, only a hash."
    )
    requests: list[StoredRequestPublic] = Field(
        description="Requests about the person whose responses are kept for "
        "Idempotency-Key replays (24 h at least)."
    )
    events: list[EventRecordPublic] = Field(
        description="Webhook events about the person still kept for delivery."
    )


# --- Health -----------------------------------------------------------------


class Health(BaseModel):
    status: str = Field(examples=["ok"])
