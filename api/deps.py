"""Every dependency, declared once as an `Annotated` alias."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Path, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlmodel import Session

from api import keys
from api.errors import unauthorized
from api.settings import Settings
from db import clients as client_store
from db import users as user_store
from db.tables import Client, User

api_key_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="The client's API key: `Authorization: Bearer bp_live_...`.",
)
admin_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="AdminToken",
    description="The operator's token, BACKPLAN_ADMIN_TOKEN.",
)
Credentials = HTTPAuthorizationCredentials | None


# The trivial dependencies are async so they run on the event loop, sparing a
# hop to the thread pool on every request.
async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]


def get_session(engine: EngineDep) -> Iterator[Session]:
    """One session and one transaction per request: commit after the handler,
    roll back if it raised."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()


# scope="function": commit before the response is sent, so a failed commit
# is an error response, never a success that was not stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_now() -> datetime:
    """The current time (UTC); tests override this dependency to move the clock."""
    return datetime.now(UTC)


ClockDep = Annotated[datetime, Depends(get_now)]


def get_client(
    session: SessionDep, credentials: Annotated[Credentials, Security(api_key_scheme)]
) -> Client:
    """The client whose API key authorises the request; 401 otherwise."""
    if credentials is None:
        raise unauthorized("An API key is required: send Authorization: Bearer <api key>.")
    token = credentials.credentials
    key_id = keys.key_id_of(token)
    found = None if key_id is None else client_store.find_active_key(session, key_id=key_id)
    if found is None or not keys.key_matches(token, found[0].key_hash):
        raise unauthorized("The API key is invalid or revoked.", invalid=True)
    return found[1]


ClientDep = Annotated[Client, Depends(get_client)]


def require_admin(
    settings: SettingsDep, credentials: Annotated[Credentials, Security(admin_scheme)]
) -> None:
    """The operator's token; with BACKPLAN_ADMIN_TOKEN unset nobody is admin."""
    expected = settings.admin_token
    if not expected:
        raise unauthorized("Client registration is disabled: BACKPLAN_ADMIN_TOKEN is not set.")
    if credentials is None:
        raise unauthorized("The admin token is required: send Authorization: Bearer <token>.")
    if not hmac.compare_digest(credentials.credentials.encode(), expected.encode()):
        raise unauthorized("The admin token is invalid.", invalid=True)


AdminDep = Annotated[None, Depends(require_admin)]


def get_user(
    session: SessionDep,
    client: ClientDep,
    user_id: Annotated[str, Path(max_length=64, description="The user's id.")],
) -> User:
    """The path's user, if it belongs to the calling client; 404 otherwise."""
    return user_store.get_user(session, client_id=client.id, user_id=user_id)


UserDep = Annotated[User, Depends(get_user)]
