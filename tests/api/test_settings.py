import pytest

from api.settings import Settings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "BACKPLAN_ADMIN_TOKEN", "BACKPLAN_MIGRATE_ON_START"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.database_url == "sqlite:///./backplan.db"
    assert settings.admin_token is None
    assert settings.migrate_on_start is True
    assert settings.log_sql is False


def test_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://db/backplan")
    monkeypatch.setenv("BACKPLAN_ADMIN_TOKEN", "t0ken")
    monkeypatch.setenv("BACKPLAN_MIGRATE_ON_START", "false")
    monkeypatch.setenv("BACKPLAN_LOG_SQL", "true")
    settings = Settings(_env_file=None)
    assert settings.database_url == "postgresql+psycopg://db/backplan"
    assert settings.admin_token == "t0ken"
    assert settings.migrate_on_start is False
    assert settings.log_sql is True
