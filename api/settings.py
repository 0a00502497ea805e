"""Settings, read once from the environment (and a `.env` file, if any)."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import Field, IPvAnyNetwork, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting backplan reads; the README lists them."""

    model_config = SettingsConfigDict(env_prefix="BACKPLAN_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./backplan.db",
        validation_alias="DATABASE_URL",
        description="SQLAlchemy URL of the store; postgresql+psycopg://... for PostgreSQL.",
    )
    admin_token: str | None = Field(
        default=None,
        description="Bearer token for POST /v1/clients; unset, that endpoint answers 401.",
    )
    migrate_on_start: bool = Field(
        default=True, description="Apply pending migrations when the app starts."
    )
    log_sql: bool = Field(default=False, description="Log every SQL statement.")
    cache_max_bytes: int = Field(
        # A plan body is ~28 KB, so 1 GiB holds the plan and progress of about
        # 30,000 active people per worker; it is a ceiling, not an allocation.
        default=1024 * 1024 * 1024,
        ge=0,
        description="Memory each worker may spend caching served plans, progress, API keys "
        'and users (README, "Scaling"); 0: no caching.',
    )

    # Abuse and browser protection (README, "Settings"; RELIABILITY.md).
    rate_limit_requests: int = Field(
        default=1200,
        ge=0,
        description="Requests one API key may make per window; beyond, 429. 0: no limit.",
    )
    rate_limit_window_seconds: int = Field(
        default=60, ge=1, le=3600, description="Length of the rate limit's fixed window."
    )
    max_concurrent_requests: int = Field(
        default=256,
        ge=1,
        le=4096,
        description="Requests one worker handles at once; beyond, 503 with Retry-After. "
        "The worker's thread pool is sized above it (RELIABILITY.md).",
    )
    max_body_bytes: int = Field(
        default=64 * 1024, ge=1024, description="Largest request body accepted; beyond, 413."
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated origins (https://app.example.com) browsers may call "
        "the API from; empty: CORS off.",
    )
    hsts_max_age: int = Field(
        default=0,
        ge=0,
        description="Seconds for Strict-Transport-Security; 0: no header. Set it only "
        "when the service is reached over HTTPS alone.",
    )

    public_url: str | None = Field(
        default=None,
        description="The service's public base URL, e.g. https://backplan.example.com, for "
        "the links it hands out (calendar feed URLs); unset: the URL each request came to.",
    )
    idempotency_ttl_hours: int = Field(
        default=24, ge=24, le=24 * 30, description="Hours an Idempotency-Key's response is kept."
    )

    # Webhooks (README, "Webhooks").
    webhooks_allow_http: bool = Field(
        default=False,
        description="Development only: accept http:// and loopback webhook URLs "
        "(127.0.0.0/8, ::1, localhost).",
    )
    webhooks_allowed_networks: Annotated[list[IPvAnyNetwork], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated networks (CIDR) webhook URLs may resolve to although "
        "not public, e.g. 10.20.0.0/16.",
    )
    webhooks_in_process: bool | None = Field(
        default=None,
        description="Deliver webhooks from a thread of the API process; unset: on for "
        "SQLite, off for PostgreSQL (run `backplan worker`).",
    )
    webhooks_timeout_seconds: float = Field(
        default=15, gt=0, le=30, description="Timeout to connect, send and read a delivery."
    )
    webhooks_lease_seconds: float = Field(
        default=60,
        gt=0,
        description="How long a worker holds a claimed delivery; a worker that dies "
        "mid-delivery delays its retry this long. Longer than the timeout.",
    )
    webhooks_concurrency: int = Field(
        default=8, ge=1, le=64, description="Deliveries a worker sends at once."
    )
    webhooks_poll_seconds: float = Field(
        default=1.0, gt=0, description="Pause between polls when nothing is due."
    )
    webhooks_retention_days: int = Field(
        default=30, ge=1, description="Days events and their delivery log are kept."
    )

    @field_validator("webhooks_allowed_networks", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _lease_outlasts_timeout(self) -> Settings:
        if self.webhooks_lease_seconds <= self.webhooks_timeout_seconds:
            raise ValueError("BACKPLAN_WEBHOOKS_LEASE_SECONDS must exceed the timeout")
        return self

    @property
    def webhooks_run_in_process(self) -> bool:
        if self.webhooks_in_process is not None:
            return self.webhooks_in_process
        return self.database_url.startswith("sqlite")

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
