"""Say, for each email domain, which DNS record proves it, and whether it is published.

    AUTH0_DOMAINS_CLIENT_ID=... AUTH0_DOMAINS_CLIENT_SECRET=... \\
        auth0-org-assignment domains prod [--json]

A domain admits nobody until its owner has proven control of it: the TXT record Auth0 names for
the organization's discovery domain (``verification_txt`` at ``verification_host``) must be in
DNS. This lists, per organization and domain (a ``*.`` pattern is proven by its apex), the record
to publish where, whether DNS has it now (the stack's ``dnsResolvers``, or the machine's), and
Auth0's status of the domain; the next ``pulumi up`` admits through the domains proven then.
A domain not declared yet in the tenant says so: ``pulumi up`` declares it. Reads only.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from auth0_org_assignment.commands.management_client import (
    add_stack_arguments,
    connect,
    reported,
)
from auth0_org_assignment.config import StackConfig
from auth0_org_assignment.config.email_domains import needs_proof, proof_domains
from auth0_org_assignment.domain_proof import LookupFailed, Resolver, proven

CALLS = ("organizations.get_by_name", "organizations.discovery_domains.get_by_name")
"""The Management API calls it makes, every one a read."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_stack_arguments(parser, "the stack whose organizations' domains to check, e.g. prod")
    parser.add_argument("--json", action="store_true", help="print the records as JSON")


def run(arguments: argparse.Namespace) -> int:
    return reported(lambda: _domains(arguments))


def _domains(arguments: argparse.Namespace) -> int:
    config, api = connect(arguments, "DOMAINS", "read-only credentials", CALLS)
    resolver = Resolver(tuple(config.dns_resolvers), strict=True)
    records = []
    for organization in config.organizations:
        organization_id = api.call("organizations.get_by_name", name=organization.name)["id"]
        for domain in proof_domains(organization.email_domains):
            records.append(
                {"organization": organization.name, "domain": domain}
                | _record(api, resolver, organization_id, domain)
            )
    if arguments.json:
        print(json.dumps(records, indent=2))
    else:
        print("\n".join(_line(record) for record in records) or "no email domains to prove")
    return 0


class Proofs(NamedTuple):
    """Each organization's email domains (apexes), by its name, as the tenant and DNS prove
    them now."""

    proven: dict[str, list[str]]
    """Those its deployed rule admits through: DNS has their record now, and Auth0 has them as
    verified (the stack's DomainProof sets that when their record is in DNS) or the deployed
    Actions hold them; and the free-mail ones it allows."""
    declared: dict[str, list[str]]
    """Those a deploy declared (the organization's discovery domains in Auth0, whatever their
    status), and the free-mail ones it allows: the proven ones and those awaiting a proof."""
    unanswered: dict[str, list[str]]
    """Those whose record's lookup DNS did not answer this run (counted as proven or not as
    ``proven_domains`` was asked)."""


