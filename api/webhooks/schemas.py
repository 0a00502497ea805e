"""Webhook endpoints and deliveries over the API, and the events themselves
(documented under `webhooks` in the OpenAPI document)."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from api.schemas import Omittable, Page, Partial, Public, Request
from db.outbox import EventType
from db.webhooks import DeliveryRecord

Url = Annotated[
    str,
    Field(
        min_length=1,
        max_length=2000,
        description="An https:// URL whose host resolves to public addresses only.",
        examples=["https://hooks.example.com/backplan"],
    ),
]
Events = Annotated[
    list[EventType],
    Field(
        min_length=1,
        max_length=len(EventType),
        description="The event types to receive; repeats are ignored.",
    ),
]
Description = Annotated[str, Field(max_length=500)]


def _unique(events: list[EventType] | None) -> list[EventType] | None:
    return None if events is None else list(dict.fromkeys(events))


class WebhookCreate(Request):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://hooks.example.com/backplan",
                    "events": ["session.completed", "referral.needed"],
                    "description": "production",
                }
            ]
        }
    )

    url: Url
    events: Events
    description: Description | None = None

    @field_validator("events")
    @classmethod
    def _unique_events(cls, events: list[EventType]) -> list[EventType]:
        return list(dict.fromkeys(events))


class WebhookUpdate(Partial):
    model_config = ConfigDict(json_schema_extra={"examples": [{"enabled": True}]})

    url: Url | None = Omittable()
    events: Events | None = Omittable()
    description: Description | None = Field(default=None, description="null removes it.")
    enabled: (
        Annotated[
            StrictBool,
            Field(
                description="false pauses deliveries; true resumes them, also after backplan "
                "disabled the endpoint, and clears `disabled_reason`."
            ),
        ]
        | None
    ) = Omittable()

    @field_validator("events")
    @classmethod
    def _unique_events(cls, events: list[EventType] | None) -> list[EventType] | None:
        return _unique(events)

    @classmethod
    def _nullable(cls) -> frozenset[str]:
        return frozenset({"description"})


class WebhookPublic(Public):
    id: str
    url: str
    description: str | None
    events: list[EventType]
    enabled: bool
    disabled_reason: str | None = Field(
        description="Why backplan disabled the endpoint (410 Gone, or every attempt failing "
        "for days), or that the client did; null while enabled."
    )
    disabled_at: datetime | None
    previous_secret_expires_at: datetime | None = Field(
        description="After a rotation, the previous secret signs too until then."
    )
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookPublic):
    secret: str | None = Field(
        description="The signing secret, `whsec_` and base64 of 32 random bytes. Shown only "
        "in this response; rotate it if lost. null when the response is an idempotent "
        "replay: the stored copy leaves the secret out.",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )


class WebhooksPage(Page[WebhookPublic]):
    """The client's endpoints, oldest first."""


class DeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


class AttemptPublic(Public):
    number: int = Field(description="1 for the first attempt; counts on across replays.")
    started_at: datetime
    duration_ms: int | None
    status_code: int | None = Field(description="The receiver's HTTP status; null without one.")
    error: str | None = Field(description="Why no 2xx came back, when the status does not say.")
    response_excerpt: str | None = Field(description="The response body's first 1 KiB.")
    next_attempt_at: datetime | None = Field(description="The retry this attempt scheduled.")


class DeliveryPublic(BaseModel):
    id: str
    event_id: str = Field(description="Also the `webhook-id` header of every attempt.")
    event_type: EventType
    status: DeliveryStatus = Field(
        description="`pending` until a 2xx (`delivered`), or until a 410 or the last retry "
        "(`failed`)."
    )
    payload: dict[str, Any] = Field(description="The body sent.")
    attempt_count: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    updated_at: datetime
    attempts: list[AttemptPublic]

    @classmethod
    def of(cls, record: DeliveryRecord) -> DeliveryPublic:
        delivery = record.delivery
        return cls(
            id=delivery.id,
            event_id=record.event.id,
            event_type=EventType(record.event.type),
            status=DeliveryStatus(delivery.status),
            payload=json.loads(record.event.payload),
            attempt_count=delivery.attempt_count,
            next_attempt_at=delivery.next_attempt_at,
            delivered_at=delivery.delivered_at,
            created_at=delivery.created_at,
            updated_at=delivery.updated_at,
            attempts=[AttemptPublic.model_validate(attempt) for attempt in record.attempts],
        )


class DeliveriesPage(Page[DeliveryPublic]):
    """An endpoint's deliveries, newest first."""


# --- The events (request bodies of the webhooks backplan sends) ---------------


class PersonIds(BaseModel):
    user_id: str = Field(description="backplan's id for the person.")
    external_id: str = Field(description="The app's own id for the person.")


class SessionCompletedData(PersonIds):
    session_id: str = Field(description="GET .../sessions/{session_id}/completion for details.")


class StageChangedData(PersonIds):
    stage: int = Field(ge=1, le=4, description="The new stage; GET .../progress for more.")


class EpisodeData(PersonIds):
    episode_id: str = Field(description="The episode reported.")


class _Event(BaseModel):
    timestamp: datetime = Field(description="When the change happened (UTC).")


class SessionCompleted(_Event):
    type: Literal["session.completed"]
    data: SessionCompletedData


class StageChanged(_Event):
    type: Literal["stage.changed"]
    data: StageChangedData


class ProgramPaused(_Event):
    type: Literal["program.paused"]
    data: EpisodeData


class ReferralNeeded(_Event):
    type: Literal["referral.needed"]
    data: EpisodeData


class UserDeleted(_Event):
    type: Literal["user.deleted"]
    data: PersonIds


EVENT_MODELS: dict[EventType, type[_Event]] = {
    EventType.session_completed: SessionCompleted,
    EventType.stage_changed: StageChanged,
    EventType.program_paused: ProgramPaused,
    EventType.referral_needed: ReferralNeeded,
    EventType.user_deleted: UserDeleted,
}
