"""Every dependency, declared once as an `Annotated` alias."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Query, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api import idempotency, keys, ratelimit
from api.caching import Caches, Stamp, transaction
from api.errors import ApiError, insufficient_scope, unauthorized
from api.pagination import DEFAULT_LIMIT, MAX_LIMIT, PageRequest
from api.schemas import Scope
from api.settings import Settings
from api.webhooks.targets import TargetPolicy
from db import changes
from db import clients as client_store
from db import users as user_store
from db.engine import reader
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


async def get_target_policy(settings: SettingsDep) -> TargetPolicy:
    """Where webhook URLs may point; tests override it to reach a local receiver."""
    return TargetPolicy.from_settings(settings)


TargetPolicyDep = Annotated[TargetPolicy, Depends(get_target_policy)]


async def get_caches(request: Request) -> Caches:
    caches: Caches = request.app.state.caches
    return caches


CachesDep = Annotated[Caches, Depends(get_caches)]


def get_session(engine: EngineDep, caches: CachesDep) -> Iterator[Session]:
    """One session and one transaction per request: commit after the handler,
    roll back if it raised."""
    with transaction(engine, caches) as session:
        yield session


# scope="function": commit before the response is sent, so a failed commit
# is an error response, never a success that was not stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_now() -> datetime:
    """The current time (UTC); tests override this dependency to move the clock."""
    return datetime.now(UTC)


ClockDep = Annotated[datetime, Depends(get_now)]


@dataclass(frozen=True, slots=True)
class Caller:
    """The API key a request came with, and its client."""

    client: Client
    key_id: str
    scopes: frozenset[Scope]


_CALLER = "backplan.caller"
_RATE_COUNTED = "backplan.rate_counted"


async def authenticate(request: Request, credentials: Credentials) -> Caller:
    """The caller whose API key authorises the request; 401 otherwise (a
    revoked key answers exactly as an unknown one). The request then counts
    against the key's rate limit (429 beyond it). Verified keys are cached by
    the SHA-256 of the token until revoked (`api.caching`).

    It reads the app's state directly rather than through a tree of small
    dependencies: every /v1 request runs it, and each level costs."""
    known: Caller | None = request.scope.get(_CALLER)
    if known is not None:
        return known
    state = request.app.state
    settings: Settings = state.settings
    engine: Engine = state.engine
    caches: Caches = state.caches
    if credentials is None:
        raise unauthorized("An API key is required: send Authorization: Bearer <api key>.")
    token = credentials.credentials
    # Only a verified key is cached, so a hit needs no checksum of the token.
    cache_key = ("caller", keys.hash_key(token))
    caller: Caller | None = caches.get(cache_key) if caches.sync() else None
    if caller is None:
        key_id = keys.key_id_of(token)
        if key_id is None:
            raise unauthorized("The API key is invalid or revoked.", invalid=True)
        stamp = caches.stamp(changes.key_topic(key_id))
        caller = await run_in_threadpool(_find_caller, engine, token, key_id)
        if caller is None:
            raise unauthorized("The API key is invalid or revoked.", invalid=True)
        caches.put(cache_key, caller, topic=changes.key_topic(key_id), stamp=stamp, size=1024)
    if settings.rate_limit_requests:
        await _count_once(request, engine, caller.key_id, settings)
    request.scope[_CALLER] = caller
    return caller


async def _count_once(request: Request, engine: Engine, key_id: str, settings: Settings) -> None:
    """Count the request against its key's limit once, however often
    authentication runs for it (`api.hot` may pass it on to the routes); a
    429 stays a 429."""
    counted: bool | ApiError | None = request.scope.get(_RATE_COUNTED)
    if isinstance(counted, ApiError):
        raise counted
    if counted:
        return
    try:
        now = datetime.now(UTC)
        await run_in_threadpool(
            ratelimit.enforce, engine, key_id=key_id, settings=settings, now=now
        )
    except ApiError as error:
        request.scope[_RATE_COUNTED] = error
        raise
    request.scope[_RATE_COUNTED] = True


async def get_caller(
    request: Request, credentials: Annotated[Credentials, Security(api_key_scheme)]
) -> Caller:
    """The authenticated caller (`authenticate`)."""
    return await authenticate(request, credentials)


def _find_caller(engine: Engine, token: str, key_id: str) -> Caller | None:
    with Session(reader(engine)) as session:
        found = client_store.find_active_key(session, key_id=key_id)
    if found is None or not keys.key_matches(token, found[0].key_hash):
        return None
    key, client = found
    return Caller(client=client, key_id=key.id, scopes=keys.scopes_of(key))


CallerDep = Annotated[Caller, Depends(get_caller)]


def require_scopes(scopes: list[str], caller: Caller) -> None:
    """403 unless the caller's key has every one of `scopes`."""
    for scope in scopes:
        if scope not in caller.scopes:
            raise insufficient_scope(scope)


