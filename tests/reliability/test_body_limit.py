"""The 64 KiB body limit on a real server: a body sent in chunks, with no
Content-Length, is cut off with a 413 problem as soon as it is too large."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from httpx import Client

from tests.conftest import user_fields
from tests.reliability.service import Service, register, running_service

LIMIT = 64 * 1024
CHUNK = 16 * 1024


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    where = tmp_path_factory.mktemp("limits")
    with running_service(f"sqlite:///{where}/backplan.db", where / "service.log") as service:
        yield service


@pytest.fixture(scope="module")
def http(service: Service) -> Iterator[Client]:
    with register(service) as client:
        yield client


def chunked_post(service: Service, key: str, body: bytes, *, finish: bool) -> tuple[int, bytes]:
    """POST /v1/users with `body` in chunks; without `finish` the closing chunk
    is never sent, as by a client that keeps streaming. The status and body
    that come back before the server closes the connection."""
    host, port = service.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        request = (
            "POST /v1/users HTTP/1.1\r\nHost: backplan\r\nTransfer-Encoding: chunked\r\n"
            f"Content-Type: application/json\r\nAuthorization: Bearer {key}\r\n"
            "Connection: close\r\n\r\n"
        )
        sock.sendall(request.encode())
        for start in range(0, len(body), CHUNK):
            chunk = body[start : start + CHUNK]
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        if finish:
            sock.sendall(b"0\r\n\r\n")
        received = b""
        while data := sock.recv(65536):
            received += data
    head, _, content = received.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), content


def padded(size: int) -> bytes:
    body = json.dumps(user_fields()).encode()
    return body[:-1] + b" " * (size - len(body)) + b"}"


def test_a_chunked_body_over_the_limit_is_cut_off_with_a_413_problem(
    service: Service, http: Client
) -> None:
    key = http.headers["Authorization"].removeprefix("Bearer ")
    status, body = chunked_post(service, key, padded(LIMIT + 1), finish=False)
    assert status == 413
    problem = json.loads(body)
    assert problem["status"] == 413
    assert problem["title"]
    assert http.get("/readyz").status_code == 200


def test_a_chunked_body_at_the_limit_is_accepted(service: Service, http: Client) -> None:
    key = http.headers["Authorization"].removeprefix("Bearer ")
    status, body = chunked_post(service, key, padded(LIMIT), finish=True)
    assert status == 201, body


def test_a_declared_length_over_the_limit_is_a_413_problem(http: Client) -> None:
    response = http.post(
        "/v1/users", content=padded(LIMIT + 1), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-content-type-options"] == "nosniff"
