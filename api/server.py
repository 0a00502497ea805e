"""How uvicorn serves the app.

uvicorn with `--workers N` binds the listening socket itself, without naming
the protocol (`proto` 0), and asyncio only sets TCP_NODELAY on sockets whose
`proto` is IPPROTO_TCP. Its connections then run with Nagle's algorithm, and
a response sent as headers then body waits for the client's delayed ACK:
about 40 ms each on Linux. Measured on the bare ceiling route with two
workers: 724 req/s at 44 ms p50 without it, 6,132 req/s at 5 ms with it.
`NoDelayH11Protocol` sets the option on every connection, whatever the
socket's origin; `backplan serve` and `bench/` use it.
"""

from __future__ import annotations

import socket
from contextlib import suppress
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

# For the uvicorn command line: `--http api.server:NoDelayH11Protocol`.
HTTP_PROTOCOL = "api.server:NoDelayH11Protocol"


def set_nodelay(transport: Any) -> None:
    """Send small writes at once on the transport's TCP socket, if it has one."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in {socket.AF_INET, socket.AF_INET6}:
        with suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with TCP_NODELAY on every connection."""

    def connection_made(self, transport: Any) -> None:
        set_nodelay(transport)
        super().connection_made(transport)
