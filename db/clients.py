"""Clients and their API keys."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from db.tables import ApiKey, Client


def create_client(
    session: Session, *, name: str, key_id: str, key_hash: str, key_prefix: str, now: datetime
) -> Client:
    """A new client with one API key (of which only the hash is kept)."""
    client = Client(name=name, created_at=now)
    session.add(client)
    session.flush()
    session.add(
        ApiKey(id=key_id, client_id=client.id, key_hash=key_hash, prefix=key_prefix, created_at=now)
    )
    session.flush()
    return client


def find_active_key(session: Session, *, key_id: str) -> tuple[ApiKey, Client] | None:
    """The unrevoked key with this id and its client, if any."""
    statement = (
        select(ApiKey, Client)
        .join(Client, col(Client.id) == col(ApiKey.client_id))
        .where(ApiKey.id == key_id, col(ApiKey.revoked_at).is_(None))
    )
    row = session.exec(statement).first()
    return None if row is None else (row[0], row[1])
