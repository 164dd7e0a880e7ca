"""Time the stack's lifecycle with the real engine and provider against a local tenant.

    scripts/setup && .venv/bin/python -m bench.lifecycle_bench [--runs 3]

Each run starts a fresh local tenant and a fresh file backend, then times ``pulumi up``
(creating all 9 resources), a second ``pulumi up`` (no changes), ``pulumi preview --refresh
--expect-no-changes`` (the drift check) and ``pulumi destroy``. Prints a Markdown table of the
median, fastest and slowest of the runs; docs/benchmarks.md quotes it.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import tempfile
from pathlib import Path

from auth0_org_assignment import credentials
from devtools.localstack.local_stack import LocalProject, engine_ready
from devtools.localtenant.testing import LocalTenant

STEPS = {
    "pulumi up (create 9 resources)": ("up", "--yes", "--skip-preview"),
    "pulumi up (no changes)": ("up", "--yes", "--skip-preview", "--expect-no-changes"),
    "pulumi preview --refresh --expect-no-changes": (
        "preview",
        "--refresh",
        "--expect-no-changes",
    ),
    "pulumi destroy": ("destroy", "--yes", "--skip-preview"),
}


def one_run(workdir: Path) -> dict[str, float]:
    with LocalTenant.spawn(workdir / "tenant.json") as tenant:
        project = LocalProject(workdir, tenant)
        project.init(tenant.m2m_client("deployer", sorted(credentials.DEPLOY)))
        return {label: project.pulumi(*args).seconds for label, args in STEPS.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    if not engine_ready():
        raise SystemExit("error: no Pulumi engine: run scripts/setup (or scripts/engine) first")
    runs = []
    for number in range(arguments.runs):
        with tempfile.TemporaryDirectory() as directory:
            workdir = Path(directory) / f"run-{number}"
            workdir.mkdir()
            runs.append(one_run(workdir))
    version = subprocess.run(
        [".engine/bin/pulumi", "version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    print(
        f"{arguments.runs} runs; Pulumi CLI {version}, auth0 plugin built from "
        f"terraform-provider-auth0; local tenant on loopback; {platform.machine()}, "
        f"Python {platform.python_version()}"
    )
    print()
    print("| step | median | fastest | slowest |")
    print("|---|---|---|---|")
    for label in STEPS:
        times = [run[label] for run in runs]
        print(
            f"| `{label}` | {statistics.median(times):.1f} s | {min(times):.1f} s "
            f"| {max(times):.1f} s |"
        )


if __name__ == "__main__":
    main()
