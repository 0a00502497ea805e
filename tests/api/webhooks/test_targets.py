"""Where webhooks may go (no database: the policy alone)."""

from ipaddress import ip_address, ip_network

import pytest

from api.webhooks.targets import TargetPolicy, TargetRefused
from tests.api.webhooks.conftest import fake_resolver

POLICY = TargetPolicy(resolver=fake_resolver())
DEV = TargetPolicy(allow_http=True, resolver=fake_resolver())


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/x", "must use https"),
        ("ftp://hooks.example.com/x", "absolute https:// URL"),
        ("/relative", "absolute https:// URL"),
        ("https:///x", "absolute https:// URL"),
        ("https://127.0.0.1/x", "loopback"),
        ("https://127.8.9.10/x", "loopback"),
        ("https://[::1]/x", "loopback"),
        ("https://rebind.example.com/x", "loopback"),
        ("https://10.0.0.7/x", "private"),
        ("https://internal.example.com/x", "private"),
        ("https://172.16.0.1/x", "private"),
        ("https://192.168.1.20/x", "private"),
        ("https://[fd00::1]/x", "private"),
        ("https://[::ffff:10.0.0.7]/x", "private"),
        ("https://[64:ff9b::a00:7]/x", "private"),
        ("https://[2002:a00:7::]/x", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://metadata.example.com/x", "link-local"),
        ("https://[fe80::1]/x", "link-local"),
        ("https://224.0.0.251/x", "multicast"),
        ("https://[ff02::1]/x", "multicast"),
        ("https://0.0.0.0/x", "reserved"),
        ("https://240.0.0.1/x", "reserved"),
        ("https://100.64.0.1/x", "non-public"),
        ("https://nowhere.example.com/x", "does not resolve"),
        ("https://999.1.1.1/x", "not valid"),
        ("https://user:pw@hooks.example.com/x", "credentials"),
        ("https://hooks.example.com/x#frag", "fragment"),
    ],
)
def test_refused(url: str, reason: str) -> None:
    with pytest.raises(TargetRefused, match=reason):
        POLICY.check(url)


def test_public_https_is_accepted_and_pinned_to_its_address() -> None:
    target = POLICY.check("https://hooks.example.com:8443/in?x=1")
    assert target.addresses == (ip_address("93.184.216.34"),)
    assert str(target.request_url(target.addresses[0])) == "https://93.184.216.34:8443/in?x=1"
    assert target.headers() == {"host": "hooks.example.com:8443"}
    assert target.extensions() == {"sni_hostname": "hooks.example.com"}
    literal = POLICY.check("https://8.8.8.8/in")
    assert literal.extensions() == {}  # no SNI for an address


def test_every_address_of_a_name_must_be_allowed() -> None:
    mixed = TargetPolicy(
        resolver=lambda host, port: [ip_address("93.184.216.34"), ip_address("10.0.0.1")]
    )
    with pytest.raises(TargetRefused, match=r"10\.0\.0\.1"):
        mixed.check("https://hooks.example.com/")


def test_development_allows_loopback_only() -> None:
    assert DEV.check("http://127.0.0.1:9000/x").addresses == (ip_address("127.0.0.1"),)
    assert DEV.check("http://[::1]:9000/x").headers() == {"host": "[::1]:9000"}
    assert DEV.check("http://rebind.example.com:9000/x").headers() == {
        "host": "rebind.example.com:9000"
    }
    assert DEV.check("https://rebind.example.com/x")
    for url in ("http://hooks.example.com/x", "http://10.0.0.7/x"):
        with pytest.raises(TargetRefused):
            DEV.check(url)


def test_allowed_networks() -> None:
    policy = TargetPolicy(
        allowed_networks=(ip_network("10.0.0.0/8"), ip_network("fd00::/8")),
        resolver=fake_resolver(),
    )
    assert policy.check("https://internal.example.com/x")
    assert policy.check("https://[fd00::5]/x")
    with pytest.raises(TargetRefused, match="private"):
        policy.check("https://192.168.0.1/x")
    with pytest.raises(TargetRefused, match="loopback"):
        policy.check("https://127.0.0.1/x")
