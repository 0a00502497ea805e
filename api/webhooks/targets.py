"""Where webhooks may go: https URLs whose host resolves only to public
addresses. Private, loopback, link-local, multicast and reserved addresses
are refused (server-side request forgery), unless the operator allows a
network, or allows loopback and plain http for development.

The check runs when a URL is registered and again before every delivery,
and the delivery connects to the very addresses checked, so a DNS answer
that changes in between (DNS rebinding) cannot redirect it.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Any

import httpx

from api.settings import Settings

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network
Resolver = Callable[[str, int], Sequence[Address]]

_NAT64 = IPv6Network("64:ff9b::/96")
_DEV_HINT = "allowed only in development, with BACKPLAN_WEBHOOKS_ALLOW_HTTP"


class TargetRefused(Exception):
    """The URL may not receive webhooks; the message completes "The URL ..."."""


def system_resolver(host: str, port: int) -> list[Address]:
    """Every address the host resolves to, in the resolver's order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(f"names host {host!r}, which does not resolve") from exc
    # An IPv6 link-local answer may carry a zone ("fe80::1%eth0").
    found = (ip_address(str(info[4][0]).split("%")[0]) for info in infos)
    return list(dict.fromkeys(found))


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL and the addresses it may be delivered to."""

    url: httpx.URL
    addresses: tuple[Address, ...]

    def request_url(self, address: Address) -> httpx.URL:
        """The URL with the checked address in place of the host name."""
        return self.url.copy_with(host=str(address))

    def headers(self) -> dict[str, str]:
        # The Host header names the registered host, not the address connected to.
        return {"host": self.url.netloc.decode("ascii")}

    def extensions(self) -> dict[str, Any]:
        # TLS still verifies the certificate for the host name (and SNI names it).
        if self.url.scheme == "https" and not _is_literal(self.url.host):
            return {"sni_hostname": self.url.host}
        return {}


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    allow_http: bool = False
    allowed_networks: tuple[Network, ...] = ()
    resolver: Resolver = field(default=system_resolver)

    @classmethod
    def from_settings(cls, settings: Settings) -> TargetPolicy:
        return cls(
            allow_http=settings.webhooks_allow_http,
            allowed_networks=tuple(settings.webhooks_allowed_networks),
        )

    def check(self, url: str) -> Target:
        """The URL's target, every address of it allowed; TargetRefused otherwise."""
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise TargetRefused(f"is not valid: {exc}") from None
        if parsed.scheme not in {"https", "http"} or not parsed.host:
            raise TargetRefused("must be an absolute https:// URL")
        if parsed.scheme == "http" and not self.allow_http:
            raise TargetRefused(f"must use https (http:// to a loopback host is {_DEV_HINT})")
        if parsed.userinfo:
            raise TargetRefused("must not hold credentials: verify the signature instead")
        if parsed.fragment:
            raise TargetRefused("must not have a #fragment")
        host = parsed.host
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        addresses = [ip_address(host)] if _is_literal(host) else list(self.resolver(host, port))
        if not addresses:
            raise TargetRefused(f"names host {host!r}, which does not resolve")
        for address in addresses:
            self._check_address(address)
        if parsed.scheme == "http" and not all(_plain(a).is_loopback for a in addresses):
            raise TargetRefused(f"must use https (http:// to a loopback host is {_DEV_HINT})")
        return Target(url=parsed, addresses=tuple(addresses))

    def _check_address(self, address: Address) -> None:
        plain = _plain(address)
        if any(plain in network or address in network for network in self.allowed_networks):
            return
        if plain.is_loopback:
            if self.allow_http:
                return
            raise TargetRefused(f"resolves to {address}, a loopback address ({_DEV_HINT})")
        kind = _kind(plain)
        if kind is not None:
            raise TargetRefused(
                f"resolves to {address}, a {kind} address; only public addresses receive "
                "webhooks (the operator may allow a network with "
                "BACKPLAN_WEBHOOKS_ALLOWED_NETWORKS)"
            )


def _kind(address: Address) -> str | None:
    """What makes an address not public, or None for a public one."""
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_unspecified or address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "non-public"
    return None


def _plain(address: Address) -> Address:
    """An IPv4 address embedded in an IPv6 one (mapped, 6to4, NAT64) is judged as itself."""
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address in _NAT64:
            return IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def _is_literal(host: str) -> bool:
    try:
        ip_address(host)
    except ValueError:
        return False
    return True
