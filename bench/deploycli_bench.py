"""Auth0's Deploy CLI importing the scale benchmark's organizations, beside the tier's floor.

    .venv/bin/python -m bench.deploycli_bench [--sizes 10,100,1000]

For each size, the organizations of ``bench.scale_bench.stack`` as the Deploy CLI's YAML
expresses them (``tenant_yaml``: each organization with its display name, its connections
enabled as the stack enables them, and a discovery domain, pending, for each registered domain
its email domains need, as the stack declares them), imported by ``a0deploy import`` (the
version tests/conformance/package-lock.json pins) into a fresh local tenant at the
enterprise-production tier (its default). Prints a markdown table: the import's wall time (the
Deploy CLI's start included; the line above the table gives an empty import's), the Management
API requests the tenant counted (those it refused included), the 429s it answered (and the
buckets that refused them), and the floor the tier's write limits set for the same writes
(``floor``), with the bucket that sets it.

``import_organizations`` returns those figures for one size; ``side_by_side`` sets them beside
``pulumi up`` of the same organizations (``pulumi_up``, ``bench.deploy_bench``'s), which
``bench.scale_bench --deploy-cli`` prints.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import yaml

from auth0_org_assignment import rate_limits
from auth0_org_assignment.config import StackConfig, parse_config
from auth0_org_assignment.config.email_domains import proof_domains
from bench import deploy_bench
from bench.scale_bench import stack
from devtools.deploy_cli import a0deploy, node_modules
from devtools.localtenant import authentication
from devtools.localtenant.route_names import RouteName
from devtools.localtenant.testing import LocalTenant

SIZES = (10, 100, 1000)
AUTHENTICATION = frozenset(route.name for route in authentication.ROUTES)
"""The Authentication API's routes (the token), not counted as the import's requests."""
TIMEOUT_S = 3600
"""An import of 1,000 organizations takes many minutes at the enterprise-production tier."""
RETRIES = 10
"""AUTH0_API_MAX_RETRIES: the Deploy CLI's own default (its lib/context/index.js), so that its
SDK waits out a 429 as it does against Auth0."""


@dataclass(frozen=True)
class Floor:
    """The shortest time in which a tenant admits some writes, and the bucket that sets it."""

    seconds: float
    bucket: str
    requests: int
    """The writes that bucket admits."""


@dataclass(frozen=True)
class Measured:
    """One import of ``organizations`` organizations into a fresh local tenant."""

    organizations: int
    seconds: float
    requests: int
    """The Management API requests the tenant counted, 429s included (not the Authentication
    API's token requests)."""
    rate_limited: int
    floor: Floor
    rate_limited_by: Mapping[str, int] = field(default_factory=dict)
    """The 429s by the bucket that refused them."""

    @property
    def of_floor(self) -> float:
        return self.seconds / self.floor.seconds if self.floor.seconds else math.inf


def tenant_yaml(config: StackConfig) -> dict[str, Any]:
    """The organizations of ``config`` as a Deploy CLI tenant.yaml: what the stack creates for
    each of them that the Deploy CLI's organization schema expresses (its
    lib/tools/auth0/handlers/organizations.js): the organization, its connections (with
    ``assignMembershipOnLogin`` as the stack sets it, and ``organization_access_level: none``, as
    Auth0 answers and an export writes it, so a second import leaves them alone) and a pending
    discovery domain, not used for discovery, for each registered domain its email domains need
    (``email_domains.proof_domains``). Not the stack's Actions, application or grant, nor the
    domains' proofs, which no Auth0 resource holds."""
    return {
        "organizations": [
            {
                "name": spec.name,
                "display_name": spec.display_name,
                "connections": [
                    {
                        "name": name,
                        "assign_membership_on_login": config.assign_membership_on_login,
                        "organization_access_level": "none",
                    }
                    for name in spec.connections or []
                ],
                "discovery_domains": [
                    {"domain": domain, "status": "pending", "use_for_organization_discovery": False}
                    for domain in proof_domains(spec.email_domains)
                ],
            }
            for spec in config.organizations
        ]
    }


def writes(config: StackConfig) -> Counter[str]:
    """The create requests, by route, that putting ``config``'s organizations into an empty
    tenant takes, whatever the tool: one per organization, one per connection it enables, one
    per discovery domain. (``pulumi up`` also creates its Actions, an application and its
    grant: a few more requests of the API's bucket only.)"""
    made: Counter[str] = Counter()
    for spec in config.organizations:
        made[RouteName.ORGANIZATIONS_CREATE] += 1
        made[RouteName.ORGANIZATIONS_CONNECTIONS_CREATE] += len(spec.connections or [])
        made[RouteName.ORGANIZATIONS_DISCOVERY_DOMAINS_CREATE] += len(
            proof_domains(spec.email_domains)
        )
    return made


def floor(requests: Mapping[str, int], tier: rate_limits.Tier | None = None) -> Floor:
    """The shortest time in which a tenant under ``tier`` (enterprise production by default)
    admits ``requests`` (counts by route), however they are paced: a request takes a token from
    the Management API's bucket and from its endpoint's bucket, each bucket admits its burst at
    once and then its sustained rate, and the buckets refill at once, so it is the longest over
    the buckets of (requests it counts - burst) / rate (``rate_limits.floor_seconds``, at the
    whole tier). At enterprise production, 100 organizations with one connection and two
    discovery domains each: "Write Organizations" (5, then 150 a minute) admits 100 creates in
    (100 - 5) / 2.5 = 38 s, "Write Organization Connections" (5, then 150 a minute) as long, the
    API's own bucket (50, then 16 a second) its 400 writes in (400 - 50) / 16 = 21.9 s: 38 s.
    Reads and the token request are left out, so every tool takes at least this long. The
    buckets are ``auth0_org_assignment/rate_limits.json``'s transcription of Auth0's Rate Limit
    Configurations pages (enterprise production:
    https://auth0.com/docs/troubleshoot/customer-support/operational-policies/rate-limit-policy/rate-limit-configurations/enterprise-public)."""
    chosen = tier or rate_limits.tier(rate_limits.DEFAULT_TIER)
    seconds, bucket, held = rate_limits.slowest_bucket(chosen, 1.0, deploy_bench.by_path(requests))
    return Floor(seconds, bucket.name if bucket else "none", held)


def _import(tenant: LocalTenant, workdir: Path, document: dict[str, Any]) -> float:
    """``a0deploy import`` of ``document`` (organizations only); its wall time."""
    path = workdir / "tenant.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    started = time.perf_counter()
    done = a0deploy(
        tenant,
        workdir,
        "import",
        "--input_file",
        str(path),
        timeout_s=TIMEOUT_S,
        AUTH0_INCLUDED_ONLY=["organizations"],
        AUTH0_API_MAX_RETRIES=RETRIES,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0 or "Import Successful" not in done.stdout:
        raise RuntimeError(
            f"a0deploy import failed (exit {done.returncode}):\n"
            + done.stdout[-3000:]
            + done.stderr[-3000:]
        )
    return seconds


def imported(tenant: LocalTenant) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """What the tenant holds, read with its rate limits lifted: each organization's name, its
    enabled connections' names and its discovery domains (pending ones only), each sorted (the
    Deploy CLI creates an organization's discovery domains at once, in any order)."""
    tenant.call("PUT", "/localtenant/rate-limits", {"tier": "unlimited"})
    names = {c["id"]: c["name"] for c in tenant.call("GET", "/api/v2/connections?per_page=100")}
    held = {}
    for organization in tenant.organizations():
        base = f"/api/v2/organizations/{organization['id']}"
        enabled = tenant.call("GET", f"{base}/enabled_connections")
        domains = tenant.discovery_domains(organization["id"])
        held[organization["name"]] = (
            tuple(sorted(names[c["connection_id"]] for c in enabled)),
            tuple(sorted(d["domain"] for d in domains if d["status"] == "pending")),
        )
    return held


def expected(config: StackConfig) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """What ``imported`` reads after ``tenant_yaml(config)`` is imported."""
    return {
        spec.name: (
            tuple(sorted(spec.connections or [])),
            tuple(sorted(proof_domains(spec.email_domains))),
        )
        for spec in config.organizations
    }


def import_organizations(
    organizations: int,
    tier: str = rate_limits.DEFAULT_TIER,
    workdir: Path | None = None,
    entries: list[dict[str, Any]] | None = None,
) -> Measured:
    """Import ``stack(organizations)``'s organizations (or ``entries``, organizations as the
    stack's configuration lists them, for a side by side with another benchmark's) with the
    Deploy CLI into a fresh local tenant at ``tier``; refused unless the tenant holds them
    after, each with its connections and discovery domains."""
    listed = stack(organizations)["organizations"] if entries is None else entries
    config = parse_config({**stack(0), "organizations": listed}, "bench")
    with tempfile.TemporaryDirectory(dir=workdir) as directory:
        folder = Path(directory)
        with LocalTenant.spawn(folder / "state.json") as tenant:
            limits = tenant.rate_limit_tier(tier)
            before, refused = tenant.calls(), tenant.rate_limited()
            seconds = _import(tenant, folder, tenant_yaml(config))
            after, refused_after = tenant.calls(), tenant.rate_limited()
            held = imported(tenant)
    wrong = {
        name: held.get(name) for name, asked in expected(config).items() if held.get(name) != asked
    }
    if wrong:
        raise RuntimeError(
            f"the import left {len(wrong)} organizations other than asked (name: their "
            f"connections and pending discovery domains, or None): {dict(list(wrong.items())[:5])}"
        )
    asked = after - before
    return Measured(
        organizations=len(config.organizations),
        seconds=seconds,
        requests=sum(n for route, n in asked.items() if route not in AUTHENTICATION),
        rate_limited=sum((refused_after - refused).values()),
        rate_limited_by=dict(refused_after - refused),
        floor=floor(writes(config), rate_limits.tier(limits["tier"])),
    )


def startup_s() -> float:
    """An import of no organizations: the Deploy CLI's start, schema and first reads."""
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        with LocalTenant.spawn(folder / "state.json") as tenant:
            return _import(tenant, folder, {"organizations": []})


HEADER = (
    "| organizations | Deploy CLI import | requests | 429s | floor (its bucket) | of the floor "
    "| 429s by bucket |\n"
    "|---|---|---|---|---|---|---|"
)


def row(measured: Measured) -> str:
    f = measured.floor
    return (
        f"| {measured.organizations} | {measured.seconds:.1f} s | {measured.requests} "
        f"| {measured.rate_limited} | {f.seconds:.1f} s ({f.bucket}, {f.requests} writes) "
        f"| {f'{measured.of_floor:.2f}' if f.seconds else '-'} "
        f"| {', '.join(f'{n} {b}' for b, n in sorted(measured.rate_limited_by.items())) or '-'} |"
    )


PulumiUp: TypeAlias = Callable[[int], tuple[float, int, int]]
"""``pulumi up`` of that many organizations against a fresh local tenant at the same tier: its
seconds, Management API requests and 429s."""
Organizations: TypeAlias = Callable[[int], list[dict[str, Any]]]
"""That many organizations, as the stack's configuration lists them: what both tools deploy."""

SIDE_BY_SIDE = (
    "| organizations | `pulumi up` | its requests, 429s | Deploy CLI import "
    "| its requests, 429s | ratio (`up` / import) | floor (its bucket) | `up` / floor "
    "| import / floor |\n"
    "|---|---|---|---|---|---|---|---|---|"
)


def scale_bench_organizations(count: int) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = stack(count)["organizations"]
    return listed


def side_by_side(
    sizes: Iterable[int],
    pulumi_up: PulumiUp | None,
    organizations: Organizations = scale_bench_organizations,
) -> Iterator[str]:
    """The rows of ``SIDE_BY_SIDE``, one size after the other (``pulumi up`` first, then the
    import of the same ``organizations``, each into its own fresh tenant); without
    ``pulumi_up``, its columns say "-"."""
    for size in sizes:
        up = pulumi_up(size) if pulumi_up is not None else None
        yield side_by_side_row(up, import_organizations(size, entries=organizations(size)))


def pulumi_up(count: int) -> tuple[float, int, int]:
    """``bench.deploy_bench``'s ``pulumi up`` of ``count`` of its organizations
    (``deploy_bench.organizations``) into a fresh local tenant, paced at its default tier and
    share: the first ``up`` only, not its no-op one."""
    with tempfile.TemporaryDirectory() as directory:
        spent = deploy_bench.deploy(count, Path(directory), noop=False).up
    return spent.seconds, spent.requests, spent.rate_limited


def side_by_side_row(up: tuple[float, int, int] | None, cli: Measured) -> str:
    """One row of ``SIDE_BY_SIDE``: ``up`` (seconds, requests, 429s, or None when not measured)
    beside the import of as many organizations, each against the import's floor."""
    f = cli.floor
    if up is None:
        up_cells, ratio, up_floor = "- | -", "-", "-"
    else:
        seconds, requests, refused = up
        up_cells = f"{seconds:.1f} s | {requests}, {refused}"
        ratio = f"{seconds / cli.seconds:.2f}"
        up_floor = f"{seconds / f.seconds:.2f}" if f.seconds else "-"
    import_floor = f"{cli.of_floor:.2f}" if f.seconds else "-"
    return (
        f"| {cli.organizations} | {up_cells} | {cli.seconds:.1f} s "
        f"| {cli.requests}, {cli.rate_limited} | {ratio} | {f.seconds:.1f} s ({f.bucket}) "
        f"| {up_floor} | {import_floor} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    sizes = [int(size) for size in parser.parse_args().sizes.split(",")]
    package = node_modules() / "auth0-deploy-cli" / "package.json"
    version = json.loads(package.read_text("utf-8"))["version"]
    print(
        f"auth0-deploy-cli {version} (tests/conformance/package-lock.json), organizations only, "
        f"into a fresh local tenant at {rate_limits.DEFAULT_TIER}; {platform.machine()}, "
        f"Python {platform.python_version()}; an import of no organizations: "
        f"{startup_s():.1f} s"
    )
    print()
    print(HEADER, flush=True)
    for size in sizes:
        print(row(import_organizations(size)), flush=True)


if __name__ == "__main__":
    main()
