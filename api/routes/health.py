"""Liveness and readiness probes (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.exc import SQLAlchemyError

from api.deps import EngineDep
from api.errors import RETRY_AFTER_UNAVAILABLE_S, ApiError, problem_responses
from api.schemas import Health
from db.migrate import current_revision, head_revision

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> Health:
    """Answers while the process is up."""
    return Health(status="ok")


@router.get("/readyz", responses=problem_responses(503))
def readyz(engine: EngineDep) -> Health:
    """Answers while the database is reachable and migrated; 503 otherwise."""
    try:
        revision = current_revision(engine)
    except SQLAlchemyError:
        raise ApiError(
            503,
            "The database is unreachable.",
            headers={"Retry-After": str(RETRY_AFTER_UNAVAILABLE_S)},
        ) from None
    if revision != head_revision():
        raise ApiError(503, "The database schema is not migrated to the current version.")
    return Health(status="ready")
