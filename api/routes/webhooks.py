"""Webhook endpoints: where a client receives signed events, and the log of
their deliveries. `events` documents the webhooks themselves (the OpenAPI
document's `webhooks` section)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query
from pydantic import BaseModel
from sqlmodel import Session

from api.deps import ClientDep, ClockDep, PageDep, SessionDep, TargetPolicyDep, WriteUsers
from api.errors import ApiError, invalid_field, problem_responses
from api.idempotency import secret_fields
from api.pagination import by_creation, page
from api.routing import Route
from api.webhooks.schemas import (
    EVENT_MODELS,
    DeliveriesPage,
    DeliveryPublic,
    DeliveryStatus,
    WebhookCreate,
    WebhookCreated,
    WebhookPublic,
    WebhooksPage,
    WebhookUpdate,
)
from api.webhooks.signing import new_secret
from api.webhooks.targets import TargetPolicy, TargetRefused
from api.webhooks.worker import RETRY_SCHEDULE
from db import webhooks as webhook_store
from db.outbox import EventType
from db.tables import Client, WebhookEndpoint

# After a rotation the previous secret signs too, so receivers can switch over.
ROTATION_GRACE = timedelta(hours=24)

DELIVERY = f"""\
**Delivery.** backplan POSTs each event as JSON to every enabled endpoint of the
client subscribed to its type, signed per [Standard Webhooks
1.0](https://www.standardwebhooks.com/):

- `webhook-id`: the event's id (`evt_...`), the same on every retry and
  replay: use it to drop repeats (delivery is at least once, and unordered);
- `webhook-timestamp`: Unix seconds when the attempt was sent: reject old ones;
- `webhook-signature`: `v1,` and the base64 HMAC-SHA256, keyed with the base64
  decoding of the secret after `whsec_`, of `{{webhook-id}}.{{webhook-timestamp}}.{{body}}`;
  two of them, space-separated, while a rotated secret's predecessor still signs;
- `content-type: application/json` and `user-agent: backplan-webhooks/<version>`.

Verify the raw body with a Standard Webhooks library, e.g. Python's
`standardwebhooks.Webhook(secret).verify(body, headers)`. Bodies are thin:
`{{type, timestamp, data}}` with ids only, never pain scores, notes or other
health details; fetch what you need from the API.

**Answer** 2xx within 15 s, and do the work afterwards. Anything else (or nothing)
is retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h (each
±20 %), {len(RETRY_SCHEDULE)} attempts in all; after a 429, 502, 503 or 504, not
sooner than its `Retry-After`. Redirects are not followed.
A 410 disables the endpoint, and so does a last retry failing with no successful
delivery to the endpoint since that event's first attempt; `disabled_reason` says
why, and `PATCH {{"enabled": true}}` resumes it. Events for a disabled endpoint are
not queued; those already queued wait and resume when it is enabled again.
"""

_CREATE = """\
Register an endpoint. The response holds its signing secret, shown only this
once (an idempotent replay has `secret: null`); a lost secret is replaced by
rotating it. Scope `users:write`, as for every webhook operation."""

# Endpoints are the client's configuration, like its keys: scope `users:write`.
router = APIRouter(
    prefix="/v1/webhooks",
    tags=["webhooks"],
    responses=problem_responses(400, 401, 403, 404, 422, 500),
    route_class=Route,
    dependencies=[WriteUsers],
)
events = APIRouter(tags=["events"])

EndpointId = Annotated[str, Path(max_length=64, description="The endpoint's id.")]
DeliveryId = Annotated[str, Path(max_length=64, description="The delivery's id.")]


@router.post("", status_code=201, description=f"{_CREATE}\n\n{DELIVERY}")
@secret_fields("secret")
def create_webhook(
    body: WebhookCreate,
    client: ClientDep,
    session: SessionDep,
    policy: TargetPolicyDep,
    now: ClockDep,
) -> WebhookCreated:
    _check_url(policy, body.url)
    endpoint = webhook_store.create_endpoint(
        session,
        client_id=client.id,
        url=body.url,
        events=[event.value for event in body.events],
        description=body.description,
        secret=new_secret(),
        now=now,
    )
    return WebhookCreated.model_validate(endpoint)


@router.get("")
def list_webhooks(client: ClientDep, session: SessionDep, paging: PageDep) -> WebhooksPage:
    """The client's endpoints, oldest first."""
    rows = webhook_store.list_endpoints(
        session,
        client_id=client.id,
        after=paging.after_position("webhooks"),
        limit=paging.limit + 1,
    )
    items, cursor = page(
        rows, paging, kind="webhooks", key=lambda row: by_creation(row.created_at, row.id)
    )
    return WebhooksPage(
        items=[WebhookPublic.model_validate(row) for row in items], next_cursor=cursor
    )


@router.get("/{endpoint_id}")
def read_webhook(endpoint_id: EndpointId, client: ClientDep, session: SessionDep) -> WebhookPublic:
    return WebhookPublic.model_validate(_endpoint(session, client, endpoint_id))


@router.patch("/{endpoint_id}")
def update_webhook(
    endpoint_id: EndpointId,
    body: WebhookUpdate,
    client: ClientDep,
    session: SessionDep,
    policy: TargetPolicyDep,
    now: ClockDep,
) -> WebhookPublic:
    """Change the URL, the events or the description, or disable or re-enable it."""
    endpoint = _endpoint(session, client, endpoint_id)
    changes = body.model_dump(mode="json", exclude_unset=True)
    if "url" in changes:
        _check_url(policy, changes["url"])
    webhook_store.update_endpoint(session, endpoint=endpoint, values=changes, now=now)
    return WebhookPublic.model_validate(endpoint)


@router.delete("/{endpoint_id}", status_code=204)
def delete_webhook(endpoint_id: EndpointId, client: ClientDep, session: SessionDep) -> None:
    """Delete the endpoint and its delivery log; nothing more is sent to it."""
    webhook_store.delete_endpoint(session, endpoint=_endpoint(session, client, endpoint_id))


@router.post("/{endpoint_id}/rotate-secret")
@secret_fields("secret")
def rotate_secret(
    endpoint_id: EndpointId, client: ClientDep, session: SessionDep, now: ClockDep
) -> WebhookCreated:
    """A new secret, shown only in this response. For 24 hours the previous one
    signs too (a second signature in `webhook-signature`), so receivers can
    switch without dropping events. Rotating again ends that grace at once.
    An idempotent replay has `secret: null`."""
    endpoint = _endpoint(session, client, endpoint_id)
    webhook_store.rotate_secret(
        session, endpoint=endpoint, secret=new_secret(), grace_until=now + ROTATION_GRACE, now=now
    )
    return WebhookCreated.model_validate(endpoint)


@router.get("/{endpoint_id}/deliveries")
def list_deliveries(
    endpoint_id: EndpointId,
    client: ClientDep,
    session: SessionDep,
    paging: PageDep,
    status: Annotated[
        DeliveryStatus | None, Query(description="Only deliveries in this state.")
    ] = None,
) -> DeliveriesPage:
    """The endpoint's deliveries, newest first, each with every attempt: when,
    how long, the status code or the error, and the next attempt if any."""
    endpoint = _endpoint(session, client, endpoint_id)
    rows = webhook_store.list_deliveries(
        session,
        endpoint_id=endpoint.id,
        status=None if status is None else status.value,
        after=paging.after_position("webhook-deliveries"),
        limit=paging.limit + 1,
    )
    items, cursor = page(
        rows,
        paging,
        kind="webhook-deliveries",
        key=lambda row: by_creation(row.delivery.created_at, row.delivery.id),
    )
    return DeliveriesPage(items=[DeliveryPublic.of(row) for row in items], next_cursor=cursor)


@router.get("/{endpoint_id}/deliveries/{delivery_id}")
def read_delivery(
    endpoint_id: EndpointId, delivery_id: DeliveryId, client: ClientDep, session: SessionDep
) -> DeliveryPublic:
    endpoint = _endpoint(session, client, endpoint_id)
    record = webhook_store.get_delivery(session, endpoint_id=endpoint.id, delivery_id=delivery_id)
    return DeliveryPublic.of(record)


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/replay",
    status_code=202,
    responses=problem_responses(409),
)
def replay_delivery(
    endpoint_id: EndpointId,
    delivery_id: DeliveryId,
    client: ClientDep,
    session: SessionDep,
    now: ClockDep,
) -> DeliveryPublic:
    """Send the event again, now, with a fresh retry schedule: after a failure,
    or to have it once more. It keeps its `webhook-id`, so a receiver that
    already processed it can tell. 409 while an attempt is in flight."""
    endpoint = _endpoint(session, client, endpoint_id)
    record = webhook_store.get_delivery(session, endpoint_id=endpoint.id, delivery_id=delivery_id)
    if not webhook_store.replay_delivery(session, delivery=record.delivery, now=now):
        raise ApiError(409, "The delivery is being sent right now; replay it once it is recorded.")
    return DeliveryPublic.of(record)


