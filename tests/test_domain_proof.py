"""Domain proofs: the TXT record Auth0 names, looked up in DNS (a server on loopback here)."""

from __future__ import annotations

import socket
import time

import pulumi
import pytest

from auth0_org_assignment.config import StackConfig, parse_config
from auth0_org_assignment.config.email_domains import (
    apex,
    discovery_domains,
    mailbox_provider,
    proof_domains,
)
from auth0_org_assignment.config.schema import dns_server_address
from auth0_org_assignment.domain_proof import (
    LookupFailed,
    Resolver,
    proven,
)
from devtools.dns import LoopbackDns

HOST = "_ss-verification.org_1.acme.com"
TOKEN = "c945f1b697bfd624b9da67132b7f6f88"


def test_a_published_record_proves_the_domain_and_a_withdrawn_one_does_not() -> None:
    with LoopbackDns.start() as server:
        resolver = Resolver((server.address,))
        assert not proven(resolver, HOST, TOKEN)
        server.publish(HOST, "something else")
        assert not proven(resolver, HOST, TOKEN)
        server.publish(HOST, TOKEN)
        assert proven(resolver, HOST, TOKEN)
        assert not proven(resolver, "_ss-verification.org_2.acme.com", TOKEN)
        server.withdraw(HOST)
        assert not proven(resolver, HOST, TOKEN)


def test_an_unreachable_resolver_proves_nothing() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    started = time.monotonic()
    assert not proven(Resolver((f"127.0.0.1:{port}",)), HOST, TOKEN)
    assert time.monotonic() - started < 10


def test_a_strict_resolver_tells_no_answer_from_no_record() -> None:
    """What the operations commands look up with: a name DNS says does not exist, or has no such
    record, is no record; DNS not answering is an error that names the host."""
    with LoopbackDns.start() as server:
        address = server.address
        strict = Resolver((address,), strict=True)
        assert not proven(strict, HOST, TOKEN)  # NXDOMAIN: the loopback server knows no name
        server.publish(HOST, TOKEN)
        assert proven(strict, HOST, TOKEN)
        server.stop()
        with pytest.raises(LookupFailed, match=f"the TXT record at {HOST} "):
            proven(strict, HOST, TOKEN)
        assert not proven(Resolver((address,)), HOST, TOKEN)


def test_a_wildcard_is_proven_by_its_apex_once() -> None:
    assert apex("*.acme.com") == "acme.com"
    assert proof_domains(["acme.com", "*.acme.com", "*.eu.acme.com"]) == ("acme.com", "eu.acme.com")


def test_the_stack_declares_a_discovery_domain_for_each_proof_domain_but_free_mail() -> None:
    patterns = ["acme.com", "gmail.com", "*.beta.com", "*.outlook.com", "acme.com"]
    assert proof_domains(patterns) == ("acme.com", "gmail.com", "beta.com", "outlook.com")
    assert discovery_domains(patterns) == ("acme.com", "beta.com")


@pytest.mark.parametrize("domain", ["acme.za.com", "acme.dyndns.org", "corp.yahoo.com"])
def test_a_domain_under_a_free_mail_entry_is_proven_like_any_other(domain: str) -> None:
    """The free-mail list holds public suffixes (za.com, dyndns.org) and providers whose
    subdomains are someone's own: only the provider's own domain is admitted as declared."""
    assert mailbox_provider(domain) is None
    assert mailbox_provider(f"*.{domain}") is None
    assert discovery_domains(["gmail.com", domain]) == (domain,)
    organization = parse_config(
        {
            "auth0:domain": "acme.eu.auth0.com",
            "organizations": [
                {
                    "name": "community",
                    "displayName": "Community",
                    "connections": ["Username-Password-Authentication"],
                    "emailDomains": ["gmail.com", domain],
                    "allowFreeMailDomains": True,
                }
            ],
        },
        "t",
    ).organizations[0]
    assert discovery_domains(organization.email_domains) == (domain,)


def _resolvers_config(resolvers: list[str]) -> StackConfig:
    return parse_config(
        {
            "auth0:domain": "acme.eu.auth0.com",
            "dnsResolvers": resolvers,
            "organizations": [
                {
                    "name": "acme",
                    "displayName": "Acme",
                    "connections": ["Username-Password-Authentication"],
                    "emailDomains": ["acme.com"],
                }
            ],
        },
        "t",
    )


def test_two_resolvers_on_one_address_are_each_asked_at_their_own_port() -> None:
    """The first resolver answers that the record does not exist, which settles it: the second,
    on the same address at another port, is not asked. Read as a table of ports by address,
    both lookups went to the second, whose record proved the domain."""
    with LoopbackDns.start() as trusted, LoopbackDns.start() as fallback:
        fallback.publish(HOST, TOKEN)
        assert proven(Resolver((fallback.address,), strict=True), HOST, TOKEN)
        config = _resolvers_config([trusted.address, fallback.address])
        assert not proven(Resolver(tuple(config.dns_resolvers), strict=True), HOST, TOKEN)


@pytest.mark.parametrize(
    ("entry", "refusal"),
    [
        ("127.0.0.1:0", "has port 0"),
        ("127.0.0.1:70000", "is not an IP address"),
        ("300.1.1.1", "is not an IP address"),
        ("01.2.3.4", "is not an IP address"),
        ("[abc]", "is not an IP address"),
        ("[1:2]", "is not an IP address"),
    ],
)
def test_a_resolver_no_lookup_can_ask_is_refused_naming_the_entry(entry: str, refusal: str) -> None:
    """Entries the pattern lets through but no lookup can use: refused with the stack file,
    rather than stopping every preview at the proofs with a traceback (or, for port 0, asking
    port 53, a server the stack does not name)."""
    with pytest.raises(pulumi.RunError, match=rf"dnsResolvers\[1\]: {refusal}"):
        _resolvers_config(["127.0.0.1:5353", entry])


def test_a_resolver_named_by_its_ipv6_address_is_asked() -> None:
    """``dnsResolvers`` takes ``[::1]:5353`` and ``[::1]`` (port 53), as IPv4 addresses: a lookup
    there answers (they crashed every lookup: the brackets were taken for the address)."""
    assert dns_server_address("[::1]") == ("::1", 53)
    assert dns_server_address("[::1]:5353") == ("::1", 5353)
    assert dns_server_address("127.0.0.1") == ("127.0.0.1", 53)
    try:
        server = LoopbackDns.start(host="::1")
    except OSError as error:  # a machine whose loopback has no IPv6
        pytest.skip(f"no IPv6 loopback to serve DNS on: {error}")
    with server:
        address = server.address
        assert address.startswith("[::1]:")
        config = _resolvers_config([address])
        strict = Resolver(tuple(config.dns_resolvers), strict=True)
        assert not proven(strict, HOST, TOKEN)
        server.publish(HOST, TOKEN)
        assert proven(strict, HOST, TOKEN)
