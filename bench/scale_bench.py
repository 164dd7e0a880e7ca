"""How routing scales with the number of organizations.

    .venv/bin/python -m bench.scale_bench

For 1, 100 and 1,000 organizations with 3 email domains each (one exact, two subdomain
patterns, names of realistic length), prints: how many Actions the code needs and the largest
one's size, the time to render, the time the whole program takes to evaluate under Pulumi's
mocks, and what routing costs one login in Node (a repeat login of a user who matches one
organization: routing and the marker check, no request), p50 and p95 over 2,000 logins.
"""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from auth0_org_assignment.action_code import render_actions
from auth0_org_assignment.config import StackConfig, parse_config
from auth0_org_assignment.node import action_node
from devtools.localstack.pulumi_mocks import build_stack
from devtools.localtenant.logins import ActionContainer

SIZES = (1, 100, 1000)
LOGINS = 2000
DATABASE = "Username-Password-Authentication"


def stack(organizations: int) -> dict[str, Any]:
    return {
        "auth0:domain": "acme.eu.auth0.com",
        # Several Actions share the login flow's 20 s (action_code.FLOW_TIME_MS).
        "action": {"timeBudgetMs": 2000},
        "organizations": [
            {
                "name": f"customer-{n:04d}",
                "displayName": f"Customer {n:04d}",
                "connections": [DATABASE],
                "emailDomains": [
                    f"customer{n:04d}.com",
                    f"*.customer{n:04d}.com",
                    f"*.customer{n:04d}-group.co.uk",
                ],
            }
            for n in range(organizations)
        ],
    }


def routing_ms(config: StackConfig, workdir: Path) -> list[float]:
    """Repeat logins in Node against the first Action, each user matching one organization."""
    ids = {o.name: f"org_{n:016d}" for n, o in enumerate(config.organizations)}
    (first, *_) = render_actions(config, organization_ids=ids)
    container = ActionContainer(
        first.code,
        {"TENANT_DOMAIN": "localhost:1", "CLIENT_ID": "c", "CLIENT_SECRET": "s"},
        [],
        workdir / "no-ca.pem",
        workdir,
    )
    try:
        count = len(first.organizations)
        events = []
        for n in range(LOGINS):
            organization = n % count
            events.append(
                {
                    "op": "login",
                    "event": {
                        "user": {
                            "user_id": f"auth0|{n}",
                            "email": f"u{n}@eu.customer{organization:04d}.com",
                            "email_verified": True,
                            "identities": [{"connection": DATABASE, "provider": "auth0"}],
                            "app_metadata": {
                                f"org_assignment:{ids[f'customer-{organization:04d}']}": True
                            },
                        },
                        "connection": {"id": "con_db", "name": DATABASE, "strategy": "auth0"},
                        "client": {"client_id": "app"},
                    },
                }
            )
        answers = [container.ask_many([event])[0] for event in events]
        outcomes = {json.loads(answer["logs"][0])["outcome"] for answer in answers}
        assert outcomes == {"skipped-already-member"}, outcomes
        return [answer["ms"] for answer in answers]
    finally:
        container.close()


def main() -> None:
    node = subprocess.run(
        [action_node(), "--version"], capture_output=True, text=True
    ).stdout.strip()
    print(
        f"3 email domains per organization; {LOGINS} repeat logins per row; Node {node}; "
        f"{platform.machine()}, Python {platform.python_version()}"
    )
    print()
    print(
        "| organizations | Actions | largest Action | render | program under mocks "
        "| routing a login p50 / p95 |"
    )
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as directory:
        for size in SIZES:
            config = parse_config(stack(size), "bench")
            started = time.perf_counter()
            shards = render_actions(config)
            render_s = time.perf_counter() - started
            started = time.perf_counter()
            build_stack(stack(size))
            mocks_s = time.perf_counter() - started
            workdir = Path(directory) / str(size)
            workdir.mkdir()
            (workdir / "no-ca.pem").write_text("")
            timings = routing_ms(config, workdir)
            largest = max(len(shard.code.encode()) for shard in shards)
            p95 = sorted(timings)[int(0.95 * (len(timings) - 1))]
            print(
                f"| {size} | {len(shards)} | {largest / 1024:.1f} KB | {render_s:.2f} s "
                f"| {mocks_s:.2f} s | {statistics.median(timings):.3f} / {p95:.3f} ms |"
            )


if __name__ == "__main__":
    main()
