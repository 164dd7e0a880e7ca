"""The policy pack with the real Pulumi engine: ``pulumi preview --policy-pack policy_pack``.

It passes on every stack of this project (``local`` previewed, deployed and previewed again;
``dev``, ``staging`` and ``prod`` previewed with the local tenant standing in for theirs), and
fails the preview of each seeded bad program (tests/policy_programs/) naming the policy, as
mandatory or advisory as configured. Needs ``scripts/engine``; skipped without it, except under
CI, where a missing engine fails.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from auth0_org_assignment import credentials
from auth0_org_assignment.component import COMPONENT_TYPE
from devtools import ROOT
from devtools.localstack.local_stack import LocalProject, Run
from devtools.localtenant.testing import LocalTenant
from tests.support.engine import require_engine

pytestmark = pytest.mark.lifecycle

require_engine()

PACK = ROOT / "policy_pack"
PROGRAMS = Path(__file__).resolve().parent / "policy_programs"


def violations(run: Run) -> list[str]:
    """The violations the CLI listed under ``Policies:``, as ``[level]  policy``
    (``- [mandatory]  auth0-action-runtime  (auth0:index:Action: legacy)``)."""
    lines = (line.strip().removeprefix("- ") for line in run.output.splitlines())
    return sorted(
        line.split("  (")[0] for line in lines if line.startswith(("[mandatory]", "[advisory]"))
    )


def policy_config(directory: Path, config: dict[str, Any]) -> str:
    path = directory / f"policy-config-{len(list(directory.glob('policy-config-*')))}.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def deployer(tenant: LocalTenant) -> dict[str, str]:
    return tenant.m2m_client("pulumi deployer", sorted(credentials.DEPLOY))


@pytest.fixture(scope="module")
def project(
    tenant: LocalTenant, deployer: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> LocalProject:
    local = LocalProject(tmp_path_factory.mktemp("policy-project"), tenant)
    local.init(deployer)
    return local


class Program:
    """One seeded program of tests/policy_programs/ as a project of its own, with a stack on
    the local tenant: the provider's settings come from the environment."""

    def __init__(self, name: str, workdir: Path, project: LocalProject) -> None:
        self.directory = workdir / name
        self.directory.mkdir()
        shutil.copy(PROGRAMS / name / "__main__.py", self.directory / "__main__.py")
        document = {
            "name": f"policy-{name.replace('_', '-')}",
            "runtime": {"name": "python", "options": {"virtualenv": str(ROOT / ".venv")}},
        }
        (self.directory / "Pulumi.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
        self.environment = {
            # The pinned engine, the project's file backend, the tenant's certificate.
            **project.environment(),
            "AUTH0_DOMAIN": project.tenant.domain,
            "AUTH0_CLIENT_ID": project.deployer["client_id"],
            "AUTH0_CLIENT_SECRET": project.deployer["client_secret"],
        }
        created = self.pulumi(
            "stack", "select", "--create", "test", "--secrets-provider", "passphrase"
        )
        assert created.returncode == 0, created.output

    def pulumi(self, *args: str) -> Run:
        started = time.monotonic()
        result = subprocess.run(
            ["pulumi", *args, "--non-interactive"],
            cwd=self.directory,
            env=self.environment,
            capture_output=True,
            text=True,
        )
        output = result.stdout + result.stderr
        return Run(args, result.returncode, result.stdout, output, time.monotonic() - started)

    def preview(self, *config_files: str) -> Run:
        args = ["preview", "--policy-pack", str(PACK)]
        for config_file in config_files:
            args += ["--policy-pack-config", config_file]
        return self.pulumi(*args)


@pytest.fixture
def program(project: LocalProject, tmp_path: Path) -> Callable[[str], Program]:
    return lambda name: Program(name, tmp_path, project)


# --- this project's stacks ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_stack(project: LocalProject, tenant: LocalTenant) -> dict[str, Run]:
    """The local stack through the lifecycle's steps, each with the pack."""
    seen = {
        "first_preview": project.pulumi("preview", "--policy-pack", str(PACK), check=False),
        "up": project.pulumi("up", "--yes", "--policy-pack", str(PACK), check=False),
        "preview": project.pulumi("preview", "--policy-pack", str(PACK), check=False),
    }
    # The component's grant is held to the configured list: none allowed, its one scope fails.
    no_scopes = policy_config(
        project.workdir,
        {"auth0-management-api-grant-scopes": {"allowedScopes": {COMPONENT_TYPE: []}}},
    )
    seen["no_scopes_allowed"] = project.pulumi(
        "preview", "--policy-pack", str(PACK), "--policy-pack-config", no_scopes, check=False
    )
    # Any user of the database connection, which the program only looks up (so nothing shows
    # its signups closed): the rule in the deployed Action's code, known once it is deployed.
    config = project.config
    organization = dict(config["auth0-org-assignment:organization"])
    del organization["emailDomains"]
    organization["allowAnyUserOfConnection"] = True
    project.write_config({**config, "auth0-org-assignment:organization": organization})
    seen["any_user"] = project.pulumi("preview", "--policy-pack", str(PACK), check=False)
    project.write_config(config)
    return seen


def test_the_local_stack_passes_before_during_and_after_its_deployment(
    local_stack: dict[str, Run],
) -> None:
    for step in ("first_preview", "up", "preview"):
        run = local_stack[step]
        assert run.returncode == 0, run.output
        assert "auth0-org-assignment@v0.1.0" in run.output, run.output
        assert violations(run) == [], run.output


def test_the_components_grant_is_held_to_the_configured_list(local_stack: dict[str, Run]) -> None:
    run = local_stack["no_scopes_allowed"]
    assert run.returncode != 0
    # One per grant: the Action's two applications (ActionCredential switches between them).
    assert violations(run) == ["[mandatory]  auth0-management-api-grant-scopes"] * 2, run.output
    assert "org-assignment-management-api-grant-b" in run.output
    assert run.output.count("org-assignment-management-api-grant") >= 2
    assert f"outside the allowed list for '{COMPONENT_TYPE}': create:organization_members" in (
        run.output
    )


def test_any_user_of_an_undeclared_connection_in_the_deployed_actions_rule_is_flagged(
    local_stack: dict[str, Run],
) -> None:
    advisory = local_stack["any_user"]
    assert advisory.returncode == 0, advisory.output
    assert violations(advisory) == ["[advisory]  auth0-organization-not-open-to-anyone"]
    # The Action's code names organizations by id (its packed block holds no names).
    assert re.search(
        r"organization org_\w{16} admits any user of connection Username-Password-Authentication"
        r" \(allowAnyUserOfConnection\), and it is an 'auth0' connection; nothing here shows its "
        r"signups closed",
        advisory.output,
    ), advisory.output


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_the_other_stacks_pass_on_the_local_tenant(
    stack: str, project: LocalProject, tenant: LocalTenant
) -> None:
    # Their tenants are real Auth0 ones, out of reach here: the local tenant stands in, with
    # each stack's own configuration otherwise (its connections created first).
    document = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))
    config = document["config"]
    config["auth0:domain"] = tenant.domain
    config["auth0-org-assignment:domainKind"] = "local"
    for name in config["auth0-org-assignment:connections"]:
        tenant.ensure_connection(name, "okta")
    stack_file = project.directory / f"Pulumi.{stack}.yaml"
    stack_file.write_text(yaml.safe_dump({"config": config}), encoding="utf-8")
    credentials: dict[str, Any] = {
        "AUTH0_CLIENT_ID": project.deployer["client_id"],
        "AUTH0_CLIENT_SECRET": project.deployer["client_secret"],
    }
    project.pulumi("stack", "init", stack, "--secrets-provider", "passphrase", **credentials)
    run = project.pulumi(
        "preview", "--stack", stack, "--policy-pack", str(PACK), check=False, **credentials
    )
    assert run.returncode == 0, run.output
    assert violations(run) == [], run.output
    assert "auth0-org-assignment@v0.1.0" in run.output


