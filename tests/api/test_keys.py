from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlmodel import Session, col

from api.keys import generate_key, key_id_of
from db.tables import ApiKey
from tests.conftest import Api, Clock, register

ALL = ["plans:read", "sessions:write", "users:write", "users:delete"]

# Every operation with an API key, and the one scope it needs.
SCOPE_OF = {
    ("GET", "/v1/users"): "plans:read",
    ("POST", "/v1/users"): "users:write",
    ("GET", "/v1/users/{user_id}"): "plans:read",
    ("PATCH", "/v1/users/{user_id}"): "users:write",
    ("DELETE", "/v1/users/{user_id}"): "users:delete",
    ("GET", "/v1/users/{user_id}/episodes"): "plans:read",
    ("POST", "/v1/users/{user_id}/episodes"): "users:write",
    ("GET", "/v1/users/{user_id}/episodes/{episode_id}"): "plans:read",
    ("PATCH", "/v1/users/{user_id}/episodes/{episode_id}"): "users:write",
    ("GET", "/v1/users/{user_id}/readiness"): "plans:read",
    ("GET", "/v1/users/{user_id}/plan"): "plans:read",
    ("GET", "/v1/users/{user_id}/progress"): "plans:read",
    ("GET", "/v1/users/{user_id}/sessions/{session_id}/completion"): "plans:read",
    ("PUT", "/v1/users/{user_id}/sessions/{session_id}/completion"): "sessions:write",
    ("DELETE", "/v1/users/{user_id}/sessions/{session_id}/completion"): "sessions:write",
    ("GET", "/v1/users/{user_id}/calendar.ics"): "plans:read",
    ("GET", "/v1/users/{user_id}/calendar-feed"): "plans:read",
    ("POST", "/v1/users/{user_id}/calendar-feed"): "users:write",
    ("DELETE", "/v1/users/{user_id}/calendar-feed"): "users:write",
    ("GET", "/v1/users/{user_id}/fhir"): "plans:read",
    ("GET", "/v1/users/{user_id}/export"): "plans:read",
    ("GET", "/v1/exercises"): "plans:read",
    ("GET", "/v1/exercises/{slug}"): "plans:read",
    ("GET", "/v1/keys"): "users:write",
    ("POST", "/v1/keys"): "users:write",
    ("GET", "/v1/keys/{key_id}"): "users:write",
    ("DELETE", "/v1/keys/{key_id}"): "users:write",
}


