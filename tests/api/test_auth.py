import pytest
from fastapi.testclient import TestClient

from api.keys import generate_key
from tests.conftest import Api, register

PROTECTED = [
    ("GET", "/v1/users"),
    ("POST", "/v1/users"),
    ("GET", "/v1/users/some-id"),
    ("GET", "/v1/users/some-id/plan"),
    ("GET", "/v1/users/some-id/progress"),
    ("GET", "/v1/users/some-id/readiness"),
    ("POST", "/v1/users/some-id/episodes"),
    ("PUT", "/v1/users/some-id/sessions/s/completion"),
    ("GET", "/v1/exercises"),
    ("GET", "/v1/exercises/bird-dog"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_a_missing_key_is_401_with_a_bearer_challenge(
    http: TestClient, method: str, path: str
) -> None:
    response = http.request(method, path, json={})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 401
    assert problem["title"] == "Unauthorized"
    assert problem["instance"] == path


@pytest.mark.parametrize(
    "key",
    [
        "nonsense",
        "bp_live_",
        "bp_live_a_b_c",
        generate_key().key,  # well formed, never issued
    ],
)
def test_an_invalid_key_is_401(http: TestClient, key: str) -> None:
    response = http.get("/v1/users", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_a_key_with_a_wrong_secret_is_401(http: TestClient) -> None:
    api = register(http)
    key_id = api.key.split("_")[2]
    forged = generate_key()
    tampered = forged.key.replace(forged.key_id, key_id)
    response = http.get("/v1/users", headers={"Authorization": f"Bearer {tampered}"})
    assert response.status_code == 401
    # A changed character breaks the checksum.
    flipped = api.key[:-1] + ("A" if api.key[-1] != "A" else "B")
    response = http.get("/v1/users", headers={"Authorization": f"Bearer {flipped}"})
    assert response.status_code == 401


def test_another_clients_user_is_404_like_an_unknown_one(api: Api, http: TestClient) -> None:
    theirs = register(http, "Other app").user()
    mine = api.user()
    for suffix in ("", "/plan", "/progress", "/readiness", "/episodes"):
        other = api.get(f"/v1/users/{theirs['id']}{suffix}")
        unknown = api.get(f"/v1/users/no-such-user{suffix}")
        assert other.status_code == unknown.status_code == 404
        assert other.json()["title"] == unknown.json()["title"]
        assert other.json()["detail"].replace(theirs["id"], "X") == unknown.json()[
            "detail"
        ].replace("no-such-user", "X")
    assert api.patch(f"/v1/users/{theirs['id']}", json={"session_minutes": 20}).status_code == 404
    assert api.delete(f"/v1/users/{theirs['id']}").status_code == 404
    assert api.get(f"/v1/users/{mine['id']}").status_code == 200
    assert api.get("/v1/users", params={"external_id": theirs["external_id"]}).json() == {
        "items": [],
        "next_cursor": None,
    }
