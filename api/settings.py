"""Settings, read once from the environment (and a `.env` file, if any)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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


@lru_cache
def get_settings() -> Settings:
    return Settings()