def new_key(api: Api, scopes: list[str] | None = None, name: str = "k") -> dict[str, Any]:
    body: dict[str, Any] = {"name": name} if scopes is None else {"name": name, "scopes": scopes}
    response = api.post("/v1/keys", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def as_key(api: Api, key: str) -> Api:
    return Api(http=api.http, client_id=api.client_id, key=key)


def test_a_registered_clients_key_has_every_scope(api: Api) -> None:
    keys = api.get("/v1/keys").json()
    assert keys["next_cursor"] is None
    [only] = keys["items"]
    assert only["id"] == key_id_of(api.key)
    assert only["scopes"] == ALL
    assert only["revoked_at"] is None
    assert api.key not in str(keys)


def test_a_client_creates_keys_with_some_of_its_scopes(api: Api) -> None:
    response = api.post("/v1/keys", json={"name": "watch", "scopes": ["plans:read"]})
    assert response.status_code == 201
    created = response.json()
    assert created["scopes"] == ["plans:read"]
    assert created["api_key"].startswith(created["prefix"])
    assert response.headers["location"] == f"/v1/keys/{created['id']}"
    assert api.get(f"/v1/keys/{created['id']}").json() == {
        key: value for key, value in created.items() if key != "api_key"
    }
    watch = as_key(api, created["api_key"])
    assert watch.get("/v1/exercises").status_code == 200
    assert watch.post("/v1/users", json={}).status_code == 403
    # By default a new key gets the caller's scopes.
    assert new_key(api)["scopes"] == ALL


def test_a_key_cannot_give_out_scopes_it_lacks(api: Api) -> None:
    writer = as_key(api, new_key(api, ["users:write", "plans:read"])["api_key"])
    response = writer.post("/v1/keys", json={"scopes": ["plans:read", "users:delete"]})
    assert response.status_code == 403
    assert "users:delete" in response.json()["detail"]
    assert writer.post("/v1/keys", json={"scopes": ["plans:read"]}).status_code == 201
    assert writer.post("/v1/keys", json={}).json()["scopes"] == ["plans:read", "users:write"]


def test_a_missing_scope_is_403_naming_it(api: Api) -> None:
    lacking = {
        scope: as_key(api, new_key(api, [other for other in ALL if other != scope])["api_key"])
        for scope in ALL
    }
    for (method, path), scope in SCOPE_OF.items():
        concrete = path.format(
            user_id="u", episode_id="e", session_id="s", slug="bird-dog", key_id="k"
        )
        response = lacking[scope].call(method, concrete, json={})
        assert response.status_code == 403, (method, path)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "urn:backplan:problem:insufficient-scope"
        assert scope in response.json()["detail"]
        assert f'scope="{scope}"' in response.headers["www-authenticate"]


def test_every_operation_documents_its_one_scope(http: TestClient) -> None:
    document = http.get("/openapi.json").json()
    documented = {
        (method.upper(), path): operation["security"]
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if path.startswith("/v1/")
        and "ApiKey" in str(operation.get("security"))
        and not path.startswith("/v1/webhooks")
    }
    assert documented == {route: [{"ApiKey": [scope]}] for route, scope in SCOPE_OF.items()}


def test_a_revoked_key_is_401_like_an_unknown_one(api: Api, http: TestClient) -> None:
    spare = new_key(api)
    assert api.delete(f"/v1/keys/{spare['id']}").status_code == 204
    revoked = http.get("/v1/users", headers={"Authorization": f"Bearer {spare['api_key']}"})
    unknown = http.get("/v1/users", headers={"Authorization": f"Bearer {generate_key().key}"})
    assert revoked.status_code == unknown.status_code == 401
    assert revoked.json() == unknown.json()
    assert revoked.headers["www-authenticate"] == unknown.headers["www-authenticate"]
    listed = {key["id"]: key for key in api.get("/v1/keys").json()["items"]}
    assert listed[spare["id"]]["revoked_at"] is not None
    # Revoking it again changes nothing.
    assert api.delete(f"/v1/keys/{spare['id']}").status_code == 204


def test_a_key_may_revoke_itself(api: Api) -> None:
    own_id = key_id_of(api.key)
    assert api.delete(f"/v1/keys/{own_id}").status_code == 204
    assert api.get("/v1/keys").status_code == 401


def test_another_clients_key_is_404(api: Api, http: TestClient) -> None:
    other = register(http, "Other")
    their_id = key_id_of(other.key)
    assert api.get(f"/v1/keys/{their_id}").status_code == 404
    assert api.delete(f"/v1/keys/{their_id}").status_code == 404
    assert other.get("/v1/users").status_code == 200


def test_keys_from_before_scopes_may_do_everything(api: Api) -> None:
    engine: Engine = api.http.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        session.execute(
            update(ApiKey).where(col(ApiKey.id) == key_id_of(api.key)).values(scopes=[])
        )
        session.commit()
    user = api.user()
    assert api.delete(f"/v1/users/{user['id']}").status_code == 204
    assert api.get("/v1/keys").json()["items"][0]["scopes"] == ALL


def test_keys_are_listed_in_pages(api: Api, clock: Clock) -> None:
    for number in range(3):
        clock.now += timedelta(seconds=1)
        new_key(api, name=f"k{number}")
    first = api.get("/v1/keys", params={"limit": 2}).json()
    second = api.get("/v1/keys", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert second["next_cursor"] is None
    names = [key["name"] for key in first["items"] + second["items"]]
    assert names == [None, "k0", "k1", "k2"]
