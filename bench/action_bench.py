"""Benchmark the post-login Action against the local tenant: calls, tokens, latency.

    npm ci --prefix bench && .venv/bin/python -m bench.action_bench [--users 10] [--logins 100]

Runs the Action the dev stack deploys, and the support article's Action as a baseline (with
the auth0 SDK it needs, pinned in bench/package-lock.json), each in one Node process (one warm
Auth0 container), against the local tenant on loopback with a simulated round trip of 0 and
50 ms, under the tenant's default rate limits (Auth0's Enterprise production tier: a
request refused 429 is counted, and each Action waits and retries as its code does). Prints a
Markdown table; docs/benchmarks.md quotes it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auth0_org_assignment.action_code import render_action
from auth0_org_assignment.config import StackConfig, load_stack_file
from auth0_org_assignment.node import action_node
from devtools import ROOT
from devtools.localstack.action_runner import MEMBERS, ActionProcess, ActionTenant, Fault, Login

BENCH = Path(__file__).resolve().parent
ARTICLE_ACTION = BENCH / "article_action.js"
ARTICLE_NODE_MODULES = BENCH / "node_modules"
ARTICLE_SCOPES = {
    "create:organization_members",
    "read:organizations",
    "read:organization_connections",
}


@dataclass
class Run:
    label: str
    rtt_ms: float
    management_calls: int
    rate_limited: int
    tokens: int
    first: list[float]
    repeat: list[float]
    assigned: int
    load_ms: float
    cold_first_ms: float


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@contextmanager
def running(
    article: bool, stack: StackConfig, workdir: Path, rtt_ms: float = 0, **options: Any
) -> Iterator[tuple[ActionProcess, ActionTenant]]:
    """The stack's Action (or the article's) in one Node process, against a local tenant set
    up for ``stack``."""
    tenant = ActionTenant(stack, workdir, **options)
    tenant.local.set_round_trip_ms(rtt_ms)
    if article:
        # The article's code needs the auth0 SDK, and its organization in a secret.
        action = ActionProcess(
            tenant,
            workdir,
            code=ARTICLE_ACTION.read_text(encoding="utf-8"),
            secrets={**tenant.secrets, "ORGANIZATION_ID": tenant.organization_id},
            node_modules=ARTICLE_NODE_MODULES,
        )
    else:
        action = ActionProcess(tenant, workdir)
    try:
        yield action, tenant
    finally:
        action.close()
        tenant.close()


def run(
    label: str,
    article: bool,
    stack: StackConfig,
    users: int,
    logins: int,
    workdir: Path,
    **tenant: Any,
) -> Run:
    """``logins`` logins cycling through ``users`` users; each user's first is a first login."""
    first: list[float] = []
    repeat: list[float] = []
    seen: set[str] = set()
    with running(article, stack, workdir, **tenant) as (action, state):
        for number in range(logins):
            user = f"auth0|user-{number % users:04d}"
            login = action.login(user, **verified_email(stack, user))
            (first if user not in seen else repeat).append(login.ms)
            seen.add(user)
        return Run(
            label=label,
            rtt_ms=tenant.get("rtt_ms", 0),
            management_calls=state.management_calls,
            rate_limited=state.rate_limited,
            tokens=state.tokens_issued,
            first=first,
            repeat=repeat,
            assigned=len(state.members),
            load_ms=action.loaded["load_ms"],
            cold_first_ms=first[0],
        )


def hung_api(stack: StackConfig, workdir: Path) -> list[Login]:
    """Logins while the members endpoint hangs for 30 s (warm token)."""
    with running(False, stack, workdir) as (action, state):
        action.login("auth0|warm-up", **verified_email(stack, "auth0|warm-up"))
        state.local.inject_fault(MEMBERS, Fault(hang_s=30))
        return [
            action.login(f"auth0|hung-{n}", **verified_email(stack, f"auth0|hung-{n}"))
            for n in range(5)
        ]


# The first Management API request of a new container, by each HTTP client the Action could
# use: from the line that first touches the client to the answer, token request included.
FIRST_REQUEST = {
    "node:https": r"""
const started = performance.now();
const https = require("node:https");
const { hostname, port } = new URL(`https://${process.env.DOMAIN}`);
const headers = { "content-type": "application/json" };
const request = https.request(
  { hostname, port, method: "POST", path: "/oauth/token", headers },
  (response) => {
    response.resume();
    response.on("end", () => process.stdout.write(String(performance.now() - started)));
  },
);
request.end(process.env.BODY);
""",
    "fetch": r"""
const started = performance.now();
fetch(`https://${process.env.DOMAIN}/oauth/token`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: process.env.BODY,
})
  .then((response) => response.text())
  .then(() => process.stdout.write(String(performance.now() - started)));
""",
}


