"""Proof that an organization's owner controls an email domain: the TXT record Auth0 names for
the domain's Organization discovery domain (``verification_host``, ``verification_txt``), found
in DNS.

A ``*.acme.com`` pattern is proven by its apex, ``acme.com``: one discovery domain, one record.
Until its record is found a domain admits nobody. The resolvers are the machine's unless the
stack names others (``dnsResolvers``, e.g. a test's server on loopback).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dns.exception
import dns.nameserver
import dns.resolver
import pulumi
import pulumi.dynamic

from auth0_org_assignment import rate_limits
from auth0_org_assignment.config import PROJECT
from auth0_org_assignment.config.schema import dns_server_address

TIMEOUT_S = 5.0
"""How long one lookup may take before DNS counts as not answering."""


class LookupFailed(Exception):
    """DNS gave no answer to a TXT lookup (a timeout, a failing server): which is not an answer
    that the record is missing."""

    def __init__(self, host: str, reason: str) -> None:
        self.host = host
        self.answer = f"DNS did not answer the lookup of the TXT record at {host} ({reason})"
        super().__init__(self.answer)


@dataclass(frozen=True)
class Resolver:
    """Where TXT records are looked up: ``host:port`` of DNS servers, or the system's."""

    servers: tuple[str, ...] = ()
    strict: bool = False
    """Whether a lookup DNS does not answer raises :class:`LookupFailed`, for a caller that
    tells no answer from no record (the deploy's proofs and the operations commands); else it
    proves nothing, as no record does."""

    def txt(self, host: str) -> frozenset[str]:
        """The TXT strings published at ``host``; none when it has none (a domain is proven
        only by an answer, never by an error), or when DNS does not answer and not ``strict``."""
        resolver = dns.resolver.Resolver(configure=not self.servers)
        if self.servers:
            # One nameserver an entry, each with its own port: two entries on one address are
            # two servers (a table of ports by address would send both lookups to the last).
            resolver.nameservers = [
                dns.nameserver.Do53Nameserver(*dns_server_address(server))
                for server in self.servers
            ]
        resolver.lifetime = TIMEOUT_S
        try:
            answer = resolver.resolve(host, "TXT", raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return frozenset()
        except (dns.exception.DNSException, OSError) as error:
            if self.strict:
                raise LookupFailed(host, str(error) or type(error).__name__) from error
            return frozenset()
        return frozenset(
            b"".join(record.strings).decode("utf-8", errors="replace") for record in answer
        )


def proven(resolver: Resolver, verification_host: str, verification_txt: str) -> bool:
    """Whether the record Auth0 asks for is published: ``verification_txt`` among the TXT
    strings at ``verification_host``."""
    return verification_txt in resolver.txt(verification_host)


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
#   when the record is there, ``pending`` when it is not;
# - a lookup DNS does not answer (a timeout, a failing server) holds the proof the last deploy
#   stored for that discovery domain (``held``), for at most ``HELD_WITHOUT_ANSWER_S``, and says
#   so on stderr: an outage, or one customer's broken DNS, changes neither who gets in nor
#   Auth0's status (a domain never proven stays unproven), and the drift check fails meanwhile.
#
# One proof holds the domains of a group of organizations (``group_of``, at most ``GROUPS``): a
# stack of thousands of organizations registers, previews and deploys a few dozen proofs, not
# one each, and an organization stays in its group whatever the others are, so adding one sets
# the status of its own domains alone.
#
# The Management API credentials are the deployer's own, read from the environment as the
# auth0 provider and ``ActionCredential`` read them (``AUTH0_CLIENT_ID``/``AUTH0_CLIENT_SECRET``;
# the stack may not hold ``auth0:clientSecret``, config.policy): nothing of them is an input,
# so none reaches the state.

GROUPS = 64
"""How many proofs a stack has at most."""
CALLS = ("organizations.discovery_domains.update",)
"""The Management API calls a proof makes (``commands.management_client.CALLS``), with the
deployer's credentials."""

HELD_WITHOUT_ANSWER_S = 3 * 24 * 3600.0
"""How long a proof is held as the last deploy stored it while DNS does not answer the lookup of
its record: a weekend's outage, not a server that never answers."""

UNANSWERED_SHOWN = 10
"""How many lookups DNS did not answer a check names one by one; past that, one line counts the
rest."""

LOOKUPS_AT_ONCE = 16
"""How many of a proof's records ``check`` looks up at the same time: a group holds hundreds at
10,000 organizations, and one after the other a slow resolver would hold the preview for each."""

_INPUTS = ("domains", "resolvers")
_RECORD = (
    "organization",
    "organization_id",
    "domain",
    "discovery_domain_id",
    "verification_host",
    "verification_txt",
)
"""What ``domains`` holds for each discovery domain of the group's organizations."""


def group_of(organization: str) -> int:
    """The proof group of the organization named ``organization``: a hash of its name, so it
    never depends on the other organizations or their order."""
    digest = hashlib.sha256(organization.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % GROUPS


def _published(record: Mapping[str, Any], resolver: Resolver) -> bool | None:
    """Whether the record a discovery domain names is in DNS; False while its host or text is
    unknown (a discovery domain not created yet has no record to find); None when DNS does not
    answer."""
    host, txt = record.get("verification_host"), record.get("verification_txt")
    if not (isinstance(host, str) and isinstance(txt, str) and host and txt):
        return False
    try:
        return proven(resolver, host, txt)
    except LookupFailed:
        return None


def _proven_domains(
    inputs: Mapping[str, Any], olds: Mapping[str, Any] | None = None
) -> tuple[dict[str, list[str]], dict[str, float]]:
    """Each of the group's organizations' domains whose record is in DNS, in the order they are
    declared (an organization none of whose records is found has an empty list), and the proofs
    held without an answer: since when, by discovery domain (``_held_key``).

    A record DNS does not answer for keeps the proof ``olds`` (the inputs the last deploy
    stored) hold for its discovery domain, looked up at the same resolvers, for at most
    ``HELD_WITHOUT_ANSWER_S`` since the first lookup left unanswered: a lame or refusing server
    (a lapsed domain's new owner's, say) cannot keep a proof for ever. None when they hold
    none."""
    olds = olds or {}
    servers = inputs.get("resolvers")
    resolver = Resolver(tuple(servers) if isinstance(servers, list) else (), strict=True)
    records = _records(inputs)
    with ThreadPoolExecutor(max_workers=LOOKUPS_AT_ONCE) as pool:
        found = list(pool.map(lambda record: _published(record, resolver), records))
    stored = _statuses(olds) if olds.get("resolvers") == servers else set()
    was_held: Mapping[str, Any] = olds["held"] if isinstance(olds.get("held"), dict) else {}
    now = _now()
    proven_domains: dict[str, list[str]] = {}
    held: dict[str, float] = {}
    unanswered: list[tuple[Mapping[str, Any], float | None]] = []
    for record, published in zip(records, found, strict=True):
        domains = proven_domains.setdefault(str(record.get("organization")), [])
        if published is None:
            key = _held_key(record, inputs)
            since = was_held.get(key, now)
            kept = (*_identity(record, inputs), "verified") in stored
            if kept and isinstance(since, int | float) and now - since < HELD_WITHOUT_ANSWER_S:
                held[key] = since
            published = key in held
            unanswered.append((record, held.get(key)))
        if published:
            domains.append(record["domain"])
    _say_unanswered(unanswered)
    return proven_domains, held


def _now() -> float:
    """Unix time (a test moves it)."""
    return time.time()


def _held_key(record: Mapping[str, Any], inputs: Mapping[str, Any]) -> str:
    """A discovery domain's key in ``held``: its organization's id, its own id and domain."""
    return "/".join(str(part) for part in _identity(record, inputs))


def _say_unanswered(unanswered: Sequence[tuple[Mapping[str, Any], float | None]]) -> None:
    """Name on stderr (which the engine shows for a dynamic provider) the records DNS did not
    answer for, the first ``UNANSWERED_SHOWN``, and what each proof is: held since when and
    until when, or not proven."""

    def kept(since: float | None) -> str:
        if since is None:
            return "it is not proven"
        until = datetime.fromtimestamp(since + HELD_WITHOUT_ANSWER_S, UTC)
        return (
            "its proof is held as the last deploy left it (proven) until "
            f"{until:%Y-%m-%dT%H:%MZ} at most"
        )

    lines = [
        f"{PROJECT}: organization {record.get('organization')!r}: DNS did not answer the lookup "
        f"of {record.get('domain')}'s TXT record at {record.get('verification_host')}; "
        f"{kept(since)}, and the next preview or deploy looks again"
        for record, since in unanswered[:UNANSWERED_SHOWN]
    ]
    if len(unanswered) > UNANSWERED_SHOWN:
        lines.append(
            f"{PROJECT}: DNS did not answer {len(unanswered) - UNANSWERED_SHOWN} more lookups "
            "of email domains' records: their proofs are held as the last deploy left them, "
            "for a while"
        )
    for line in lines:
        with contextlib.suppress(OSError, ValueError):
            print(line, file=sys.stderr, flush=True)


def _identity(record: Mapping[str, Any], inputs: Mapping[str, Any]) -> tuple[Any, Any, Any]:
    """(organization id, discovery domain id, domain) of a record: the discovery domain whose
    status it sets. A proof stored before proofs were grouped holds one organization, whose id
    is the proof's own; the provider's id of a discovery domain is "<organization id>::<its
    own id>"."""
    organization_id = record.get("organization_id", inputs.get("organization_id"))
    discovery_domain_id = str(record["discovery_domain_id"]).split("::")[-1]
    return organization_id, discovery_domain_id, record["domain"]


def _statuses(inputs: Mapping[str, Any]) -> set[tuple[Any, Any, Any, str]]:
    """The status each record's discovery domain was set to with these inputs: (organization
    id, discovery domain id, domain, status). A proof stored before proofs were grouped holds
    one organization: its ``proven`` list is the proof's own."""
    proven_domains = inputs.get("proven")
    statuses = set()
    for record in _records(inputs):
        if isinstance(proven_domains, dict):
            found = proven_domains.get(record.get("organization")) or []
        else:
            found = proven_domains or []
        status = "verified" if record["domain"] in found else "pending"
        statuses.add((*_identity(record, inputs), status))
    return statuses


class _ProofProvider(pulumi.dynamic.ResourceProvider):
    """Looks its organizations' domains' records up (``check``) and sets Auth0's status of each
    discovery domain to match (``create``, ``update``). Never deletes: the discovery domains'
    own resources do."""

    def configure(self, req: pulumi.dynamic.ConfigureRequest) -> None:
        self._config = req.config

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        proven_domains, held = _proven_domains(news, olds)
        return pulumi.dynamic.CheckResult({**news, "proven": proven_domains, "held": held}, [])

    def diff(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        # A proof held without an answer is a change while it lasts: the drift check
        # (preview --expect-no-changes) fails until DNS answers.
        changed = [
            key
            for key in (*_INPUTS, "proven", "held")
            if olds.get(key) != news.get(key) or (key == "held" and news.get(key))
        ]
        # Never replaced: a record whose organization or discovery domain is new is set in
        # the update, the others are left as they are.
        return pulumi.dynamic.DiffResult(changes=bool(changed), replaces=[])

    def create(self, inputs: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        self._set(_statuses(inputs))
        return pulumi.dynamic.CreateResult(f"domain-proofs-{inputs['group']}", outs=inputs)

    def update(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        # Only the discovery domains whose proof changed, or that are new to the proof.
        self._set(_statuses(news) - _statuses(olds))
        return pulumi.dynamic.UpdateResult(outs=news)

    def _set(self, statuses: set[tuple[Any, Any, Any, str]]) -> None:
        if not statuses:
            return
        # Imported here: the commands' client is only needed where a deploy runs this.
        from auth0_org_assignment.commands.management_client import ManagementClient

        config = getattr(self, "_config", None)
        domain = os.environ.get("AUTH0_DOMAIN") or (config and config.get("auth0:domain"))
        client_id = os.environ.get("AUTH0_CLIENT_ID")
        secret = os.environ.get("AUTH0_CLIENT_SECRET")
        if not (domain and client_id and secret):
            raise RuntimeError(
                f"{', '.join(sorted({s[2] for s in statuses}))}: no Management API credentials "
                "to set the domains' status with: set AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET "
                "(and auth0:domain), as for the auth0 provider"
            )
        api = ManagementClient(
            str(domain),
            str(client_id),
            str(secret),
            rate=10,
            allowed=CALLS,
            # The deploy's share of the tier, as the auth0 plugin paces its own requests.
            pacer=rate_limits.deploy_pacer(),
        )
        # Pending first: a domain whose record has gone stops counting as proven before any
        # other is verified. If a request fails, the engine keeps the proof's stored inputs, so
        # the domains this call verified are set back to pending (what those inputs say) before
        # the error is raised: Auth0 never holds a domain verified that the state holds
        # pending, which the next deploy would then not correct once its record is gone.
        verified: list[tuple[Any, Any, Any, str]] = []
        try:
            for change in sorted(statuses, key=lambda change: (change[3] != "pending", change)):
                self._send(api, change)
                if change[3] == "verified":
                    verified.append(change)
        except Exception:
            for organization_id, discovery_domain_id, domain, _status in verified:
                with contextlib.suppress(Exception):
                    self._send(api, (organization_id, discovery_domain_id, domain, "pending"))
            raise

    @staticmethod
    def _send(api: Any, change: tuple[Any, Any, Any, str]) -> None:
        organization_id, discovery_domain_id, _domain, status = change
        api.call(
            "organizations.discovery_domains.update",
            body={"status": status},
            id=organization_id,
            discovery_domain_id=discovery_domain_id,
        )


def _records(inputs: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    records = inputs.get("domains")
    return [r for r in records if isinstance(r, dict)] if isinstance(records, list) else []


@dataclass(frozen=True)
class DiscoveryRecord:
    """One of an organization's discovery domains, as its proof reads it."""

    organization: str
    organization_id: pulumi.Input[str]
    domain: str
    discovery_domain_id: pulumi.Input[str]
    """The auth0 provider's id of the discovery domain, ``<organization id>::<its own id>``
    (or its own id alone)."""
    verification_host: pulumi.Input[str]
    verification_txt: pulumi.Input[str]


class DomainProof(pulumi.dynamic.Resource):
    """A group's email domains' proofs: for each of its organizations, which of its domains have
    their record in DNS (``proven``), with Auth0's status of each discovery domain set to match
    on each deploy."""

    proven: pulumi.Output[dict[str, list[str]]]
    held: pulumi.Output[dict[str, float]]
    domains: pulumi.Output[list[dict[str, Any]]]

    def __init__(
        self,
        name: str,
        *,
        group: int,
        domains: Sequence[DiscoveryRecord],
        resolvers: Sequence[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            _ProofProvider(),
            name,
            {
                "group": group,
                "domains": [{key: getattr(d, key) for key in _RECORD} for d in domains],
                "resolvers": list(resolvers),
                "proven": None,
                "held": None,
            },
            opts,
        )
