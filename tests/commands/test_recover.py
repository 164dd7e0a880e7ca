"""auth0-org-assignment recover: its reading of an exported state and its refusals (no tenant),
and what it takes for the stack's in a local tenant (no engine). The import and the ``up`` after
it, with the real engine, are in test_recover_lifecycle."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auth0_org_assignment import desired_state
from auth0_org_assignment.action_code import render_actions
from auth0_org_assignment.commands.management_client import UsageError
from auth0_org_assignment.commands.pulumi_import import RESOURCE_TYPES
from auth0_org_assignment.commands.recover import StateResources, refuse_without_applications
from auth0_org_assignment.component import COMPONENT_TYPE, LogicalNames
from auth0_org_assignment.config import PROJECT, StackConfig, email_domains
from auth0_org_assignment.config.sources import load_stack_file
from devtools.localstack.local_stack import STACK, LocalProject
from devtools.localtenant.testing import LocalTenant
from tests.support.commands import run_command

STACK_URN = f"urn:pulumi:{STACK}::{PROJECT}"
COMPONENT_URN = f"{STACK_URN}::{COMPONENT_TYPE}::org-assignment"
COMPONENT = {"urn": COMPONENT_URN, "type": COMPONENT_TYPE}
NAMES = LogicalNames()
WRITTEN = "2026-01-02T03:04:05.123456789Z"


def resource(kind: str, name: str, resource_id: str = "") -> dict[str, Any]:
    kind_type = RESOURCE_TYPES[kind]
    urn = f"{STACK_URN}::{COMPONENT_TYPE}${kind_type}::{name}"
    return {"urn": urn, "type": kind_type, "id": resource_id}


CLIENTS = [resource("client", NAMES.slot_client(slot), f"client-{slot}") for slot in "ab"]


def exported(tmp_path: Path, *resources: dict[str, Any], written: str = WRITTEN) -> Path:
    """The state of ``resources``, the last of them changed at ``written``."""
    path = tmp_path / "local.state.json"
    timed = [{"created": "2000-01-01T00:00:00Z", "modified": written} | r for r in resources]
    deployment = {"manifest": {"time": "2999-01-01T00:00:00Z"}, "resources": timed}
    path.write_text(json.dumps({"version": 3, "deployment": deployment}), encoding="utf-8")
    return path


def read(path: Path) -> StateResources:
    return StateResources.read(path, PROJECT, STACK)


def test_the_state_names_each_resource_by_type_and_logical_name(tmp_path: Path) -> None:
    organization = "org-assignment-organization-acme"
    state = read(
        exported(tmp_path, COMPONENT, CLIENTS[0], resource("organization", organization, "org_1"))
    )
    assert state.component_urn == COMPONENT_URN
    assert state.holds("client", NAMES.m2m_client)
    assert not state.holds("client", NAMES.slot_client("b"))
    assert state.id_of("organization", organization) == "org_1"
    assert state.id_of("organization", "org-assignment-organization-other") is None
    assert state.written.isoformat() == "2026-01-02T03:04:05.123456+00:00"


@pytest.mark.parametrize(
    ("written", "utc"),
    [
        ("2026-12-04T23:30:00.123456789+01:00", "2026-12-04T22:30:00.123456+00:00"),
        ("2026-12-04T17:30:00-05:00", "2026-12-04T22:30:00+00:00"),
        ("2026-12-04T22:30:00.8443+00:00", "2026-12-04T22:30:00.844300+00:00"),
        ("2026-12-04T22:30:00Z", "2026-12-04T22:30:00+00:00"),
    ],
)
def test_the_last_step_is_read_in_its_zone(tmp_path: Path, written: str, utc: str) -> None:
    assert read(exported(tmp_path, COMPONENT, written=written)).written.isoformat() == utc


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not a state `pulumi stack export` wrote"),
        (json.dumps([]), "no deployment.resources"),
        (json.dumps({"deployment": {"resources": ["x"]}}), "no deployment.resources"),
        (json.dumps({"deployment": {"resources": [{"urn": 3}]}}), "each with its urn"),
        (json.dumps({"deployment": {"resources": []}}), f"holds no {COMPONENT_TYPE}"),
        (
            json.dumps({"deployment": {"resources": [COMPONENT]}}),
            "no readable created/modified time",
        ),
        (
            json.dumps({"deployment": {"resources": [COMPONENT | {"created": "2026-01-02"}]}}),
            "names no time zone",
        ),
        (
            json.dumps(
                {
                    "deployment": {
                        "resources": [
                            {"urn": f"urn:pulumi:prod::{PROJECT}::x::y", "type": "x"},
                        ]
                    }
                }
            ),
            f"not a resource of {PROJECT}'s stack {STACK}",
        ),
    ],
)
def test_a_state_that_is_not_the_stacks_is_refused_naming_the_file(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "state.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError, match=r"--state .*state\.json") as refused:
        read(path)
    assert message in str(refused.value)


@pytest.mark.parametrize("held", [[], CLIENTS[:1], CLIENTS[1:]])
def test_a_state_without_both_applications_is_refused(
    tmp_path: Path, held: list[dict[str, Any]]
) -> None:
    state = read(exported(tmp_path, COMPONENT, *held))
    with pytest.raises(UsageError, match="does not hold the stack's M2M application") as refused:
        refuse_without_applications(state, PROJECT, STACK)
    assert desired_state.m2m_client_description(PROJECT, STACK) in str(refused.value)
    refuse_without_applications(read(exported(tmp_path, COMPONENT, *CLIENTS)), PROJECT, STACK)


# --- against a local tenant, through the console script ----------------------------------------


@pytest.fixture
def tenant(tmp_path: Path) -> Iterator[LocalTenant]:
    with LocalTenant.spawn(tmp_path / "tenant.json") as process:
        yield process


def recover(
    tenant: LocalTenant, project: LocalProject, state: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    return run_command(
        tenant, project.directory, "recover", "--state", str(state), "--json", "--rate", "50", *args
    )


STUB = "exports.onExecutePostLogin = async () => {};"


def _action(
    tenant: LocalTenant, name: str, trigger: str = "post-login", code: str = STUB
) -> dict[str, Any]:
    body = {
        "name": name,
        "supported_triggers": [
            {"id": trigger, "version": "v3" if trigger == "post-login" else "v2"}
        ],
        "code": code,
    }
    created: dict[str, Any] = tenant.call("POST", "/api/v2/actions/actions", body)
    return created


def _the_loads_organization(tenant: LocalTenant, project: LocalProject) -> dict[str, Any]:
    """The stack's organization as a load creates it: exactly as configured, nothing enabled
    yet."""
    configured = _config(project).organizations[0]
    body = {
        "name": configured.name,
        "display_name": configured.display_name,
        "metadata": dict(configured.metadata),
    }
    created: dict[str, Any] = tenant.call("POST", "/api/v2/organizations", body)
    return created


def _code(project: LocalProject, organization_id: str) -> str:
    """The stack's one Action's code, as the load renders it once the organization exists."""
    config = _config(project)
    (rendered,) = render_actions(config, {config.organizations[0].name: organization_id})
    return rendered.code


@pytest.mark.slow
def test_an_action_the_load_created_is_imported_and_an_older_one_refused(
    tenant: LocalTenant, tmp_path: Path
) -> None:
    project = LocalProject(tmp_path, tenant)
    action_name = desired_state.action_name(_config(project), 0, 1)  # the stack's one Action
    # The state's last step before the Action was created: the load's, holding the rule of the
    # organization the load created before it.
    state = exported(tmp_path, COMPONENT, *CLIENTS, written="2000-01-01T00:00:00.000Z")
    organization = _the_loads_organization(tenant, project)
    action = _action(tenant, action_name, code=_code(project, organization["id"]))
    result = recover(tenant, project, state)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert f"Action {action_name} ({action['id']}) -> {NAMES.action(0, 1)}" in report["found"]
    document = json.loads((project.directory / ".recover" / f"{STACK}.json").read_text())
    assert document["nameTable"] == {"component": COMPONENT_URN}
    entry = {
        "type": RESOURCE_TYPES["action"],
        "name": NAMES.action(0, 1),
        "id": action["id"],
        "parent": "component",
    }
    assert entry in document["resources"]
    # The organization is the load's too; its connection is not enabled yet: the up enables it.
    configured = _config(project).organizations[0]
    recovered = f"organization {configured.name} ({organization['id']})"
    assert f"{recovered} -> {NAMES.organization(configured)}" in report["found"]
    assert any(f"enabled on {configured.name} (" in line for line in report["missing"])

    # A step recorded after the Action was created: not the load's, refused, no file left.
    later = exported(tmp_path, COMPONENT, *CLIENTS, written="2999-01-01T00:00:00.000Z")
    result = recover(tenant, project, later)
    assert result.returncode != 0
    assert action["id"] in result.stderr
    assert "--since" in result.stderr
    assert not (project.directory / ".recover" / f"{STACK}.json").exists()
    # Unless --since names the killed up's start (a command wrote the state after the kill).
    result = recover(tenant, project, later, "--since", "2000-01-01T00:00:00+00:00")
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("whose", ["another team's", "another stack's"])
def test_an_action_of_the_stacks_name_holding_no_rule_of_its_own_is_refused(
    tenant: LocalTenant, tmp_path: Path, whose: str
) -> None:
    """Found by review: a post-login Action bearing the name the load would give its own,
    created after the state's last step, is not the load's unless it holds the stack's rule
    (the load creates its Actions with their code rendered, after the organizations): another
    team's (no configuration of the stack's), or another stack's of this project (one of its own
    organizations, under the same marker prefix), say one whose split reached the names this
    load's split would give (``…-1-of-2``) first. Imported, the next `up` would overwrite its
    code with this stack's rule, and the stack would delete it with its own."""
    project = LocalProject(tmp_path, tenant)
    action_name = desired_state.action_name(_config(project), 0, 1)
    state = exported(tmp_path, COMPONENT, *CLIENTS, written="2000-01-01T00:00:00.000Z")
    _the_loads_organization(tenant, project)
    if whose == "another team's":
        code = STUB
    else:
        theirs = tenant.call("POST", "/api/v2/organizations", {"name": "another-stacks"})
        code = _code(project, theirs["id"])
    other = _action(tenant, action_name, code=code)
    result = recover(tenant, project, state)
    assert result.returncode != 0
    assert other["id"] in result.stderr
    assert "does not hold this stack's rule" in result.stderr
    assert not (project.directory / ".recover" / f"{STACK}.json").exists()


