"""The webhook settings (BACKPLAN_WEBHOOKS_*)."""

from datetime import timedelta
from ipaddress import ip_network

import pytest
from pydantic import ValidationError

from api.settings import Settings
from api.webhooks.worker import RETRY_SCHEDULE, WorkerConfig

NAMES = (
    "DATABASE_URL",
    "BACKPLAN_WEBHOOKS_ALLOW_HTTP",
    "BACKPLAN_WEBHOOKS_ALLOWED_NETWORKS",
    "BACKPLAN_WEBHOOKS_IN_PROCESS",
    "BACKPLAN_WEBHOOKS_TIMEOUT_SECONDS",
    "BACKPLAN_WEBHOOKS_LEASE_SECONDS",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)


def test_defaults_are_safe() -> None:
    settings = Settings(_env_file=None)
    assert settings.webhooks_allow_http is False
    assert settings.webhooks_allowed_networks == []
    assert settings.webhooks_run_in_process is True  # the default store is SQLite
    config = WorkerConfig.from_settings(settings)
    assert config.timeout == 15
    assert config.lease == timedelta(seconds=60)
    assert config.schedule == RETRY_SCHEDULE
    assert [d.total_seconds() for d in RETRY_SCHEDULE] == [
        0,
        5,
        300,
        1800,
        7200,
        18000,
        36000,
        50400,
        72000,
        86400,
    ]
    assert not config.policy.allow_http


def test_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/backplan")
    monkeypatch.setenv("BACKPLAN_WEBHOOKS_ALLOW_HTTP", "true")
    monkeypatch.setenv("BACKPLAN_WEBHOOKS_ALLOWED_NETWORKS", "10.20.0.0/16, fd00::/8")
    monkeypatch.setenv("BACKPLAN_WEBHOOKS_TIMEOUT_SECONDS", "20")
    monkeypatch.setenv("BACKPLAN_WEBHOOKS_LEASE_SECONDS", "90")
    settings = Settings(_env_file=None)
    assert settings.webhooks_allowed_networks == [
        ip_network("10.20.0.0/16"),
        ip_network("fd00::/8"),
    ]
    assert settings.webhooks_run_in_process is False  # PostgreSQL: run `backplan worker`
    policy = WorkerConfig.from_settings(settings).policy
    assert policy.allow_http
    assert policy.allowed_networks == (ip_network("10.20.0.0/16"), ip_network("fd00::/8"))
    monkeypatch.setenv("BACKPLAN_WEBHOOKS_IN_PROCESS", "true")
    assert Settings(_env_file=None).webhooks_run_in_process is True


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BACKPLAN_WEBHOOKS_LEASE_SECONDS", "10"),  # not longer than the 15 s timeout
        ("BACKPLAN_WEBHOOKS_TIMEOUT_SECONDS", "60"),
        ("BACKPLAN_WEBHOOKS_ALLOWED_NETWORKS", "10.0.0.0/8,not-a-network"),
    ],
)
def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings(_env_file=None)