async def authorize(security_scopes: SecurityScopes, caller: CallerDep) -> None:
    """403 unless the caller's key has the operation's scopes."""
    require_scopes(security_scopes.scopes, caller)


# Each /v1 operation lists exactly one of these in its `dependencies`; the
# OpenAPI document shows it as the operation's security requirement.
ReadPlans = Security(authorize, scopes=[Scope.plans_read])
WriteSessions = Security(authorize, scopes=[Scope.sessions_write])
WriteUsers = Security(authorize, scopes=[Scope.users_write])
DeleteUsers = Security(authorize, scopes=[Scope.users_delete])


async def get_client(caller: CallerDep) -> Client:
    return caller.client


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


@dataclass(frozen=True, slots=True)
class UserRef:
    """What the cached reads need to know of the path's user."""

    id: str
    client_id: str
    timezone: str


UserIdPath = Annotated[str, Path(max_length=64, description="The user's id.")]


async def get_user_ref(request: Request, caller: CallerDep, user_id: UserIdPath) -> UserRef:
    """The path's user, if it belongs to the calling client (404 otherwise),
    without a transaction of the request's own: cached until the user changes."""
    return await user_ref(request, caller, user_id)


async def get_authorized_user(
    security_scopes: SecurityScopes,
    request: Request,
    credentials: Annotated[Credentials, Security(api_key_scheme)],
    user_id: UserIdPath,
) -> UserRef:
    """Authentication, the operation's scopes and the path's user in one
    dependency, for the hot reads (`authenticate`, `get_user_ref`)."""
    caller = await authenticate(request, credentials)
    require_scopes(security_scopes.scopes, caller)
    return await user_ref(request, caller, user_id)


# What a cached `UserRef` counts for, roughly.
USER_REF_BYTES = 512


def user_key(client_id: str, user_id: str) -> tuple[str, str, str]:
    """The cache key of the client's user's `UserRef`."""
    return ("user", client_id, user_id)


def remember_user_ref(caches: Caches, ref: UserRef, *, stamp: Stamp) -> None:
    """Cache `ref` under its user's topic, unless the user changed since `stamp`."""
    key = user_key(ref.client_id, ref.id)
    caches.put(key, ref, topic=changes.user_topic(ref.id), stamp=stamp, size=USER_REF_BYTES)


def known_user_ref(request: Request, caller: Caller, user_id: str) -> UserRef | None:
    """The client's user `user_id` if cached; None otherwise (not a 404)."""
    caches: Caches = request.app.state.caches
    ref: UserRef | None = caches.get(user_key(caller.client.id, user_id))
    return ref


async def user_ref(request: Request, caller: Caller, user_id: str) -> UserRef:
    """The client's user `user_id` (404 otherwise), cached until the user changes."""
    caches: Caches = request.app.state.caches
    client_id = caller.client.id
    ref = known_user_ref(request, caller, user_id)
    if ref is None:
        stamp = caches.stamp(changes.user_topic(user_id))
        ref = await run_in_threadpool(_find_user, request.app.state.engine, client_id, user_id)
        remember_user_ref(caches, ref, stamp=stamp)
    return ref