@pytest.mark.slow
def test_an_action_of_the_stacks_name_on_another_trigger_is_refused(
    tenant: LocalTenant, tmp_path: Path
) -> None:
    project = LocalProject(tmp_path, tenant)
    action_name = desired_state.action_name(_config(project), 0, 1)
    other = _action(tenant, action_name, trigger="credentials-exchange")
    state = exported(tmp_path, COMPONENT, *CLIENTS, written="2000-01-01T00:00:00.000Z")
    result = recover(tenant, project, state)
    assert result.returncode != 0
    assert other["id"] in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("made", "said"),
    [
        ({"display_name": "Made by hand"}, "Made by hand"),
        (
            {"branding": {"logo_url": "https://example.com/logo.png"}},
            "branding the configuration does not declare",
        ),
    ],
)
def test_an_organization_unlike_the_configured_one_is_refused(
    tenant: LocalTenant, tmp_path: Path, made: dict[str, Any], said: str
) -> None:
    project = LocalProject(tmp_path, tenant)
    configured = _config(project).organizations[0]
    tenant.call("POST", "/api/v2/organizations", {"name": configured.name} | made)
    result = recover(tenant, project, exported(tmp_path, COMPONENT, *CLIENTS))
    assert result.returncode != 0
    assert f"the organization {configured.name!r}" in result.stderr
    assert said in result.stderr
    assert "auth0-org-assignment adopt" in result.stderr


