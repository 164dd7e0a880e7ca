"""Proof that an organization's owner controls an email domain: the TXT record Auth0 names for
the domain's Organization discovery domain (``verification_host``, ``verification_txt``), found
in DNS.

A ``*.acme.com`` pattern is proven by its apex, ``acme.com``: one discovery domain, one record.
Until its record is found a domain admits nobody. The resolvers are the machine's unless the
stack names others (``dnsResolvers``, e.g. a test's server on loopback).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dns.exception
import dns.resolver
import pulumi
import pulumi.dynamic

from auth0_org_assignment import rate_limits

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


# --- the proof, as a resource of the stack ---------------------------------------------------
#
# Auth0 hands out the record (``verification_host``, ``verification_txt``) when the discovery
# domain is created, but the Management API, Terraform and the Deploy CLI let a caller set
# ``status: verified`` without it. So the stack declares each discovery domain ``pending`` (and
# leaves its status to this resource), and ``DomainProof`` looks the record up at every preview
# and deploy, in ``check``, which the engine calls for both:
#
# - the lookup's answer (``proven``) is an input of the resource, so a preview shows it, the
#   Action's rule is rendered from it, and a drift check (``preview --expect-no-changes``) fails
#   when a record that proved a domain has gone;
# - ``create``/``update``, which only a deploy runs, set Auth0's status to match: ``verified``
#   when the record is there, ``pending`` when it is not.
#
# The Management API credentials are the deployer's own, read where the auth0 provider reads
# them (``AUTH0_CLIENT_ID``/``AUTH0_CLIENT_SECRET``, else the stack's ``auth0:clientId`` and
# ``auth0:clientSecret``): nothing of them is an input, so none reaches the state.

PROOF_TYPE = "auth0-org-assignment:index:DomainProof"
"""Kept for the documentation: a dynamic resource's type is ``pulumi-python:dynamic:Resource``."""

_INPUTS = ("organization_id", "domains", "resolvers")
_RECORD = ("domain", "discovery_domain_id", "verification_host", "verification_txt")
"""What ``domains`` holds for each of the organization's discovery domains."""


def _published(record: Mapping[str, Any], resolver: Resolver) -> bool:
    """Whether the record a discovery domain names is in DNS; False while its host or text is
    unknown (a discovery domain not created yet has no record to find)."""
    host, txt = record.get("verification_host"), record.get("verification_txt")
    if not (isinstance(host, str) and isinstance(txt, str) and host and txt):
        return False
    return proven(resolver, host, txt)


def _proven_domains(inputs: Mapping[str, Any]) -> list[str]:
    """The organization's domains whose record is in DNS, in the order they are declared."""
    servers = inputs.get("resolvers")
    resolver = Resolver(tuple(servers) if isinstance(servers, list) else ())
    return [record["domain"] for record in _records(inputs) if _published(record, resolver)]


class _ProofProvider(pulumi.dynamic.ResourceProvider):
    """Looks an organization's domains' records up (``check``) and sets Auth0's status of each
    discovery domain to match (``create``, ``update``). Never deletes: the discovery domains'
    own resources do."""

    def configure(self, req: pulumi.dynamic.ConfigureRequest) -> None:
        self._config = req.config

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        return pulumi.dynamic.CheckResult({**news, "proven": _proven_domains(news)}, [])

    def diff(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        changed = [key for key in (*_INPUTS, "proven") if olds.get(key) != news.get(key)]
        return pulumi.dynamic.DiffResult(
            changes=bool(changed),
            replaces=[key for key in changed if key == "organization_id"],
            delete_before_replace=False,
        )

    def create(self, inputs: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        self._set_statuses(inputs, _records(inputs))
        return pulumi.dynamic.CreateResult(str(inputs["organization_id"]), outs=inputs)

    def update(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        # Only the domains whose proof changed, or whose discovery domain is new.
        before = {
            (r["domain"], r["discovery_domain_id"], r["domain"] in (olds.get("proven") or []))
            for r in _records(olds)
        }
        changed = [
            r
            for r in _records(news)
            if (r["domain"], r["discovery_domain_id"], r["domain"] in news["proven"]) not in before
        ]
        self._set_statuses(news, changed)
        return pulumi.dynamic.UpdateResult(outs=news)

    def _set_statuses(
        self, inputs: Mapping[str, Any], records: Sequence[Mapping[str, Any]]
    ) -> None:
        if not records:
            return
        # Imported here: the commands' client is only needed where a deploy runs this.
        from auth0_org_assignment.commands.management_client import ManagementClient

        config = getattr(self, "_config", None)
        domain = os.environ.get("AUTH0_DOMAIN") or (config and config.get("auth0:domain"))
        client_id = os.environ.get("AUTH0_CLIENT_ID") or (config and config.get("auth0:clientId"))
        secret = os.environ.get("AUTH0_CLIENT_SECRET") or (
            config and config.get("auth0:clientSecret")
        )
        if not (domain and client_id and secret):
            raise RuntimeError(
                f"{', '.join(r['domain'] for r in records)}: no Management API credentials to "
                "set the domains' status with: set AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET (or "
                "auth0:clientId and auth0:clientSecret), as for the auth0 provider"
            )
        api = ManagementClient(
            str(domain),
            str(client_id),
            str(secret),
            rate=10,
            allowed=("organizations.discovery_domains.update",),
            # The deploy's share of the tier, as the auth0 plugin paces its own requests.
            pacer=rate_limits.deploy_pacer(),
        )
        for record in records:
            api.call(
                "organizations.discovery_domains.update",
                body={"status": "verified" if record["domain"] in inputs["proven"] else "pending"},
                id=inputs["organization_id"],
                discovery_domain_id=record["discovery_domain_id"],
            )


def _records(inputs: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    records = inputs.get("domains")
    return [r for r in records if isinstance(r, dict)] if isinstance(records, list) else []


@dataclass(frozen=True)
class DiscoveryRecord:
    """One of an organization's discovery domains, as its proof reads it."""

    domain: str
    discovery_domain_id: pulumi.Input[str]
    verification_host: pulumi.Input[str]
    verification_txt: pulumi.Input[str]


class DomainProof(pulumi.dynamic.Resource):
    """An organization's email domains' proofs: which of them have their record in DNS
    (``proven``), with Auth0's status of each discovery domain set to match on each deploy. One
    resource an organization, whatever its number of domains: a stack of thousands of
    organizations evaluates and deploys fewer resources."""

    proven: pulumi.Output[list[str]]

    def __init__(
        self,
        name: str,
        *,
        organization_id: pulumi.Input[str],
        domains: Sequence[DiscoveryRecord],
        resolvers: Sequence[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            _ProofProvider(),
            name,
            {
                "organization_id": organization_id,
                "domains": [{key: getattr(d, key) for key in _RECORD} for d in domains],
                "resolvers": list(resolvers),
                "proven": None,
            },
            opts,
        )
