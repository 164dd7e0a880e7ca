"""Upgrading a stack deployed before ``ActionCredential``: the previous release's package (from
this repository's history) deploys the local stack, whose state then holds the Action's
application secret (``ClientCredentials``, the Action's ``secrets``); this checkout's ``up``
follows while users keep logging in. No login fails, the old secret stops working, and the
state holds no secret any application of the tenant has."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auth0_org_assignment import credentials
from devtools import ROOT
from devtools.localstack.local_stack import LocalProject
from devtools.localtenant.testing import LocalTenant, TenantError
from tests.support.engine import require_engine
from tests.test_credential_lifecycle import Logins, leaked, tenant_secrets

pytestmark = pytest.mark.lifecycle

require_engine()

PREVIOUS = "eaf8a3060399cb310b4f4f010d1887c907347a6b"
"""The last commit whose component held the Action's secret in state."""


def previous_release(directory: Path) -> Path:
    """The previous release's program, package and Action templates, as ``git archive`` gives
    them."""
    archive = subprocess.run(
        [
            *("git", "-C", str(ROOT), "archive", PREVIOUS),
            *("Pulumi.yaml", "infra", "auth0_org_assignment", "action_templates"),
        ],
        capture_output=True,
    )
    if archive.returncode != 0:
        pytest.skip(f"this clone's history lacks {PREVIOUS[:12]} (a shallow clone?)")
    subprocess.run(["tar", "-x", "-C", str(directory)], input=archive.stdout, check=True)
    (directory / "node_modules").symlink_to(ROOT / "node_modules")
    return directory


@pytest.fixture(scope="module")
def upgraded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    old = previous_release(tmp_path_factory.mktemp("previous"))
    with LocalTenant.spawn(tmp_path_factory.mktemp("tenant") / "state.json") as tenant:
        project = LocalProject(tmp_path_factory.mktemp("upgrade"), tenant)
        project.init(tenant.m2m_client("pulumi deployer", sorted(credentials.DEPLOY)))
        seen: dict[str, Any] = {}
        # The previous release's project and program too: today's may declare and use what its
        # package lacks.
        program = project.directory / "infra"
        program.unlink()
        program.symlink_to(old / "infra")
        shutil.copy(old / "Pulumi.yaml", project.directory / "Pulumi.yaml")
        project.pulumi("up", "--yes", "--skip-preview", PYTHONPATH=str(old))
        project.prove_domains()
        project.pulumi("up", "--yes", "--skip-preview", PYTHONPATH=str(old))
        program.unlink()
        program.symlink_to(ROOT / "infra")
        shutil.copy(ROOT / "Pulumi.yaml", project.directory / "Pulumi.yaml")
        outputs = project.outputs()
        seen["organization"] = outputs["organization_id"]
        old_client = outputs["m2m_client_id"]
        seen["old"] = {
            "client_id": old_client,
            "client_secret": tenant.call("GET", f"/api/v2/clients/{old_client}")["client_secret"],
        }
        seen["old_export"] = project.pulumi("stack", "export", "--show-secrets").stdout
        tenant.rate_limit_tier("unlimited")
        with Logins(tenant) as logins:
            seen["up"] = project.pulumi("up", "--yes", "--skip-preview", check=False)
        seen["logins"] = logins.results
        seen["export"] = project.pulumi("stack", "export", "--show-secrets").stdout
        seen["secrets"] = tenant_secrets(tenant)
        try:
            tenant.https_api(seen["old"]).token()
            seen["old_secret_works"] = True
        except TenantError:
            seen["old_secret_works"] = False
        seen["no_op"] = project.pulumi("up", "--yes", "--expect-no-changes", check=False)
        project.pulumi("destroy", "--yes", "--skip-preview")
        yield seen


def test_the_upgrade_retires_the_secret_the_old_state_holds(upgraded: dict[str, Any]) -> None:
    # The previous release did hold it: this is the secret every old backup of the state holds.
    assert upgraded["old"]["client_secret"] in upgraded["old_export"]
    assert upgraded["up"].returncode == 0, upgraded["up"].output
    assert "org-assignment-m2m-credentials deleted" in upgraded["up"].output
    assert upgraded["old_secret_works"] is False
    assert leaked(upgraded["export"], upgraded["secrets"]) == []
    assert upgraded["no_op"].returncode == 0, upgraded["no_op"].output


def test_no_login_fails_during_the_upgrade(upgraded: dict[str, Any]) -> None:
    logins = upgraded["logins"]
    assert len(logins) >= 3
    failed = [login for login in logins if login["member_of"] != [upgraded["organization"]]]
    assert not failed, (len(failed), len(logins), failed[0]["executions"][-1]["logs"])