def proven_domains(
    api: Any,
    config: StackConfig,
    organization_ids: Mapping[str, str],
    *,
    unanswered_admits: bool = False,
    patterns: Mapping[str, Sequence[str]],
    held: Mapping[str, Sequence[str]],
) -> Proofs:
    """For each organization, the email domains its deployed rule admits through, and those
    declared (:class:`Proofs`). What backfill, reconcile and explain must hold to, as the Action
    does.

    A lookup DNS does not answer (one organization's failing DNS server, or an outage) neither
    stops the command nor is taken for a missing record: with ``unanswered_admits`` the domain
    counts as proven (reconcile: nobody leaves through it on no answer), else as not (the
    backfill and explain: nobody joins through it); each such lookup is named on stderr.
    ``patterns``: each organization's email domains to look up, by name (those the deployed
    Actions hold and those the configuration names); ``held``: those the deployed Actions hold.

    Auth0's status alone is not enough: the Management API lets anyone who may update discovery
    domains set ``verified`` without a record (the dashboard too), and the stack only sets a
    status when its proof changes, so such a status would stay. The Action holds only what DNS
    proved at the last deploy; a domain both verified and published now is one that deploy
    proved, or the next will. One the Action holds is proven while its record is published,
    whatever status a read shows: Auth0 reads a discovery domain with eventual consistency, so
    just after the deploy whose proof set it ``verified`` a read may still show ``pending``,
    while logins admit through it."""
    resolver = Resolver(tuple(config.dns_resolvers), strict=True)
    consequence = (
        "members standing through it are kept" if unanswered_admits else "it admits nobody"
    )
    proofs = Proofs({}, {}, {})
    for organization in config.organizations:
        found = proofs.proven[organization.name] = []
        known = proofs.declared[organization.name] = []
        organization_id = organization_ids[organization.name]
        in_actions = set(proof_domains(held[organization.name]))
        for domain in proof_domains(patterns[organization.name]):
            if not needs_proof(domain):
                found.append(domain)
                known.append(domain)
                continue
            declared = _discovery_domain(api, organization_id, domain)
            if declared is None:
                continue
            known.append(domain)
            try:
                admits = (declared["status"] == "verified" or domain in in_actions) and proven(
                    resolver, declared["verification_host"], declared["verification_txt"]
                )
            except LookupFailed as error:
                admits = unanswered_admits
                proofs.unanswered.setdefault(organization.name, []).append(domain)
                print(
                    f"warning: {organization.name}: {domain}: {error.answer}; {consequence} "
                    "this run",
                    file=sys.stderr,
                    flush=True,
                )
            if admits:
                found.append(domain)
    return proofs


def _discovery_domain(api: Any, organization_id: str, domain: str) -> dict[str, Any] | None:
    """The organization's discovery domain for ``domain``; None when it has none (404)."""
    found: dict[str, Any] | None = api.find(
        "organizations.discovery_domains.get_by_name", id=organization_id, domain=domain
    )
    return found


def _record(api: Any, resolver: Resolver, organization_id: str, domain: str) -> dict[str, Any]:
    if not needs_proof(domain):
        return {"state": "free-mail", "published": None}
    found = _discovery_domain(api, organization_id, domain)
    if found is None:
        return {"state": "not-declared", "published": None}
    host, txt = found["verification_host"], found["verification_txt"]
    try:
        published: bool | None = proven(resolver, host, txt)
    except LookupFailed:
        published = None  # (DNS did not answer: not known)
    return {
        "state": found["status"],
        "verification_host": host,
        "verification_txt": txt,
        "published": published,
    }


LAG = " (if one ran in the last minutes, Auth0's reads may not show it yet)"
"""Auth0 reads discovery domains with eventual consistency: what a deploy just changed may not
show for a while."""


def _line(record: dict[str, Any]) -> str:
    where = f"{record['organization']}: {record['domain']}"
    if record["state"] == "free-mail":
        return f"{where}: a free-mail domain (allowFreeMailDomains): admitted without proof"
    if record["state"] == "not-declared":
        return f"{where}: not declared in the tenant yet: run pulumi up, then this again{LAG}"
    record_text = f'TXT "{record["verification_txt"]}" at {record["verification_host"]}'
    if record["published"] is None:
        return f"{where}: DNS did not answer the lookup of {record_text}: run this again later"
    if record["published"]:
        admits = (
            "admits"
            if record["state"] == "verified"
            else f"Auth0 shows it pending: admits after the next pulumi up{LAG}"
        )
        return f"{where}: proven ({record_text} is published); {admits}"
    if record["state"] == "verified":
        # Only a deploy that found the record sets verified, and the deployed Actions hold
        # the domain until the next one finds it gone.
        return (
            f"{where}: its record ({record_text}) is not published: the deployed rule may admit "
            "through it until the next pulumi up, which marks it pending"
        )
    return f"{where}: publish {record_text}; until then it admits nobody"
