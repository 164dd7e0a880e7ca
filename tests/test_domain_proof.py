"""Domain proofs: the TXT record Auth0 names, looked up in DNS (a server on loopback here)."""

from __future__ import annotations

import socket
import time

from auth0_org_assignment.domain_proof import (
    Resolver,
    apex,
    discovery_domains,
    proof_domains,
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


def test_a_wildcard_is_proven_by_its_apex_once() -> None:
    assert apex("*.acme.com") == "acme.com"
    assert proof_domains(["acme.com", "*.acme.com", "*.eu.acme.com"]) == ("acme.com", "eu.acme.com")


def test_the_stack_declares_a_discovery_domain_for_each_proof_domain_but_free_mail() -> None:
    patterns = ["acme.com", "gmail.com", "*.beta.com", "*.outlook.com", "acme.com"]
    assert proof_domains(patterns) == ("acme.com", "gmail.com", "beta.com", "outlook.com")
    assert discovery_domains(patterns) == ("acme.com", "beta.com")