# --- seeded bad programs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "policy", "says", "advisories"),
    [
        ("grant", "auth0-management-api-grant-scopes", "No allowed scopes are configured", []),
        (
            "trigger_actions",
            "auth0-no-flow-owning-trigger-actions",
            "owns the whole post-login",
            [],
        ),
        ("action_runtime", "auth0-action-runtime", "The Action runs on node18", []),
        ("action_dependency", "auth0-action-dependencies-pinned", "lodash@^4.17.21", []),
        (
            "action_secret",
            "auth0-action-secrets-are-secret",
            "(WEBHOOK_TOKEN) are plain values",
            ["auth0-action-secrets-kept-out-of-state"],
        ),
    ],
)
def test_each_mandatory_rule_fails_the_preview_of_its_bad_program(
    program: Callable[[str], Program], name: str, policy: str, says: str, advisories: list[str]
) -> None:
    run = program(name).preview()
    assert run.returncode != 0, run.output
    expected = [f"[mandatory]  {policy}", *(f"[advisory]  {a}" for a in advisories)]
    assert violations(run) == sorted(expected), run.output
    assert says in run.output


def test_an_organization_open_to_anyone_is_advisory_unless_configured_mandatory(
    program: Callable[[str], Program], tmp_path: Path
) -> None:
    open_organization = program("open_organization")
    advisory = open_organization.preview()
    assert advisory.returncode == 0, advisory.output
    assert violations(advisory) == ["[advisory]  auth0-organization-not-open-to-anyone"]
    assert "its 'auth0' connection allows signups" in advisory.output
    mandatory = open_organization.preview(
        policy_config(tmp_path, {"auth0-organization-not-open-to-anyone": "mandatory"})
    )
    assert mandatory.returncode != 0
    assert violations(mandatory) == ["[mandatory]  auth0-organization-not-open-to-anyone"]


def test_a_multi_tenant_directory_counts_as_open(program: Callable[[str], Program]) -> None:
    run = program("open_directory").preview()
    assert run.returncode == 0, run.output
    assert violations(run) == ["[advisory]  auth0-organization-not-open-to-anyone"], run.output
    assert "multi-tenant Azure AD connection (waadCommonEndpoint: true)" in run.output


def test_a_mandatory_rule_configured_advisory_warns_and_its_allowed_list_applies(
    program: Callable[[str], Program], tmp_path: Path
) -> None:
    config = {
        "auth0-management-api-grant-scopes": {
            "enforcementLevel": "advisory",
            "allowedScopes": {"reporting-grant": ["create:organization_members"]},
        }
    }
    run = program("grant").preview(policy_config(tmp_path, config))
    assert run.returncode == 0, run.output
    assert violations(run) == ["[advisory]  auth0-management-api-grant-scopes"], run.output
    assert "Scopes outside the allowed list for 'reporting-grant': read:users" in run.output
