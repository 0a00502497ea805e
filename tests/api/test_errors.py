"""Problem details everywhere, and an OpenAPI document that says so."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from tests.conftest import Api

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


def test_an_unknown_path_is_a_404_problem(http: TestClient) -> None:
    response = http.get("/v2/nothing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert set(response.json()) == PROBLEM_KEYS
    assert response.json()["instance"] == "/v2/nothing"


def test_a_wrong_method_is_a_405_problem(http: TestClient) -> None:
    response = http.put("/healthz")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 405
    assert "allow" in response.headers


@pytest.mark.parametrize("body", [b"{not json", b'{"external_id": "x",}', b"\xff\xfe"])
def test_malformed_json_is_400(api: Api, body: bytes) -> None:
    response = api.post("/v1/users", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:backplan:problem:malformed-request"
    assert problem["status"] == 400
    assert set(problem) == PROBLEM_KEYS


def test_a_missing_body_is_422_at_the_root(api: Api) -> None:
    response = api.post("/v1/users")
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"detail": "A JSON request body is required.", "pointer": "#"}
    ]


def test_a_json_array_body_is_422(api: Api) -> None:
    response = api.post("/v1/users", json=[1, 2])
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "#"


def test_an_unexpected_error_is_a_500_problem_without_internals(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url, migrate_on_start=False))

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    with TestClient(app, raise_server_exceptions=False) as http:
        response = http.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert set(response.json()) == PROBLEM_KEYS


def test_a_failed_request_writes_nothing(api: Api) -> None:
    user = api.user(external_id="first")
    api.user(external_id="second")
    response = api.patch(
        f"/v1/users/{user['id']}",
        json={"external_id": "second", "session_minutes": 45},
    )
    assert response.status_code == 409
    assert api.get(f"/v1/users/{user['id']}").json() == user


def schema(http: TestClient) -> dict[str, Any]:
    body: dict[str, Any] = http.get("/openapi.json").json()
    return body


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_every_request_body_has_an_example(http: TestClient) -> None:
    document = schema(http)
    bodies = [
        (path, op["requestBody"]) for _, path, op in operations(document) if "requestBody" in op
    ]
    assert len(bodies) >= 7
    for path, body in bodies:
        ref = body["content"]["application/json"]["schema"]["$ref"]
        component = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert component.get("examples"), f"{path}: {ref} has no example"


def test_every_error_response_is_documented_as_problem_json(http: TestClient) -> None:
    document = schema(http)
    assert "Problem" in document["components"]["schemas"]
    for method, path, operation in operations(document):
        statuses = operation["responses"]
        if path.startswith("/v1/"):
            assert {"401", "500"} <= set(statuses), path
        if "{" in path:
            assert "404" in statuses, path
        if "requestBody" in operation:
            assert {"400", "422"} <= set(statuses), (method, path)
        for status, response in statuses.items():
            if status[0] in "45":
                assert list(response["content"]) == ["application/problem+json"], (path, status)


def test_the_security_schemes_are_documented(http: TestClient) -> None:
    document = schema(http)
    schemes = document["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["ApiKey"]["description"],
    }
    assert "AdminToken" in schemes
    for _, path, operation in operations(document):
        # The calendar feed's secret is in its URL; it takes no key.
        if path.startswith("/v1/") and not path.startswith("/v1/calendar/"):
            assert operation.get("security"), path


def test_the_docs_page_is_served(http: TestClient) -> None:
    assert http.get("/docs").status_code == 200
