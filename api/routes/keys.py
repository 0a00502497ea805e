"""A client's API keys: list, create and revoke its own."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from api import keys
from api.deps import CallerDep, ClockDep, PageDep, SessionDep, WriteUsers
from api.errors import insufficient_scope, problem_responses
from api.idempotency import secret_fields
from api.pagination import by_creation, page
from api.routing import Route
from api.schemas import KeyCreate, KeyCreated, KeyPublic, KeysPublic, Scope
from db import clients as client_store
from db.errors import NotFound
from db.tables import ApiKey

router = APIRouter(
    prefix="/v1/keys",
    tags=["keys"],
    responses=problem_responses(400, 401, 403, 404, 422, 500),
    route_class=Route,
    dependencies=[WriteUsers],
)
KeyId = Annotated[str, Path(max_length=32, description="The key's public id.")]


@router.get("")
def list_keys(caller: CallerDep, session: SessionDep, paging: PageDep) -> KeysPublic:
    """The client's keys, revoked ones included, oldest first. Scope `users:write`."""
    rows = client_store.list_keys(
        session,
        client_id=caller.client.id,
        after=paging.after_position("keys"),
        limit=paging.limit + 1,
    )
    items, cursor = page(
        rows, paging, kind="keys", key=lambda key: by_creation(key.created_at, key.id)
    )
    return KeysPublic(items=[_public(key) for key in items], next_cursor=cursor)


@router.post("", status_code=201)
@secret_fields("api_key")
def create_key(
    body: KeyCreate, caller: CallerDep, session: SessionDep, now: ClockDep, response: Response
) -> KeyCreated:
    """Create another key, e.g. one that may only read plans for a watch app.
    Its scopes must be among the calling key's (403 otherwise); by default it
    gets all of them. The key is in this response and nowhere else: an
    idempotent replay has `api_key: null`. Scope `users:write`."""
    wanted = frozenset(body.scopes) if body.scopes is not None else caller.scopes
    for scope in Scope:
        if scope in wanted and scope not in caller.scopes:
            raise insufficient_scope(scope)
    key, secret = keys.issue_key(
        session, client_id=caller.client.id, name=body.name, scopes=wanted, now=now
    )
    response.headers["Location"] = f"/v1/keys/{key.id}"
    return KeyCreated(**_public(key).model_dump(), api_key=secret)


@router.get("/{key_id}")
def read_key(key_id: KeyId, caller: CallerDep, session: SessionDep) -> KeyPublic:
    """One of the client's keys; 404 once it is revoked (DELETE), which the
    listing still shows with `revoked_at`. Scope `users:write`."""
    key = client_store.get_key(session, client_id=caller.client.id, key_id=key_id)
    if key.revoked_at is not None:
        raise NotFound("API key", key_id)
    return _public(key)


@router.delete("/{key_id}", status_code=204)
def revoke_key(key_id: KeyId, caller: CallerDep, session: SessionDep, now: ClockDep) -> None:
    """Revoke a key: from now on it answers 401, exactly as an unknown key. The
    key making this call may revoke itself. Revoking a revoked key changes
    nothing. Scope `users:write`."""
    key = client_store.get_key(session, client_id=caller.client.id, key_id=key_id)
    client_store.revoke_key(session, key=key, now=now)


def _public(key: ApiKey) -> KeyPublic:
    granted = keys.scopes_of(key)
    return KeyPublic(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        scopes=[scope for scope in Scope if scope in granted],
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )
