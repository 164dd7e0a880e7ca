"""Proof that an organization's owner controls an email domain: the TXT record Auth0 names for
the domain's Organization discovery domain (``verification_host``, ``verification_txt``), found
in DNS.

A ``*.acme.com`` pattern is proven by its apex, ``acme.com``: one discovery domain, one record.
Until its record is found a domain admits nobody. The resolvers are the machine's unless the
stack names others (``dnsResolvers``, e.g. a test's server on loopback).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import dns.exception
import dns.resolver

TIMEOUT_S = 5.0
"""How long one lookup may take before the record counts as not found."""


@dataclass(frozen=True)
class Resolver:
    """Where TXT records are looked up: ``host:port`` of DNS servers, or the system's."""

    servers: tuple[str, ...] = ()

    def txt(self, host: str) -> frozenset[str]:
        """The TXT strings published at ``host``; none when it has none or DNS fails (a
        domain is proven only by an answer, never by an error)."""
        resolver = dns.resolver.Resolver(configure=not self.servers)
        if self.servers:
            addresses = [_address(server) for server in self.servers]
            resolver.nameservers = [host for host, _ in addresses]
            resolver.nameserver_ports = dict(addresses)
        resolver.lifetime = TIMEOUT_S
        try:
            answer = resolver.resolve(host, "TXT", raise_on_no_answer=False)
        except (dns.exception.DNSException, OSError):
            return frozenset()
        return frozenset(
            b"".join(record.strings).decode("utf-8", errors="replace") for record in answer
        )


def _address(server: str) -> tuple[str, int]:
    """``127.0.0.1:5353`` -> ("127.0.0.1", 5353); a server without a port is on 53."""
    host, _, port = server.rpartition(":") if ":" in server else (server, "", "53")
    return host, int(port)


def apex(pattern: str) -> str:
    """The domain that proves a pattern: ``*.acme.com`` is proven by ``acme.com``."""
    return pattern.removeprefix("*.")


def proven(resolver: Resolver, verification_host: str, verification_txt: str) -> bool:
    """Whether the record Auth0 asks for is published: ``verification_txt`` among the TXT
    strings at ``verification_host``."""
    return verification_txt in resolver.txt(verification_host)


def proof_domains(patterns: Sequence[str]) -> tuple[str, ...]:
    """The discovery domains an organization's patterns need, each once, in order."""
    return tuple(dict.fromkeys(apex(pattern) for pattern in patterns))