def first_request_ms(stack: StackConfig, workdir: Path, runs: int) -> dict[str, list[float]]:
    """The first request's time in ``runs`` new Node processes (Auth0's node22), per client."""
    tenant = ActionTenant(stack, workdir)
    body = json.dumps(
        {
            "grant_type": "client_credentials",
            "client_id": tenant.client["client_id"],
            "client_secret": tenant.client["client_secret"],
            "audience": tenant.local.management_audience,
        }
    )
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "NODE_EXTRA_CA_CERTS": tenant.local.ca_cert,
        "DOMAIN": tenant.local.domain,
        "BODY": body,
    }
    timings: dict[str, list[float]] = {client: [] for client in FIRST_REQUEST}
    try:
        for _ in range(runs):
            for client, script in FIRST_REQUEST.items():
                printed = subprocess.run(
                    [action_node(), "-e", script],
                    env=environment,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                timings[client].append(float(printed))
    finally:
        tenant.close()
    return timings


def verified_email(stack: StackConfig, user: str) -> dict[str, Any]:
    """A verified address in the stack's first email domain: users its rule lets in."""
    domain = stack.organizations[0].email_domains[0]
    return {"email": f"{user.split('|')[1]}@{domain}", "email_verified": True}


def article_sdk_version() -> str:
    lock = json.loads((BENCH / "package-lock.json").read_text(encoding="utf-8"))
    return str(lock["packages"]["node_modules/auth0"]["version"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--logins", type=int, default=100)
    arguments = parser.parse_args()
    if not (ARTICLE_NODE_MODULES / "auth0").is_dir():
        raise SystemExit("error: run `npm ci --prefix bench` first (the article's auth0 SDK)")
    dev = load_stack_file("dev", ROOT)
    ours = render_action(dev)
    node = subprocess.run([action_node(), "--version"], capture_output=True, text=True)
    print(
        f"{arguments.logins} logins of {arguments.users} users per row; this stack's Action: no "
        f"npm dependency; article: auth0 SDK {article_sdk_version()}; Node {node.stdout.strip()}; "
        f"{platform.machine()}, {platform.python_version()}"
    )
    print()
    print(
        "| Action | RTT | Management API requests (token requests not counted) "
        "| token requests | refused 429 | users assigned "
        "| first login p50 / p95 | repeat login p50 / p95 |"
    )
    print("|---|---|---|---|---|---|---|---|")
    runs = []
    with tempfile.TemporaryDirectory() as directory:
        for rtt_ms in (0, 50):
            workdir = Path(directory) / f"rtt-{rtt_ms}"
            for label, is_article, scopes in (
                ("this stack", False, set(ours.scopes)),
                ("article", True, ARTICLE_SCOPES),
            ):
                result = run(
                    label,
                    is_article,
                    dev,
                    arguments.users,
                    arguments.logins,
                    workdir / label.replace(" ", "-"),
                    rtt_ms=rtt_ms,
                    granted_scopes=scopes,
                )
                runs.append(result)
                first = (
                    f"{percentile(result.first, 0.5):.1f} / {percentile(result.first, 0.95):.1f}"
                )
                again = (
                    f"{percentile(result.repeat, 0.5):.2f} / {percentile(result.repeat, 0.95):.2f}"
                )
                print(
                    f"| {label} | {rtt_ms} ms | {result.management_calls} | {result.tokens} "
                    f"| {result.rate_limited} "
                    f"| {result.assigned}/{arguments.users} | {first} ms | {again} ms |"
                )
        hung_logins = hung_api(dev, Path(directory) / "hung")
        first_requests = first_request_ms(dev, Path(directory) / "first-request", 15)
    hung = [login.ms for login in hung_logins]
    outcomes = sorted({f"{login.outcome} ({login.report['reason']})" for login in hung_logins})
    denied = sum(login.denied is not None for login in hung_logins)
    cold = next(r for r in runs if r.label == "this stack" and r.rtt_ms == 0)
    print()
    print(
        f"Cold start (this stack): loading the Action module {cold.load_ms:.2f} ms; first login "
        f"in a new container {cold.cold_first_ms:.1f} ms at 0 ms RTT, token fetch included."
    )
    print(
        f"First request of a new container (median of "
        f"{len(first_requests['fetch'])} new processes, token request to the local tenant): "
        + "; ".join(
            f"{client} {statistics.median(ms):.1f} ms" for client, ms in first_requests.items()
        )
        + ". The Action uses node:https."
    )
    print(
        f"Members endpoint hung (time budget {dev.action.time_budget_ms} ms): 5 logins took "
        f"{min(hung):.0f} to {max(hung):.0f} ms each (median {statistics.median(hung):.0f} ms); "
        f"outcomes: {', '.join(outcomes)}; logins denied: {denied}."
    )


if __name__ == "__main__":
    main()
