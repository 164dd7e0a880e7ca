"""A bulk load interrupted before it wrote the state, with the real engine and provider, on a
local tenant: ``PULUMI_SKIP_CHECKPOINTS`` writes the state once, at the end, so a kill leaves
the state of before the ``up`` and the tenant with what it created. The next ``up`` is refused;
``auth0-org-assignment recover`` finds what the tenant holds in the state's place,
``pulumi import`` records it, and the ``up`` after that finishes with nothing duplicated. Like
test_lifecycle, it fails under CI when the engine is missing.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auth0_org_assignment import credentials
from auth0_org_assignment.commands.recover import StateResources, instant
from auth0_org_assignment.config import PROJECT
from bench.deploy_bench import organizations
from devtools.localstack.local_stack import STACK, LocalProject
from devtools.localtenant.testing import LocalTenant
from tests.support.commands import run_command
from tests.support.engine import require_engine

pytestmark = pytest.mark.lifecycle

require_engine()

BEFORE, AFTER = 2, 5
"""Organizations deployed with the state saved, then in the interrupted bulk load."""


@pytest.fixture(scope="module")
def recovered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Runs the load, its interruption and the recovery once, in order; each test below checks
    one part of what it saw."""
    seen: dict[str, Any] = {}
    workdir = tmp_path_factory.mktemp("recover")
    with LocalTenant.spawn(workdir / "tenant.json") as tenant:
        project = LocalProject(workdir, tenant)
        project.init(tenant.m2m_client("pulumi deployer", sorted(credentials.DEPLOY)))
        project.write_config(
            {
                f"{PROJECT}:organization": {},
                f"{PROJECT}:connections": [],
                f"{PROJECT}:organizations": organizations(BEFORE),
            }
        )
        project.pulumi("up", "--yes", "--skip-preview")
        state_file = next((workdir / "state").rglob(".pulumi/stacks/*/local.json"))
        before = state_file.read_bytes()

        project.write_config({f"{PROJECT}:organizations": organizations(AFTER)})
        project.pulumi("up", "--yes", "--skip-preview", PULUMI_SKIP_CHECKPOINTS="true")
        # Killed before the end: the state is the one of before the load.
        state_file.write_bytes(before)
        seen["up_after_kill"] = project.pulumi("up", "--yes", "--skip-preview", check=False)

        exported = workdir / "exported.json"
        project.pulumi("stack", "export", "--file", str(exported))
        seen["last_step_before_load"] = max(
            instant(t)
            for r in json.loads(before)["checkpoint"]["latest"]["resources"]
            for t in (r["created"], r["modified"])
        )
        seen["last_step_after_refusal"] = StateResources.read(exported, PROJECT, STACK).written

        def recover(state: Path) -> subprocess.CompletedProcess[str]:
            return run_command(
                tenant,
                project.directory,
                "recover",
                "--state",
                str(state),
                "--json",
                "--rate",
                "50",
            )

        result = recover(exported)
        assert result.returncode == 0, result.stderr
        seen["report"] = json.loads(result.stdout)
        seen["import"] = project.pulumi(
            "import",
            *("--file", ".recover/local.json"),
            *("--generate-code=false", "--protect=false", "--yes"),
            PULUMI_SKIP_CHECKPOINTS="true",
        )
        seen["up"] = project.pulumi("up", "--yes", "--skip-preview")
        seen["preview_after_up"] = project.pulumi(
            "preview", "--diff", "--expect-no-changes", check=False
        )
        seen["organizations"] = [o["name"] for o in tenant.call("GET", "/api/v2/organizations")]
        seen["discovery_domains"] = {
            o["name"]: [d["domain"] for d in tenant.discovery_domains(o["id"])]
            for o in tenant.call("GET", "/api/v2/organizations")
        }
        # A state that recorded no deploy of the stack's applications is refused.
        bare = json.loads(exported.read_text(encoding="utf-8"))
        bare["deployment"]["resources"] = [
            r for r in bare["deployment"]["resources"] if r["type"] != "auth0:index/client:Client"
        ]
        no_clients = workdir / "no-clients.json"
        no_clients.write_text(json.dumps(bare), encoding="utf-8")
        seen["no_clients"] = recover(no_clients)
        yield seen


def test_the_up_after_an_interrupted_load_is_refused(recovered: dict[str, Any]) -> None:
    run = recovered["up_after_kill"]
    assert run.returncode != 0
    # Refused on an organization the load created (which one first depends on the order the
    # engine sends them in).
    assert any(f"customer-{n:05d}" in run.output for n in range(BEFORE, AFTER)), run.output


def test_the_refused_up_does_not_move_the_last_step_recover_reads(
    recovered: dict[str, Any],
) -> None:
    # So an Action the load created stays after it (recover's test of the load's Actions).
    assert recovered["last_step_after_refusal"] == recovered["last_step_before_load"]


def test_recover_finds_each_resource_the_load_created(recovered: dict[str, Any]) -> None:
    found = recovered["report"]["found"]
    loaded = [f"customer-{n:05d}" for n in range(BEFORE, AFTER)]
    for name in loaded:
        assert sum(line.startswith(f"organization {name} (") for line in found) == 1
        assert sum(f"enabled on {name} ->" in line for line in found) == 1
        assert sum(f"of {name} ->" in line for line in found) == 1
    # Nothing the state already held, and nothing left for the up to create.
    assert len(found) == 3 * (AFTER - BEFORE)
    assert recovered["report"]["missing"] == []


def test_after_the_import_the_up_finishes_with_nothing_twice(recovered: dict[str, Any]) -> None:
    assert recovered["up"].returncode == 0
    preview = recovered["preview_after_up"]
    assert preview.returncode == 0, preview.output
    names = recovered["organizations"]
    assert sorted(names) == [f"customer-{n:05d}" for n in range(AFTER)]
    assert all(
        domains == [f"customer{name.removeprefix('customer-')}.com"]
        for name, domains in recovered["discovery_domains"].items()
    )


def test_a_state_without_the_applications_is_refused(recovered: dict[str, Any]) -> None:
    result = recovered["no_clients"]
    assert result.returncode != 0
    assert "does not hold the stack's M2M application" in result.stderr
    assert "PULUMI_SKIP_CHECKPOINTS" in result.stderr