def _endpoint(session: Session, client: Client, endpoint_id: str) -> WebhookEndpoint:
    return webhook_store.get_endpoint(session, client_id=client.id, endpoint_id=endpoint_id)


def _check_url(policy: TargetPolicy, url: str) -> None:
    try:
        policy.check(url)
    except TargetRefused as exc:
        raise invalid_field("#/url", str(exc)) from None


# --- The webhooks themselves, for the OpenAPI document ------------------------

WebhookIdHeader = Annotated[str, Header(description="The event's id; the same on every retry.")]
TimestampHeader = Annotated[str, Header(description="Unix seconds when this attempt was sent.")]
SignatureHeader = Annotated[
    str,
    Header(description="`v1,<base64 HMAC-SHA256>`, one per signing secret, space-separated."),
]

_WHEN = {
    EventType.session_completed: "The person reported a stored session done, the first time.",
    EventType.stage_changed: "The program moved to another stage (forward, or one stage "
    "back after an episode); also when it starts, at stage 1.",
    EventType.program_paused: "A reported or updated episode (a new spasm, or one reopened "
    "or worse) paused a running program until the person is ready again.",
    EventType.referral_needed: "A reported or updated episode calls for a clinician: red "
    "flags, or pain above 3/10 four weeks after onset. The person gets no exercises until "
    "a clinician clears them.",
    EventType.user_deleted: "The person was erased; only their ids remain, in this event.",
}


def _document(event_type: EventType) -> None:
    model = EVENT_MODELS[event_type]

    def receive(
        body: BaseModel,
        webhook_id: WebhookIdHeader,
        webhook_timestamp: TimestampHeader,
        webhook_signature: SignatureHeader,
    ) -> None:
        """Documentation only."""

    # Annotations are strings here (PEP 563); give FastAPI the event's model itself.
    receive.__annotations__["body"] = model

    events.add_api_route(
        event_type.value,
        receive,
        methods=["POST"],
        operation_id=event_type.value.replace(".", "_"),
        summary=event_type.value,
        description=f"{_WHEN[event_type]}\n\n{DELIVERY}",
        responses={200: {"description": "Any 2xx: delivered."}},
    )


for _event_type in EventType:
    _document(_event_type)
