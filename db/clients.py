"""Clients and their API keys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from db import changes
from db.errors import NotFound
from db.pages import Position, page_by_creation
from db.tables import ApiKey, Client


def create_client(
    session: Session,
    *,
    name: str,
    key_id: str,
    key_hash: str,
    key_prefix: str,
    now: datetime,
    scopes: Sequence[str] = (),
) -> Client:
    """A new client with one API key (of which only the hash is kept)."""
    client = Client(name=name, created_at=now)
    session.add(client)
    session.flush()
    add_key(
        session,
        client_id=client.id,
        key_id=key_id,
        key_hash=key_hash,
        key_prefix=key_prefix,
        name=None,
        scopes=scopes,
        now=now,
    )
    return client


def add_key(
    session: Session,
    *,
    client_id: str,
    key_id: str,
    key_hash: str,
    key_prefix: str,
    name: str | None,
    scopes: Sequence[str],
    now: datetime,
) -> ApiKey:
    """Another key of the client; an empty `scopes` grants every scope."""
    key = ApiKey(
        id=key_id,
        client_id=client_id,
        key_hash=key_hash,
        prefix=key_prefix,
        name=name,
        scopes=list(scopes),
        created_at=now,
    )
    session.add(key)
    session.flush()
    return key


def get_key(session: Session, *, client_id: str, key_id: str) -> ApiKey:
    """The client's key, revoked or not; NotFound for another client's key too."""
    key = session.exec(
        select(ApiKey).where(ApiKey.id == key_id, ApiKey.client_id == client_id)
    ).first()
    if key is None:
        raise NotFound("API key", key_id)
    return key


def list_keys(
    session: Session, *, client_id: str, after: Position | None, limit: int
) -> list[ApiKey]:
    """The client's keys, revoked ones included, oldest first."""
    statement = page_by_creation(
        select(ApiKey).where(ApiKey.client_id == client_id),
        created=col(ApiKey.created_at),
        ident=col(ApiKey.id),
        after=after,
        limit=limit,
    )
    return list(session.exec(statement).all())


def revoke_key(session: Session, *, key: ApiKey, now: datetime) -> None:
    """Revoke the key from now on; revoking it again changes nothing."""
    if key.revoked_at is None:
        key.revoked_at = now
        session.add(key)
        session.flush()
        changes.announce(session, changes.key_topic(key.id))


def find_active_key(session: Session, *, key_id: str) -> tuple[ApiKey, Client] | None:
    """The unrevoked key with this id and its client, if any."""
    statement = (
        select(ApiKey, Client)
        .join(Client, col(Client.id) == col(ApiKey.client_id))
        .where(ApiKey.id == key_id, col(ApiKey.revoked_at).is_(None))
    )
    row = session.exec(statement).first()
    return None if row is None else (row[0], row[1])
