"""A real webhook receiver on 127.0.0.1 for the delivery tests: it verifies
every delivery with the `standardwebhooks` package, as an app would, and
answers as scripted (an error status, a delay past the sender's timeout, a
held-open request, Retry-After)."""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass(frozen=True)
class Reply:
    status: int = 204
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    hold: threading.Event | None = None  # answer only once this is set
    body: bytes = b""


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]  # names lower-cased
    body: bytes
    verified: bool  # by one of the receiver's secrets at the time

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def payload(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.body)
        return loaded


def verify(received: Received, secret: str, *, body: bytes | None = None) -> Any:
    """What `standardwebhooks` makes of the delivery (or of another body)."""
    return Webhook(secret).verify(received.body if body is None else body, received.headers)


class _Server(ThreadingHTTPServer):
    # Room for every connection the test workers open at once (default 5).
    request_queue_size = 64


class Receiver:
    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.secrets: list[str] = []
        self.replies: list[Reply] = []  # answered in order, then `default`
        self.default = Reply()
        self.decide: Callable[[Received], Reply] | None = None  # overrides both
        self.received: list[Received] = []
        self._changed = threading.Condition()
        self._holds: list[threading.Event] = []
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.scheme = "http" if tls is None else "https"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/hooks/backplan"

    def ids(self) -> Counter[str]:
        with self._changed:
            return Counter(r.webhook_id for r in self.received)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """The first `count` deliveries, once they have arrived."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.received)} of {count} deliveries arrived")
                self._changed.wait(left)
            return list(self.received[:count])

    def close(self) -> None:
        for hold in self._holds:
            hold.set()
        self._server.shutdown()
        self._server.server_close()

    def _record(self, headers: dict[str, str], body: bytes) -> Reply:
        verified = False
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
            verified = True
        received = Received(headers=headers, body=body, verified=verified)
        with self._changed:
            self.received.append(received)
            self._changed.notify_all()
            if self.decide is not None:
                reply = self.decide(received)
            else:
                reply = self.replies.pop(0) if self.replies else self.default
        if reply.hold is not None:
            self._holds.append(reply.hold)
        return reply

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {name.lower(): value for name, value in self.headers.items()}
                reply = receiver._record(headers, body)
                if reply.hold is not None:
                    reply.hold.wait(30)
                time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:
                    pass  # the sender gave up waiting

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
