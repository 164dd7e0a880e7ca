"""Time ``pulumi up`` of many organizations with the real engine and provider against a fresh
local tenant, and count what it asks of the tenant's rate limits.

    .venv/bin/python -m bench.deploy_bench [--sizes 10,100] [--tier enterprise-production]
        [--share 0.5] [--parallel 8] [--profile] [--skip-checkpoints] [--domains 1]
        [--without-pool] [--uncompressed-state]

For each size: a fresh local tenant enforcing the tier, a stack of that many organizations
(each with one connection and one email domain, ``--domains`` for more: the organization, its
connection, a discovery domain for each domain and the domains' proofs), ``pulumi up`` with
the deploy paced at the share of the tier (``AUTH0_RATE_LIMIT_TIER``,
``AUTH0_RATE_LIMIT_SHARE``) with as many operations at once as a deploy job runs
(``PULUMI_PARALLEL``, ``--parallel``) and with its state written compressed as a deploy job
writes it (``STATE_COMPRESSED``), then a second ``pulumi up`` with nothing to change.
Each row: wall time, the Management API requests the tenant answered (429s included) and the
429s it sent, for both; the floor the tier's buckets set for the
first ``up``'s requests at that share (the slowest bucket: for organizations, their writes), and
the ``up``'s time over that floor. ``deploy`` is the function, for other benchmarks to reuse.

``--profile`` runs the first ``up`` with ``pulumi up --profiling`` and adds a second table: the
CPU the Pulumi CLI spent, how much of it went to saving the stack's state after each step (the
snapshot manager's save loop, one save at a time, read from the CPU profile with
``go tool pprof``, so Go must be on ``PATH``), and the state file's size at the end, as
written (compressed unless ``--uncompressed-state``).

``--skip-checkpoints`` runs both ``up``s with ``PULUMI_SKIP_CHECKPOINTS=true``: the engine
writes the state once, at the end, instead of after each step (the trade-off and its recovery:
docs/deploy.md, "Loading thousands of organizations").

``--uncompressed-state`` leaves out ``STATE_COMPRESSED``: the state is written as plain JSON,
Pulumi's default.

``--without-pool`` gives the deploy a temporary directory (``TMPDIR``) with a file where the
pool directory would be, so the plugin and the dynamic resources cannot share the global
bucket and each paces its part of the share (``rate_limits.POOLED_PROCESSES``); the table
then counts the warnings that say so.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auth0_org_assignment import credentials, rate_limits
from auth0_org_assignment.config import PROJECT
from devtools.localstack.local_stack import PULUMI, LocalProject, engine_ready
from devtools.localtenant.control import TIERS
from devtools.localtenant.route_names import RouteName
from devtools.localtenant.tenant import AREAS
from devtools.localtenant.testing import LocalTenant

DATABASE = "Username-Password-Authentication"
AUTHENTICATION = {RouteName.OAUTH_TOKEN.value}
"""Routes of the Authentication API (the deploy's tokens), not the Management API's."""


@dataclass(frozen=True)
class Spend:
    """One ``pulumi`` command's cost on the tenant."""

    seconds: float
    requests: int
    """Management API requests the tenant answered, 429s included."""
    rate_limited: int
    """Of those, refused 429."""
    calls: Counter[str]
    output: str


SKIP_CHECKPOINTS = {"PULUMI_SKIP_CHECKPOINTS": "true"}
"""Pulumi's setting (v3.274.1, ``sdk/go/common/env``) that writes the state only at the end."""

STATE_COMPRESSED = {"PULUMI_DIY_BACKEND_ZSTD": "true"}
"""Pulumi's setting (v3.274.1, ``sdk/go/common/env``) that writes a bucket backend's state
compressed with zstd, as the pipeline's jobs that run ``pulumi`` set it
(``tests/test_gitops.py``)."""

SAVE_LOOPS = (
    "backend.(*SnapshotManager).defaultServiceLoop",
    "backend.(*SnapshotManager).unsafeServiceLoop",
)
"""The functions of Pulumi's engine that write the whole state: after each step, one at a time,
or (``SKIP_CHECKPOINTS``) once at the end."""


@dataclass(frozen=True)
class Profile:
    """Where the CLI's CPU went in one ``pulumi up --profiling``."""

    cpu_s: float
    """All of the CLI's CPU samples."""
    saving_s: float
    """Of those, in the save loop (``SAVE_LOOPS``) and what it calls."""
    state_bytes: int
    """The stack's state file once the ``up`` is done, as written (compressed or not)."""


def _seconds(text: str) -> float:
    """``12.3s``, ``450ms`` or ``1.2mins`` from ``go tool pprof`` as seconds."""
    number, unit = re.fullmatch(r"([0-9.]+)(ms|s|mins|hrs)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"ms": 0.001, "s": 1.0, "mins": 60.0, "hrs": 3600.0}[unit]


def read_profile(cpu_profile: Path, state_dir: Path) -> Profile:
    """The CLI's CPU and its save loop's share, from ``go tool pprof -top -cum``."""
    go = shutil.which("go")
    if go is None:
        raise SystemExit("--profile reads the CPU profile with `go tool pprof`: put Go on PATH")
    top = subprocess.run(
        [go, "tool", "pprof", "-top", "-cum", str(PULUMI), str(cpu_profile)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    total = re.search(r"Total samples = (\S+)", top)
    saving = next((line.split()[3] for line in top.splitlines() if line.endswith(SAVE_LOOPS)), None)
    if total is None or saving is None:
        raise SystemExit(f"{cpu_profile}: no total or no save loop in go tool pprof's top")
    states = [
        f.stat().st_size
        for pattern in ("*.json", "*.json.zst")
        for f in state_dir.rglob(pattern)
        if ".pulumi/stacks" in f.as_posix()
    ]
    if not states:
        raise SystemExit(f"{state_dir}: no stack state file")
    return Profile(_seconds(total[1]), _seconds(saving), max(states))


@dataclass(frozen=True)
class Deploy:
    organizations: int
    up: Spend
    noop: Spend | None
    floor_s: float
    """The least time the tier's buckets at the share allow for the ``up``'s requests."""
    profile: Profile | None = None


def organizations(count: int, domains: int = 1) -> list[dict[str, Any]]:
    """``count`` organizations, each with the database connection and ``domains`` email
    domains (``customer00007.com``, then ``customer00007-1.com``...)."""
    return [
        {
            "name": f"customer-{n:05d}",
            "displayName": f"Customer {n:05d}",
            "connections": [DATABASE],
            "emailDomains": [f"customer{n:05d}{f'-{k}' if k else ''}.com" for k in range(domains)],
        }
        for n in range(count)
    ]


def by_path(requests: Mapping[str, int]) -> dict[tuple[str, str], int]:
    """Counts by route name as counts by (method, path), the way the tier's buckets match
    requests: each route's method and a path it answers."""
    return {
        (route.method, route.example_path): requests[route.name]
        for area in AREAS
        for route in area.ROUTES
        if route.management and requests.get(route.name)
    }


def floor_seconds(tier: rate_limits.Tier, share: float, calls: Counter[str]) -> float:
    """The slowest of the tier's buckets at ``share`` for these calls (counted by route)."""
    return rate_limits.floor_seconds(tier, share, by_path(calls))


def _spend(
    tenant: LocalTenant, project: LocalProject, args: tuple[str, ...], env: dict[str, str]
) -> Spend:
    tenant.call("DELETE", "/localtenant/calls")
    run = project.pulumi(*args, **env)  # type: ignore[arg-type]  # (env: variables only)
    calls = tenant.calls()
    return Spend(
        run.seconds,
        sum(n for route, n in calls.items() if route not in AUTHENTICATION),
        sum(tenant.rate_limited().values()),
        calls,
        run.output,
    )


def deploy(
    count: int,
    workdir: Path,
    *,
    tier: str = rate_limits.DEFAULT_TIER,
    share: float = rate_limits.DEFAULT_SHARE,
    deploy_tier: str | None = None,
    noop: bool = True,
    extra_env: dict[str, str] | None = None,
    profile: bool = False,
    domains: int = 1,
    compressed_state: bool = True,
) -> Deploy:
    """``pulumi up`` of ``count`` organizations against a fresh local tenant enforcing
    ``tier``, the deploy paced at ``share`` of ``deploy_tier`` (default: the same tier), then
    (``noop``) an ``up`` with nothing to change. ``extra_env``: more of the deploy's environment
    (``PULUMI_PARALLEL``, say); ``profile``: the first ``up`` with ``--profiling``; ``domains``:
    email domains an organization; ``compressed_state``: the state written as a deploy job
    writes it (``STATE_COMPRESSED``), else as plain JSON."""
    with LocalTenant.spawn(workdir / "tenant.json", rate_limits=tier) as tenant:
        project = LocalProject(workdir / "project", tenant)
        project.init(tenant.m2m_client("pulumi deployer", sorted(credentials.DEPLOY)))
        project.write_config(
            {
                f"{PROJECT}:organization": {},
                f"{PROJECT}:connections": [],
                f"{PROJECT}:organizations": organizations(count, domains),
            }
        )
        env = {
            rate_limits.TIER_VARIABLE: deploy_tier or tier,
            rate_limits.SHARE_VARIABLE: str(share),
            **(STATE_COMPRESSED if compressed_state else {}),
            **(extra_env or {}),
        }
        profiling = (f"--profiling={workdir / 'profile'}",) if profile else ()
        up = _spend(tenant, project, ("up", "--yes", "--skip-preview", *profiling), env)
        cpu = (
            read_profile(next(workdir.glob("profile.*.cpu")), workdir / "project")
            if profile
            else None
        )
        second = (
            _spend(tenant, project, ("up", "--yes", "--skip-preview", "--expect-no-changes"), env)
            if noop
            else None
        )
    floor = floor_seconds(rate_limits.tier(tier), share, up.calls)
    return Deploy(count, up, second, floor, cpu)


def without_pool(scratch: Path) -> dict[str, str]:
    """The environment of a deploy whose processes cannot share the global bucket: a temporary
    directory (``TMPDIR``) under ``scratch`` with a file where the pool directory would be."""
    temporary = scratch / "tmp"
    temporary.mkdir()
    folder = rate_limits.POOL_DIRECTORY.format(uid=os.getuid())
    (temporary / folder).write_text("in the pool directory's place")
    return {"TMPDIR": str(temporary)}


def pool_warnings(output: str) -> list[str]:
    """The warnings of an ``up``'s diagnostics (not its progress lines, which repeat them) that
    say a process cannot share the global bucket."""
    diagnostics = output.partition("\nDiagnostics:")[2]
    return [line for line in diagnostics.splitlines() if "cannot share" in line]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100", help="organizations, comma-separated")
    parser.add_argument("--tier", default=rate_limits.DEFAULT_TIER, choices=sorted(TIERS))
    parser.add_argument("--share", type=float, default=rate_limits.DEFAULT_SHARE)
    parser.add_argument(
        "--parallel",
        type=int,
        help="operations at once (PULUMI_PARALLEL); default: rate_limits.deploy_parallelism's",
    )
    parser.add_argument(
        "--profile", action="store_true", help="where the CLI's CPU went (needs Go on PATH)"
    )
    parser.add_argument(
        "--domains",
        type=int,
        default=1,
        help="email domains an organization (each a discovery domain and a status write)",
    )
    parser.add_argument(
        "--skip-checkpoints",
        action="store_true",
        help="write the state once, at the end of each up (PULUMI_SKIP_CHECKPOINTS)",
    )
    parser.add_argument(
        "--uncompressed-state",
        action="store_true",
        help="write the state as plain JSON (Pulumi's default) rather than as a deploy job does",
    )
    parser.add_argument(
        "--without-pool",
        action="store_true",
        help="a file where the pool directory would be: each process paces its part of the share",
    )
    arguments = parser.parse_args()
    parallel = arguments.parallel or rate_limits.deploy_parallelism(
        rate_limits.tier(arguments.tier), arguments.share
    )
    if not engine_ready():
        raise SystemExit("no Pulumi engine: run scripts/setup first")
    checkpoints = "the state written once" if arguments.skip_checkpoints else "each step saved"
    checkpoints += ", as plain JSON" if arguments.uncompressed_state else ", compressed"
    if arguments.without_pool:
        checkpoints += ", without the pool"
    domains = (
        f"{arguments.domains} email domains an organization, " if arguments.domains != 1 else ""
    )
    print(
        f"tier {arguments.tier}, share {arguments.share}, {parallel} operations at once, "
        f"{domains}{checkpoints}; {platform.machine()}, Python {platform.python_version()}\n"
    )
    warned = " warnings |" if arguments.without_pool else ""
    print(
        "| organizations | `up` | requests | 429 | floor at the share | `up` / floor "
        f"| no-op `up` | requests | 429 |{warned}"
    )
    print("|---|---|---|---|---|---|---|---|---|" + ("---|" if warned else ""))
    profiles: list[tuple[int, float, Profile]] = []
    for size in (int(s) for s in arguments.sizes.split(",")):
        with tempfile.TemporaryDirectory() as scratch:
            result = deploy(
                size,
                Path(scratch),
                tier=arguments.tier,
                share=arguments.share,
                extra_env={
                    rate_limits.PARALLEL_VARIABLE: str(parallel),
                    **(SKIP_CHECKPOINTS if arguments.skip_checkpoints else {}),
                    **(without_pool(Path(scratch)) if arguments.without_pool else {}),
                },
                profile=arguments.profile,
                domains=arguments.domains,
                compressed_state=not arguments.uncompressed_state,
            )
        up, noop = result.up, result.noop
        assert noop is not None
        ratio = up.seconds / result.floor_s if result.floor_s else float("nan")
        warnings = f" {len(pool_warnings(up.output))} |" if arguments.without_pool else ""
        print(
            f"| {size} | {up.seconds:.1f} s | {up.requests} | {up.rate_limited} "
            f"| {result.floor_s:.1f} s | {ratio:.2f} | {noop.seconds:.1f} s | {noop.requests} "
            f"| {noop.rate_limited} |{warnings}",
            flush=True,
        )
        if result.profile is not None:
            profiles.append((size, up.seconds, result.profile))
    if profiles:
        print("\n| organizations | `up` | the CLI's CPU | of it, saving the state | state |")
        print("|---|---|---|---|---|")
        for size, seconds, cpu in profiles:
            print(
                f"| {size} | {seconds:.1f} s | {cpu.cpu_s:.1f} s | {cpu.saving_s:.1f} s "
                f"| {cpu.state_bytes / 1e6:.1f} MB |"
            )


if __name__ == "__main__":
    main()
