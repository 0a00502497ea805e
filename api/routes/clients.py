"""Client registration (operator only)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AdminDep, ClockDep, SessionDep
from api.errors import problem_responses
from api.idempotency import secret_fields
from api.keys import register_client
from api.routing import AdminRoute
from api.schemas import ClientCreate, ClientCreated

router = APIRouter(
    prefix="/v1/clients",
    tags=["clients"],
    responses=problem_responses(400, 401, 422, 500),
    route_class=AdminRoute,
)


@router.post("", status_code=201)
@secret_fields("api_key")
def create_client(
    body: ClientCreate, _admin: AdminDep, session: SessionDep, now: ClockDep
) -> ClientCreated:
    """Register a fitness app (admin token). Its first API key, with every
    scope, is in this response and nowhere else: an idempotent replay has
    `api_key: null`."""
    client, key = register_client(session, name=body.name, now=now)
    return ClientCreated(id=client.id, name=client.name, api_key=key, created_at=client.created_at)
