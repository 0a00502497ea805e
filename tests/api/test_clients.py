import re

import pytest
from fastapi.testclient import TestClient

from api.keys import KEY_PREFIX, hash_key, key_id_of
from api.main import create_app
from api.settings import Settings
from tests.conftest import ADMIN_TOKEN, register

KEY_PATTERN = re.compile(r"^bp_live_[0-9a-z]{16}_[0-9A-Za-z]{32}_[0-9A-Za-z]{6}$")


def test_admin_registers_a_client_and_sees_its_key_once(http: TestClient) -> None:
    response = http.post(
        "/v1/clients",
        json={"name": "Stride Fitness"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "name", "api_key", "created_at"}
    assert body["name"] == "Stride Fitness"
    assert KEY_PATTERN.match(body["api_key"])
    assert key_id_of(body["api_key"]) is not None
    # The key works.
    listed = http.get("/v1/users", headers={"Authorization": f"Bearer {body['api_key']}"})
    assert listed.status_code == 200


def test_only_the_hash_of_a_key_is_stored(http: TestClient, database_url: str) -> None:
    from sqlmodel import Session, select

    from db.tables import ApiKey

    api = register(http)
    key_id = key_id_of(api.key)
    engine = http.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        stored = session.exec(select(ApiKey).where(ApiKey.id == key_id)).one()
    assert stored.key_hash == hash_key(api.key)
    assert api.key not in {stored.key_hash, stored.prefix}
    assert stored.prefix == f"{KEY_PREFIX}{key_id}"
    assert stored.client_id == api.client_id


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": f"Basic {ADMIN_TOKEN}"}],
)
def test_registering_needs_the_admin_token(http: TestClient, headers: dict[str, str]) -> None:
    response = http.post("/v1/clients", json={"name": "Sneaky"}, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401


def test_an_api_key_is_not_an_admin_token(http: TestClient) -> None:
    api = register(http)
    response = http.post(
        "/v1/clients", json={"name": "x"}, headers={"Authorization": f"Bearer {api.key}"}
    )
    assert response.status_code == 401


def test_without_an_admin_token_configured_registration_is_closed(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url, admin_token=None))
    with TestClient(app) as http:
        response = http.post(
            "/v1/clients", json={"name": "x"}, headers={"Authorization": "Bearer "}
        )
        assert response.status_code == 401
        assert "BACKPLAN_ADMIN_TOKEN" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "pointer"),
    [({}, "#/name"), ({"name": ""}, "#/name"), ({"name": "x", "extra": 1}, "#/extra")],
)
def test_client_name_is_validated(http: TestClient, body: dict[str, object], pointer: str) -> None:
    response = http.post(
        "/v1/clients", json=body, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == [pointer]
