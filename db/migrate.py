"""Apply the Alembic migrations programmatically."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from db.tables import ONLY_ON

HERE = Path(__file__).resolve().parent


def alembic_config(url: str) -> Config:
    """Alembic's configuration for the database at `url`."""
    config = Config(str(HERE / "alembic.ini"))
    config.set_main_option("script_location", str(HERE / "migrations"))
    config.attributes["url"] = url
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the engine's database to `revision` (the latest by default), in
    one transaction."""
    with engine.begin() as connection:
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


@cache
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def compared(dialect: str) -> Callable[..., bool]:
    """Alembic's `include_object` for autogenerate on `dialect`: the models'
    objects made for another dialect only (`db.tables.only_on`) are left out."""

    def include(obj: Any, _name: Any, _type: Any, reflected: bool, _compare_to: Any) -> bool:
        info = getattr(obj, "info", None) or {}
        return reflected or info.get(ONLY_ON, dialect) == dialect

    return include
