"""`api.server` and the process's start-up: connections send small writes at once
(TCP_NODELAY), and the garbage collector is tuned once the app has started."""

from __future__ import annotations

import gc
import socket
from typing import Any

from fastapi.testclient import TestClient

from api.main import GC_THRESHOLDS
from api.server import set_nodelay


class Transport:
    def __init__(self, sock: socket.socket | None) -> None:
        self.sock = sock

    def get_extra_info(self, name: str) -> Any:
        return self.sock if name == "socket" else None


def test_a_connection_of_a_socket_bound_without_its_protocol_gets_nodelay() -> None:
    # uvicorn --workers binds like this: proto 0, which asyncio leaves alone.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with socket.create_connection(listener.getsockname()) as _client:
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
                set_nodelay(Transport(accepted))
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_a_transport_without_a_tcp_socket_is_left_alone() -> None:
    set_nodelay(Transport(None))
    left, right = socket.socketpair()
    with left, right:
        set_nodelay(Transport(left))  # AF_UNIX: nothing to set, nothing raised


def test_a_started_app_freezes_what_it_loaded_and_collects_less_often(http: TestClient) -> None:
    assert http.get("/healthz").status_code == 200  # the app has started
    assert gc.get_threshold() == GC_THRESHOLDS
    assert gc.get_freeze_count() > 0
