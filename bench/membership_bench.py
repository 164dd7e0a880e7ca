"""Backfill and reconcile against the bound a rate-limit tier sets.

    .venv/bin/python -m bench.membership_bench [--users 10000] [--tier enterprise-production]
        [--rtt-ms 0]

A fresh local tenant enforcing the tier's documented limits, one organization, ``--users``
users who all match its rule; then ``auth0-org-assignment backfill STACK --tier TIER`` (every
other setting its default) adds them all, and ``reconcile STACK --tier TIER`` removes them all
once the rule names another email domain. For each it prints the memberships a second (over
the command's whole run, export and reads included), the bound the tier sets on the requests
the run must send (``auth0_org_assignment.commands.pace``; the commands' ``requests``), their
ratio, the same bound counting the members endpoint alone, and the 429s the tenant answered.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from auth0_org_assignment import credentials, rate_limits
from auth0_org_assignment.commands import backfill, pace, reconcile
from auth0_org_assignment.commands.management_client import as_requests
from auth0_org_assignment.config import load_stack_file
from devtools import ROOT
from devtools.dns import LoopbackDns
from devtools.localstack.action_runner import deploy_rules
from devtools.localtenant.testing import LocalTenant

DATABASE = "Username-Password-Authentication"
ORGANIZATION = "acme-bench"


def stack_file(tenant: LocalTenant, dns: LoopbackDns, email_domain: str) -> str:
    return (
        "config:\n"
        f"  auth0:domain: {tenant.domain}\n"
        "  auth0-org-assignment:domainKind: local\n"
        f"  auth0-org-assignment:dnsResolvers: [{dns.address}]\n"
        "  auth0-org-assignment:organization:\n"
        f"    name: {ORGANIZATION}\n"
        "    displayName: Acme\n"
        f"    emailDomains: [{email_domain}]\n"
        f"  auth0-org-assignment:connections: [{DATABASE}]\n"
    )


def users(count: int) -> list[dict[str, Any]]:
    return [
        {
            "user_id": f"auth0|{n:024x}",
            "email": f"user{n}@example.com",
            "email_verified": True,
            "app_metadata": {},
            "identities": [{"connection": DATABASE, "provider": "auth0", "user_id": f"{n:024x}"}],
        }
        for n in range(count)
    ]


def run(
    tenant: LocalTenant, project: Path, command: str, role: str, tier: str
) -> tuple[float, str]:
    client = tenant.m2m_client(command, sorted(getattr(credentials, role)))
    environment = {
        **os.environ,
        f"AUTH0_{role}_CLIENT_ID": client["client_id"],
        f"AUTH0_{role}_CLIENT_SECRET": client["client_secret"],
        "SSL_CERT_FILE": tenant.ca_cert,
    }
    started = time.monotonic()
    result = subprocess.run(
        [
            *(sys.executable, "-m", "auth0_org_assignment.commands", command, "bench"),
            *("--project-dir", str(project), "--tier", tier),
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        raise RuntimeError(f"{command} failed ({result.returncode}): {result.stderr[-2000:]}")
    return elapsed, result.stdout


def row(
    name: str,
    memberships: int,
    elapsed: float,
    tier: rate_limits.Tier,
    requests: dict[tuple[str, str], int],
    refused: int,
) -> str:
    bound = pace.bound(tier, memberships, requests)
    members_only = pace.bound(
        tier, memberships, {k: n for k, n in requests.items() if k[1].endswith("/members")}
    )
    achieved = memberships / elapsed
    return (
        f"| {name} | {memberships} | {elapsed:.1f} s | {achieved:.1f}/s | {bound:.1f}/s "
        f"| {achieved / bound:.2f} | {members_only:.1f}/s | {refused} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--tier", default="enterprise-production", choices=rate_limits.tier_names())
    parser.add_argument(
        "--rtt-ms", type=float, default=0.0, help="a network's round trip, added to each request"
    )
    arguments = parser.parse_args()
    tier = rate_limits.tier(arguments.tier)
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch)
        tenant = LocalTenant.start(project / "tenant.json")
        dns = LoopbackDns.start()
        try:
            tenant.rate_limit_tier(arguments.tier)
            tenant.set_round_trip_ms(arguments.rtt_ms)
            database = tenant.ensure_connection(DATABASE)
            organization = tenant.create_organization(ORGANIZATION, connection_ids=[database["id"]])
            # Proven: verified in Auth0 and its record in DNS, as the stack's proof leaves it.
            declared = tenant.declare_domain(organization["id"], "example.com", "verified")
            dns.publish(declared["verification_host"], declared["verification_txt"])
            tenant.import_users(users(arguments.users))
            (project / "Pulumi.bench.yaml").write_text(stack_file(tenant, dns, "example.com"))
            # Its Action deployed and bound, as pulumi up leaves it: the rule the backfill reads.
            deploy_rules(
                tenant, load_stack_file("bench", project), {ORGANIZATION: organization["id"]}
            )
            user_ids = [str(u["user_id"]) for u in users(arguments.users)]
            print(
                f"{arguments.users} users, 1 organization, tier {arguments.tier}, "
                f"{arguments.rtt_ms:g} ms added to each request; "
                f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
                flush=True,
            )
            print(
                "\n| command | memberships | time | memberships a second | bound | ratio "
                "| bound, members endpoint alone | 429s |\n|---|---|---|---|---|---|---|---|"
            )
            elapsed, _ = run(tenant, project, "backfill", "BACKFILL", arguments.tier)
            added = len(tenant.members(organization["id"]))
            config = load_stack_file("bench", project)
            organization_ids = {ORGANIZATION: organization["id"]}
            additions = [
                backfill.Addition(u, (ORGANIZATION,), {organization["id"]: {}}) for u in user_ids
            ]
            requests = as_requests(backfill.requests(config, organization_ids, additions, {}))
            refused = sum(tenant.rate_limited().values())
            print(row("backfill", added, elapsed, tier, requests, refused), flush=True)
            # Everyone leaves: the rule, deployed, now names another email domain.
            (project / "Pulumi.bench.yaml").write_text(stack_file(tenant, dns, "example.org"))
            deploy_rules(tenant, load_stack_file("bench", project), organization_ids)
            elapsed, _ = run(tenant, project, "reconcile", "RECONCILE", arguments.tier)
            removed = added - len(tenant.members(organization["id"]))
            plan = reconcile.Plan(
                organization_ids,
                [reconcile.Departure(ORGANIZATION, organization["id"], u, "") for u in user_ids],
            )
            requests = as_requests(reconcile.requests(plan))
            refused = sum(tenant.rate_limited().values()) - refused
            print(row("reconcile", removed, elapsed, tier, requests, refused), flush=True)
        finally:
            dns.stop()
            tenant.stop()


if __name__ == "__main__":
    main()
