"""How a stack scales with the number of organizations.

    .venv/bin/python -m bench.scale_bench [--sizes 100,1000,10000] [--deploy-cli]

For each size, organizations with 3 email domains each (one exact and one subdomain pattern
under the organization's registered domain, one subdomain pattern under another: names of
realistic length), prints: whether the stack is accepted (else the refusal), how many Actions
the code needs and their smallest and largest sizes, the time to render, the time the whole
program takes to evaluate under Pulumi's mocks (wall and CPU: the machine may be shared) and
the resources it registers, the CPU time Pulumi's SDK alone takes to register as many bare
resources under the same mocks and process settings (the floor under the program's), and what
one login costs in Node in the Action that owns it (a repeat login of a user who matches
one organization: routing, the rule and the marker check, no request) and in one that only
routes it, p50 and p95 over 2,000 logins. Then the ceiling: the most organizations of that shape
one stack accepts. A stack the Login flow cannot hold is still evaluated, with the bindings'
limit lifted, to show how evaluation grows (marked "limit lifted").

With ``--deploy-cli``, then a second table for the sizes up to 1,000: Auth0's Deploy CLI
importing the same organizations into a fresh local tenant (``bench.deploycli_bench``), beside
``pulumi up`` of them, each against the floor the tier's write limits set.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pulumi
import pulumi_auth0 as auth0

from auth0_org_assignment import action_code, evaluation
from auth0_org_assignment.action_code import RenderedAction, render_actions
from auth0_org_assignment.component import COMPONENT_TYPE
from auth0_org_assignment.config import StackConfig, parse_config
from auth0_org_assignment.node import action_node
from devtools.localstack.pulumi_mocks import build_program, build_stack
from devtools.localtenant.logins import ActionContainer

SIZES = (100, 1000, 10000)
LOGINS = 2000
DATABASE = "Username-Password-Authentication"


def stack(organizations: int) -> dict[str, Any]:
    return {
        "auth0:domain": "acme.eu.auth0.com",
        "organizations": [
            {
                "name": f"customer-{n:05d}",
                "displayName": f"Customer {n:05d}",
                "connections": [DATABASE],
                "emailDomains": [
                    f"customer{n:05d}.com",
                    f"*.customer{n:05d}.com",
                    f"*.customer{n:05d}-group.co.uk",
                ],
            }
            for n in range(organizations)
        ],
    }


def logins(config: StackConfig, ids: dict[str, str], count: int) -> list[dict[str, Any]]:
    events = []
    for n in range(count):
        organization = config.organizations[n % len(config.organizations)].name
        events.append(
            {
                "op": "login",
                "event": {
                    "user": {
                        "user_id": f"auth0|{n}",
                        "email": f"u{n}@eu.{organization.replace('-', '')}.com",
                        "email_verified": True,
                        "identities": [{"connection": DATABASE, "provider": "auth0"}],
                        "app_metadata": {f"org_assignment:{ids[organization]}": True},
                    },
                    "connection": {"id": "con_db", "name": DATABASE, "strategy": "auth0"},
                    "client": {"client_id": "app"},
                },
            }
        )
    return events


def login_ms(
    shards: tuple[RenderedAction, ...], config: StackConfig, ids: dict[str, str], workdir: Path
) -> tuple[list[float], list[float]]:
    """Each login against every Action: the owner's times, and the others' (routing only)."""
    secrets = {"TENANT_DOMAIN": "localhost:1", "CLIENT_ID": "c", "CLIENT_SECRET": "s"}
    containers = [
        ActionContainer(s.code, secrets, [], workdir / "no-ca.pem", workdir / str(n))
        for n, s in enumerate(shards)
    ]
    owner: list[float] = []
    routing: list[float] = []
    try:
        for event in logins(config, ids, LOGINS // max(1, len(shards) // 4)):
            for container in containers:
                (answer,) = container.ask_many([event])
                if answer["logs"]:
                    outcome = json.loads(answer["logs"][0])["outcome"]
                    assert outcome == "skipped-already-member", outcome
                    owner.append(answer["ms"])
                else:
                    routing.append(answer["ms"])
    finally:
        for container in containers:
            container.close()
    return owner, routing


def p50_p95(values: list[float]) -> str:
    if not values:
        return "-"
    p95 = sorted(values)[int(0.95 * (len(values) - 1))]
    return f"{statistics.median(values):.3f} / {p95:.3f} ms"


def evaluate(size: int) -> tuple[float, float, int]:
    """The program's evaluation under mocks: wall and CPU seconds, and the resources it
    registers."""
    started, cpu = time.perf_counter(), time.process_time()
    mocks, _ = build_stack(stack(size))
    return time.perf_counter() - started, time.process_time() - cpu, len(mocks.registrations)


def sdk_alone(resources: int) -> float:
    """CPU seconds Pulumi's SDK takes, under the same mocks and process settings, to register
    ``resources`` bare organizations in one component: the part of an evaluation that is the
    SDK's work for each resource, whatever the program does."""

    def body() -> None:
        parent = pulumi.ComponentResource(COMPONENT_TYPE, "sdk-alone")
        child = pulumi.ResourceOptions(parent=parent)
        for n in range(resources):
            auth0.Organization(f"organization-{n}", name=f"customer-{n:05d}", opts=child)

    cpu = time.process_time()
    with evaluation.many_resources():
        build_program(body)
    return time.process_time() - cpu


