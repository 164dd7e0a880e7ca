"""Benchmark the post-login Action against the fake tenant: calls, tokens, latency.

    uv run python -m bench.action_bench [--users 10] [--logins 100]

Runs the Action the dev stack deploys, and the support article's Action as a baseline, each in
one Node process (one warm Auth0 container), against the loopback fake Management API with a
simulated round trip of 0 and 50 ms. Prints a Markdown table; the README quotes it.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.action_code import RenderedAction, auth0_sdk, render_action
from infra.config import load_stack_file
from tests.support.action_runner import ActionProcess, Login, tenant_state_for
from tests.support.fake_management_api import MEMBERS, FakeTenant, Fault, TenantState

ARTICLE_ACTION = Path(__file__).resolve().parent / "article_action.js"
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
    code: str, stack: RenderedAction, workdir: Path, **tenant: Any
) -> Iterator[tuple[ActionProcess, TenantState]]:
    """``code`` in one Node process, against a fake tenant set up for ``stack``."""
    fake = FakeTenant(tenant_state_for(stack, **tenant), workdir)
    action = ActionProcess(code, fake, workdir)
    try:
        yield action, fake.state
    finally:
        action.close()
        fake.close()


def run(
    label: str,
    code: str,
    stack: RenderedAction,
    users: int,
    logins: int,
    workdir: Path,
    **tenant: Any,
) -> Run:
    """``logins`` logins cycling through ``users`` users; each user's first is a first login."""
    first: list[float] = []
    repeat: list[float] = []
    seen: set[str] = set()
    with running(code, stack, workdir, **tenant) as (action, state):
        for number in range(logins):
            user = f"auth0|user-{number % users:04d}"
            (first if user not in seen else repeat).append(action.login(user).ms)
            seen.add(user)
        return Run(
            label=label,
            rtt_ms=state.rtt_ms,
            management_calls=state.management_calls,
            tokens=state.tokens_issued,
            first=first,
            repeat=repeat,
            assigned=len(state.members),
            load_ms=action.loaded["load_ms"],
            cold_first_ms=first[0],
        )


def hung_api(stack: RenderedAction, workdir: Path) -> list[Login]:
    """Logins while the members endpoint hangs for 30 s (warm token)."""
    with running(stack.code, stack, workdir) as (action, state):
        action.login("auth0|warm-up")
        state.faults[MEMBERS] = Fault(hang_s=30)
        return [action.login(f"auth0|hung-{n}") for n in range(5)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--logins", type=int, default=100)
    arguments = parser.parse_args()
    dev = load_stack_file("dev")
    ours = render_action(dev)
    article = ARTICLE_ACTION.read_text(encoding="utf-8")
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    print(
        f"{arguments.logins} logins of {arguments.users} users per row; auth0 SDK "
        f"{auth0_sdk().version}; Node {node}; {platform.machine()}, {platform.python_version()}"
    )
    print()
    print(
        "| Action | RTT | Management API calls | tokens issued | users assigned "
        "| first login p50 / p95 | repeat login p50 / p95 |"
    )
    print("|---|---|---|---|---|---|---|")
    runs = []
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        for rtt_ms in (0, 50):
            for label, code, scopes in (
                ("this stack", ours.code, set(ours.scopes)),
                ("article", article, ARTICLE_SCOPES),
            ):
                result = run(
                    label,
                    code,
                    ours,
                    arguments.users,
                    arguments.logins,
                    workdir,
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
                    f"| {result.assigned}/{arguments.users} | {first} ms | {again} ms |"
                )
        hung_logins = hung_api(ours, workdir)
    hung = [login.ms for login in hung_logins]
    outcomes = sorted({f"{login.outcome} ({login.report['reason']})" for login in hung_logins})
    denied = sum(login.denied is not None for login in hung_logins)
    cold = next(r for r in runs if r.label == "this stack" and r.rtt_ms == 0)
    print()
    print(
        f"Cold start (this stack): loading the Action module {cold.load_ms:.2f} ms (the SDK is "
        f"not loaded); first login in a new container {cold.cold_first_ms:.0f} ms at 0 ms RTT, "
        "which includes loading the auth0 SDK and fetching the token."
    )
    print(
        f"Members endpoint hung (time budget {dev.action.time_budget_ms} ms): 5 logins took "
        f"{min(hung):.0f} to {max(hung):.0f} ms each (median {statistics.median(hung):.0f} ms); "
        f"outcomes: {', '.join(outcomes)}; logins denied: {denied}."
    )


if __name__ == "__main__":
    main()
