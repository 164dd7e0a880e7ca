"""Time the stack's lifecycle with the real engine and provider against a local tenant.

    scripts/setup && .venv/bin/python -m bench.lifecycle_bench [--runs 3]

Each run starts a fresh local tenant and a fresh file backend, then times ``pulumi up``
(creating the stack's resources, counted from its summary), a second ``pulumi up`` (no
changes), ``pulumi preview --refresh --expect-no-changes`` (the drift check) and ``pulumi
destroy``. Prints a Markdown table of the median, fastest and slowest of the runs;
docs/benchmarks.md quotes it.
"""

from __future__ import annotations

import argparse
import platform
import re
import statistics
import subprocess
import tempfile
from pathlib import Path

from auth0_org_assignment import credentials
from devtools.localstack.local_stack import LocalProject, engine_ready
from devtools.localtenant.testing import LocalTenant

STEPS = {
    "pulumi up (create)": ("up", "--yes", "--skip-preview"),
    "pulumi up (no changes)": ("up", "--yes", "--skip-preview", "--expect-no-changes"),
    "pulumi preview --refresh --expect-no-changes": (
        "preview",
        "--refresh",
        "--expect-no-changes",
    ),
    "pulumi destroy": ("destroy", "--yes", "--skip-preview"),
}


CREATED = re.compile(r"\+ (\d+) created")
"""The count in the summary Pulumi prints at the end of an ``up``."""


def one_run(workdir: Path) -> tuple[dict[str, float], int]:
    """Each step's seconds, and how many resources the first ``up`` created."""
    with LocalTenant.spawn(workdir / "tenant.json") as tenant:
        project = LocalProject(workdir, tenant)
        project.init(tenant.m2m_client("deployer", sorted(credentials.DEPLOY)))
        runs = {label: project.pulumi(*args) for label, args in STEPS.items()}
    created = CREATED.search(runs["pulumi up (create)"].stdout)
    if created is None:
        raise SystemExit("error: the first pulumi up printed no count of resources created")
    return {label: run.seconds for label, run in runs.items()}, int(created.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    if not engine_ready():
        raise SystemExit("error: no Pulumi engine: run scripts/setup (or scripts/engine) first")
    runs: list[dict[str, float]] = []
    created: set[int] = set()
    for number in range(arguments.runs):
        with tempfile.TemporaryDirectory() as directory:
            workdir = Path(directory) / f"run-{number}"
            workdir.mkdir()
            times, count = one_run(workdir)
            runs.append(times)
            created.add(count)
    version = subprocess.run(
        [".engine/bin/pulumi", "version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    print(
        f"{arguments.runs} runs; Pulumi CLI {version}, auth0 plugin built from "
        f"terraform-provider-auth0; local tenant on loopback; {platform.machine()}, "
        f"Python {platform.python_version()}; the first up created "
        f"{' or '.join(str(c) for c in sorted(created))} resources (the stack and the component "
        "included)"
    )
    print()
    print("| step | median | fastest | slowest |")
    print("|---|---|---|---|")
    for label in STEPS:
        seconds = [run[label] for run in runs]
        print(
            f"| `{label}` | {statistics.median(seconds):.1f} s | {min(seconds):.1f} s "
            f"| {max(seconds):.1f} s |"
        )


if __name__ == "__main__":
    main()