def _find_user(engine: Engine, client_id: str, user_id: str) -> UserRef:
    with Session(reader(engine)) as session:
        user = user_store.get_user(session, client_id=client_id, user_id=user_id)
        return UserRef(id=user.id, client_id=user.client_id, timezone=user.timezone)


UserRefDep = Annotated[UserRef, Depends(get_user_ref)]
# The path's user, for an operation needing scope plans:read.
PlansReader = Annotated[UserRef, Security(get_authorized_user, scopes=[Scope.plans_read])]


async def request_fingerprint(request: Request) -> str:
    """Method, path and query, and the body's digest: what a replay must repeat."""
    body = await request.body()
    return idempotency.fingerprint(request.method, idempotency.target_of(request), body)


def _idempotency_key_schema(schema: dict[str, Any]) -> None:
    # Documented, not validated by FastAPI: a bad key is a 400 naming the header.
    schema.pop("anyOf", None)
    schema.update(
        type="string",
        minLength=1,
        maxLength=idempotency.MAX_KEY_LENGTH,
        pattern=idempotency.KEY_PATTERN,
        examples=['"8e03978e-40d5-43e8-bc93-6894a57f9324"'],
    )


IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias=idempotency.HEADER,
        description="Makes a retry safe: the first request with a key runs, a repeat of it "
        "(same method, path and body) gets the stored response with `Idempotent-Replayed: "
        "true`. A quoted string or token, up to 255 characters; a UUID is recommended, e.g. "
        '`"8e03978e-40d5-43e8-bc93-6894a57f9324"`. Keys are per client and kept 24 hours.',
        json_schema_extra=_idempotency_key_schema,
    ),
]
FingerprintDep = Annotated[str, Depends(request_fingerprint)]


def _claim(
    request: Request,
    session: Session,
    *,
    owner: str,
    key: str | None,
    fingerprint: str,
    settings: Settings,
    now: datetime,
) -> None:
    if key is not None:
        idempotency.claim(
            request,
            session,
            owner=owner,
            raw_key=key,
            fingerprint=fingerprint,
            ttl=timedelta(hours=settings.idempotency_ttl_hours),
            now=now,
        )


def claim_idempotency_key(
    request: Request,
    caller: CallerDep,
    session: SessionDep,
    settings: SettingsDep,
    now: ClockDep,
    fingerprint: FingerprintDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> None:
    """Claim the request's Idempotency-Key, if it has one, for the client."""
    _claim(
        request,
        session,
        owner=caller.client.id,
        key=idempotency_key,
        fingerprint=fingerprint,
        settings=settings,
        now=now,
    )


def claim_admin_idempotency_key(
    request: Request,
    _admin: AdminDep,
    session: SessionDep,
    settings: SettingsDep,
    now: ClockDep,
    fingerprint: FingerprintDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> None:
    """Claim the request's Idempotency-Key, if it has one, for the operator."""
    _claim(
        request,
        session,
        owner=idempotency.ADMIN_OWNER,
        key=idempotency_key,
        fingerprint=fingerprint,
        settings=settings,
        now=now,
    )


# The route classes (api/routing.py) add these to every POST, PUT, PATCH and DELETE.
Idempotent = Depends(claim_idempotency_key)
AdminIdempotent = Depends(claim_admin_idempotency_key)

IfMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="The ETag of the representation you read: the update is made only if "
        "the resource has not changed since (412 otherwise).",
    ),
]


async def get_page_request(
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page, 1-{MAX_LIMIT}.")
    ] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(
            max_length=500,
            description="The `next_cursor` of the previous page; omit for the first page.",
        ),
    ] = None,
) -> PageRequest:
    return PageRequest(limit=limit, cursor=cursor)


PageDep = Annotated[PageRequest, Depends(get_page_request)]
