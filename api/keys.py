"""API keys: `bp_live_<key id>_<secret>_<checksum>`.

The key id is public and finds the stored row; the whole key is kept only as
its SHA-256. The checksum (CRC32 of the rest) lets secret scanners and this
service reject mistyped or made-up keys without a database lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from api.schemas import Scope
from db import clients as client_store
from db.tables import ApiKey, Client

ALL_SCOPES = frozenset(Scope)

KEY_PREFIX = "bp_live_"
_ALPHABET = string.digits + string.ascii_letters
_KEY_ID_LENGTH = 16
_SECRET_LENGTH = 32
_CHECKSUM_LENGTH = 6


@dataclass(frozen=True, slots=True)
class NewKey:
    key_id: str
    key: str
    key_hash: str

    @property
    def display_prefix(self) -> str:
        """The non-secret start of the key, for listings."""
        return f"{KEY_PREFIX}{self.key_id}"


def generate_key() -> NewKey:
    key_id = _random(_KEY_ID_LENGTH, string.digits + string.ascii_lowercase)
    body = f"{KEY_PREFIX}{key_id}_{_random(_SECRET_LENGTH, _ALPHABET)}"
    key = f"{body}_{_checksum(body)}"
    return NewKey(key_id=key_id, key=key, key_hash=hash_key(key))


def key_id_of(key: str) -> str | None:
    """The key id of a well-formed key with a valid checksum; None otherwise."""
    if not key.startswith(KEY_PREFIX):
        return None
    parts = key[len(KEY_PREFIX) :].split("_")
    if len(parts) != 3:
        return None
    key_id, _secret, checksum = parts
    body = key[: -len(checksum) - 1]
    if len(key_id) != _KEY_ID_LENGTH or not hmac.compare_digest(checksum, _checksum(body)):
        return None
    return key_id


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_matches(key: str, key_hash: str) -> bool:
    return hmac.compare_digest(hash_key(key), key_hash)


def _random(length: int, alphabet: str) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _checksum(body: str) -> str:
    value = zlib.crc32(body.encode())
    digits = []
    for _ in range(_CHECKSUM_LENGTH):
        value, digit = divmod(value, len(_ALPHABET))
        digits.append(_ALPHABET[digit])
    return "".join(reversed(digits))


def scopes_of(key: ApiKey) -> frozenset[Scope]:
    """What a key may do; keys from before scopes existed (none listed) may do all."""
    known = {scope.value for scope in Scope}
    return frozenset(Scope(s) for s in key.scopes if s in known) if key.scopes else ALL_SCOPES


def _ordered(scopes: Iterable[Scope]) -> list[str]:
    chosen = set(scopes)
    return [scope.value for scope in Scope if scope in chosen]


def register_client(session: Session, *, name: str, now: datetime) -> tuple[Client, str]:
    """A new client and its API key, with every scope: the only time the key is
    seen in full."""
    new_key = generate_key()
    client = client_store.create_client(
        session,
        name=name,
        key_id=new_key.key_id,
        key_hash=new_key.key_hash,
        key_prefix=new_key.display_prefix,
        scopes=_ordered(ALL_SCOPES),
        now=now,
    )
    return client, new_key.key


def issue_key(
    session: Session,
    *,
    client_id: str,
    name: str | None,
    scopes: Iterable[Scope],
    now: datetime,
) -> tuple[ApiKey, str]:
    """Another key for the client; the caller checked the scopes are its own."""
    new_key = generate_key()
    key = client_store.add_key(
        session,
        client_id=client_id,
        key_id=new_key.key_id,
        key_hash=new_key.key_hash,
        key_prefix=new_key.display_prefix,
        name=name,
        scopes=_ordered(scopes),
        now=now,
    )
    return key, new_key.key
