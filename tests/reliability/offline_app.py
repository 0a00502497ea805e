"""The service as the reliability tests run it: the real app, with name
resolution kept on this machine.

Schemathesis generates webhook URLs with made-up host names, and the webhook
URL check resolves them. The tests must send no traffic beyond 127.0.0.1, DNS
included, so names other than localhost fail to resolve here, as they would
on a machine with no resolver.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

from api.main import app

_resolve = socket.getaddrinfo
LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain"})


def _offline_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else host
    if name is None or name.lower() in LOCAL_NAMES or _is_address(name):
        return _resolve(host, *args, **kwargs)
    raise socket.gaierror(socket.EAI_NONAME, f"{name}: no name resolution in the test service")


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]").split("%")[0])
    except ValueError:
        return False
    return True


socket.getaddrinfo = _offline_getaddrinfo

__all__ = ["app"]
