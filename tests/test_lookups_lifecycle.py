"""Nothing half-applied, with the real engine and provider on a local tenant: a misspelt name or
a stack over a limit makes ``pulumi up --skip-preview`` (what the deploy workflow runs) create
nothing, and each connection and role name is looked up once, whatever the number of
organizations."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from auth0_org_assignment import credentials
from devtools.localstack.local_stack import LocalProject
from devtools.localtenant.route_names import RouteName
from devtools.localtenant.testing import DATABASE, LocalTenant
from tests.support.engine import require_engine

pytestmark = pytest.mark.lifecycle

require_engine()

KEY = "auth0-org-assignment"
SOCIAL = "google-oauth2"


def inventory(tenant: LocalTenant) -> dict[str, Any]:
    """Everything in the tenant that a stack could create, by id."""
    return {
        "clients": sorted(c["client_id"] for c in tenant.call("GET", "/api/v2/clients")),
        "grants": sorted(g["id"] for g in tenant.call("GET", "/api/v2/client-grants")),
        "organizations": sorted(o["id"] for o in tenant.call("GET", "/api/v2/organizations")),
        "actions": sorted(
            a["id"] for a in tenant.call("GET", "/api/v2/actions/actions")["actions"]
        ),
        "bindings": tenant.bound_action_ids(),
    }


def resources_in_state(project: LocalProject) -> list[str]:
    exported = json.loads(project.pulumi("stack", "export").stdout)
    return [r["type"] for r in exported["deployment"].get("resources") or []]


@pytest.fixture
def project(tenant: LocalTenant, tmp_path_factory: pytest.TempPathFactory) -> LocalProject:
    local = LocalProject(tmp_path_factory.mktemp("lookups"), tenant)
    local.init(tenant.m2m_client("pulumi deployer", sorted(credentials.DEPLOY)))
    return local


def refused_up(tenant: LocalTenant, project: LocalProject) -> str:
    """``up --skip-preview`` of the project as configured: it must fail and change nothing."""
    before = inventory(tenant)
    run = project.pulumi("up", "--yes", "--skip-preview", check=False)
    assert run.returncode != 0, run.output
    assert inventory(tenant) == before
    assert not [t for t in resources_in_state(project) if t.startswith("auth0:")]
    return run.output


def test_a_misspelt_connection_creates_nothing_and_names_the_key(
    tenant: LocalTenant, project: LocalProject
) -> None:
    project.write_config({f"{KEY}:connections": [DATABASE, "google-oauth"]})
    output = refused_up(tenant, project)
    assert f"{KEY}:connections[1]: the tenant has no connection named 'google-oauth'" in output
    # The configuration key, not the provider's invoke, is what the error names.
    assert "invoke of" not in output


def test_a_misspelt_role_creates_nothing_and_names_the_key(
    tenant: LocalTenant, project: LocalProject
) -> None:
    organization = project.config[f"{KEY}:organization"]
    project.write_config({f"{KEY}:organization": {**organization, "roles": ["auditr"]}})
    output = refused_up(tenant, project)
    assert f"{KEY}:organization.roles[0]: the tenant has no role named 'auditr'" in output


def test_a_stack_over_a_limit_creates_nothing_and_names_the_limit(
    tenant: LocalTenant, project: LocalProject
) -> None:
    organization = project.config[f"{KEY}:organization"]
    applications = [f"app{n:061d}" for n in range(2000)]
    project.write_config({f"{KEY}:organization": {**organization, "applications": applications}})
    output = refused_up(tenant, project)
    assert "alone would not fit in one Action" in output
    assert "over the 92160 bytes" in output


def test_each_name_is_looked_up_once_whatever_the_number_of_organizations(
    tenant: LocalTenant, project: LocalProject
) -> None:
    role = "lookups-member"
    tenant.call("POST", "/api/v2/roles", {"name": role})
    organizations = [
        {
            "name": f"lookups-{n}",
            "displayName": f"Lookups {n}",
            "connections": [DATABASE, SOCIAL],
            "trustEmailVerifiedFrom": [SOCIAL],
            "emailDomains": [f"lookups{n}.example.com"],
            "roles": [role],
        }
        for n in range(6)
    ]
    document = yaml.safe_load(project.stack_file.read_text(encoding="utf-8"))
    for key in (f"{KEY}:organization", f"{KEY}:connections"):
        del document["config"][key]
    document["config"][f"{KEY}:organizations"] = organizations
    project.stack_file.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")

    lookups = (RouteName.CONNECTIONS_LIST, RouteName.ROLES_LIST)
    before = tenant.calls()
    project.pulumi("up", "--yes", "--skip-preview")
    after = tenant.calls()
    # One listing per distinct name (the tenant's few connections fit on one page), not one
    # per organization and name: 2 and 1, where 12 and 6 were made before.
    assert {name: after[name] - before[name] for name in lookups} == {
        RouteName.CONNECTIONS_LIST: 2,
        RouteName.ROLES_LIST: 1,
    }
    project.pulumi("up", "--yes", "--skip-preview", "--expect-no-changes")
    again = tenant.calls()
    assert {name: again[name] - after[name] for name in lookups} == {
        RouteName.CONNECTIONS_LIST: 2,
        RouteName.ROLES_LIST: 1,
    }
    project.pulumi("destroy", "--yes", "--skip-preview")