def _config(project: LocalProject) -> StackConfig:
    return load_stack_file(STACK, project.directory)


def test_an_organization_enabling_a_connection_the_load_would_not_is_refused(
    tenant: LocalTenant, tmp_path: Path
) -> None:
    """A load enables only the configured connections, never with auto-membership: a
    hand-made organization of the configured name that enables another (here with
    auto-membership, which would admit anyone through it) is not the load's."""
    project = LocalProject(tmp_path, tenant)
    configured = _config(project).organizations[0]
    assert "google-oauth2" not in (configured.connections or [])
    organization = tenant.call(
        "POST",
        "/api/v2/organizations",
        {
            "name": configured.name,
            "display_name": configured.display_name,
            "metadata": dict(configured.metadata),
        },
    )
    google = next(
        c["id"] for c in tenant.call("GET", "/api/v2/connections") if c["name"] == "google-oauth2"
    )
    tenant.call(
        "POST",
        f"/api/v2/organizations/{organization['id']}/enabled_connections",
        {"connection_id": google, "assign_membership_on_login": True},
    )
    result = recover(tenant, project, exported(tmp_path, COMPONENT, *CLIENTS))
    assert result.returncode != 0
    assert "google-oauth2 enabled but not configured (with auto-membership" in result.stderr


def test_a_state_from_before_resources_were_named_by_organization_holds_the_first(
    tenant: LocalTenant, tmp_path: Path
) -> None:
    """The first organization's resources under the names they had before (their aliases):
    held, not looked for in the tenant (where this organization, renamed by hand since, would
    be refused as unlike the configured one)."""
    project = LocalProject(tmp_path, tenant)
    configured = _config(project).organizations[0]
    organization = tenant.call("POST", "/api/v2/organizations", {"name": "renamed-by-hand"})
    held = [
        resource("organization", NAMES.first_organization_before_names, organization["id"]),
        *(
            resource("connection", NAMES.first_connection_before_names(c), f"x::{c}")
            for c in configured.connections or []
        ),
        *(
            resource("discovery_domain", NAMES.first_discovery_domain_before_names(d), f"x::{d}")
            for d in email_domains.discovery_domains(configured.email_domains)
        ),
    ]
    result = recover(tenant, project, exported(tmp_path, COMPONENT, *CLIENTS, *held))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert not [line for line in report["found"] if "organization" in line], report
    # Only the Action is missing (none was made): its connections and domains are held.
    assert [line.split(" (")[0] for line in report["missing"]] == [
        f"Action {desired_state.action_name(_config(project), 0, 1)}"
    ]