def ceiling() -> int:
    """The most organizations of the benchmark's shape one stack accepts."""
    low, high = 1, 20000
    while low < high:
        middle = (low + high + 1) // 2
        try:
            render_actions(parse_config(stack(middle), "bench"))
            low = middle
        except pulumi.RunError:
            high = middle - 1
    return low


def row(size: int, workdir: Path) -> str:
    config = parse_config(stack(size), "bench")
    ids = {o.name: f"org_{n:016d}" for n, o in enumerate(config.organizations)}
    started = time.perf_counter()
    accepted = "yes"
    try:
        shards = render_actions(config, organization_ids=ids)
    except pulumi.RunError as refused:
        accepted = "no: " + str(refused).split(", and Auth0")[0].split(": ", 1)[1]
        limit = action_code.BINDINGS_MAX
        action_code.BINDINGS_MAX = 1000
        try:
            shards = render_actions(config, organization_ids=ids)
        finally:
            action_code.BINDINGS_MAX = limit
    render_s = time.perf_counter() - started
    if accepted == "yes":
        wall, cpu, resources = evaluate(size)
        owner, routing = login_ms(shards, config, ids, workdir)
        logins_cell = f"{p50_p95(owner)} | {p50_p95(routing)}"
    else:
        limit = action_code.BINDINGS_MAX
        action_code.BINDINGS_MAX = 1000
        try:
            wall, cpu, resources = evaluate(size)
        finally:
            action_code.BINDINGS_MAX = limit
        logins_cell = "- | -"
    sizes = [len(s.code.encode()) / 1024 for s in shards]
    lifted = "" if accepted == "yes" else " (limit lifted)"
    return (
        f"| {size} | {accepted} | {len(shards)}{lifted} | {min(sizes):.1f} to {max(sizes):.1f} KB "
        f"| {render_s:.2f} s | {wall:.1f} s ({cpu:.1f} s CPU){lifted} | {resources} "
        f"| {sdk_alone(resources):.1f} s CPU | {logins_cell} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument(
        "--deploy-cli",
        action="store_true",
        help="also import the organizations with Auth0's Deploy CLI (sizes up to 1,000)",
    )
    arguments = parser.parse_args()
    sizes = [int(size) for size in arguments.sizes.split(",")]
    node = subprocess.run(
        [action_node(), "--version"], capture_output=True, text=True
    ).stdout.strip()
    print(
        f"3 email domains per organization, under 2 registered domains; repeat logins against "
        f"every Action; Node {node}; {platform.machine()}, Python {platform.python_version()}"
    )
    print()
    print(
        "| organizations | accepted | Actions | their sizes | render | program under mocks "
        "| resources | the SDK alone, as many bare resources "
        "| a login in its owner, p50 / p95 | in an Action that routes it |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as directory:
        for size in sizes:
            workdir = Path(directory) / str(size)
            workdir.mkdir()
            (workdir / "no-ca.pem").write_text("")
            print(row(size, workdir), flush=True)
    print()
    print(f"ceiling: {ceiling()} organizations of this shape in one stack")
    if arguments.deploy_cli:
        deploy_cli_table([size for size in sizes if size <= DEPLOYED_MAX])


DEPLOYED_MAX = 1000
"""The most organizations the benchmark deploys to a local tenant (many minutes at 1,000)."""


def deploy_cli_table(sizes: list[int]) -> None:
    from auth0_org_assignment.rate_limits import DEFAULT_SHARE, DEFAULT_TIER
    from bench import deploy_bench, deploycli_bench

    print()
    print(
        f"bench.deploy_bench's organizations for both (1 connection, 1 email domain each); each "
        f"tool into a fresh local tenant at {DEFAULT_TIER}; `pulumi up` paced at "
        f"{DEFAULT_SHARE} of each bucket; floor: the whole tier's write limits "
        f"(bench.deploycli_bench.floor)"
    )
    print()
    print(deploycli_bench.SIDE_BY_SIDE, flush=True)
    rows = deploycli_bench.side_by_side(
        sizes, deploycli_bench.pulumi_up, deploy_bench.organizations
    )
    for line in rows:
        print(line, flush=True)


if __name__ == "__main__":
    main()
