"""auth0-org-assignment adopt on the local tenant: what it finds, reports and writes (no engine).

The import, the first ``up`` and ``destroy`` with the real engine are in test_adopt_lifecycle.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from devtools.localstack.local_stack import LocalProject
from devtools.localtenant.testing import LocalTenant
from tests.support.article_setup import LOGO_URL, article_setup
from tests.support.commands import command_line, operator_environment, run

# Each test runs several processes against a tenant (or cloud CLIs' stand-ins).
pytestmark = pytest.mark.slow


READS = {"get", "list", "get_by_name", "token"}


@pytest.fixture
def tenant(tmp_path: Path) -> Iterator[LocalTenant]:
    with LocalTenant.spawn(tmp_path / "state.json") as process:
        yield process


@pytest.fixture
def project(tenant: LocalTenant, tmp_path: Path) -> LocalProject:
    """The local stack, declaring the article organization's logo as adoption asks."""
    local = LocalProject(tmp_path, tenant)
    config = local.config
    config["auth0-org-assignment:organization"]["branding"] = {"logoUrl": LOGO_URL}
    local.write_config(config)
    return local


def adopt(
    tenant: LocalTenant,
    project: LocalProject,
    *args: str,
    environment: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    return run(
        command_line("adopt", "local", project.directory, "--rate", "50", *args),
        environment or operator_environment(tenant, "adopt"),
    )


def test_finds_the_article_setup_reports_each_change_and_writes_nothing_to_the_tenant(
    tenant: LocalTenant, project: LocalProject
) -> None:
    made = article_setup(tenant, "acme-by-hand")
    environment = operator_environment(tenant, "adopt")
    before = tenant.calls()
    result = adopt(
        tenant,
        project,
        "--json",
        "--organization-id",
        made["organization_id"],
        environment=environment,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    after = tenant.calls()
    made_calls = {name for name in after if after[name] != before.get(name, 0)}
    assert made_calls
    assert all(name.rsplit(".", 1)[-1] in READS for name in made_calls), made_calls

    changes = {(c["resource"], c["property"]): (c["before"], c["after"]) for c in found["changes"]}
    organization = "org-assignment-organization-acme-local"
    assert changes[(organization, "name")] == ("acme-by-hand", "acme-local")
    assert changes[(organization, "displayName")] == ("Acme", "Acme (local)")
    assert changes[("org-assignment-post-login-action", "runtime")] == ("node18", "node22")
    assert changes[("org-assignment-post-login-action", "dependencies")][0] == '["auth0@4.2.0"]'
    secrets = changes[("org-assignment-action-credential", "secrets")][1]
    assert "ORGANIZATION_ID removed" in secrets
    assert "CLIENT_SECRET" in secrets
    assert ("org-assignment-management-api-grant", "scopes") in changes
    # Always new: the second application, and the credential that writes the Action's secrets.
    assert [line.split(" (")[0] for line in found["created"]] == [
        "second M2M application",
        "the Action's credential",
    ]
    assert any("google-oauth2 is enabled" in note for note in found["notes"])

    written = json.loads((project.directory / ".adopt" / "local.json").read_text())
    ids = {entry["name"]: entry.get("id") for entry in written["resources"]}
    assert ids == {
        "component": None,
        "org-assignment-organization-acme-local": made["organization_id"],
        "org-assignment-connection-acme-local-Username-Password-Authentication": (
            f"{made['organization_id']}::"
            + connection_id(tenant, "Username-Password-Authentication")
        ),
        "org-assignment-m2m-client": made["client_id"],
        "org-assignment-management-api-grant": made["grant_id"],
        "org-assignment-post-login-action": made["action_id"],
        "org-assignment-post-login-binding": f"post-login::{made['action_id']}",
    }
    assert made["client_secret"] not in json.dumps(written)
    action = next(
        e for e in written["resources"] if e["name"] == "org-assignment-post-login-action"
    )
    assert {s["value"] for s in action["inputs"]["secrets"]} == {""}


def connection_id(tenant: LocalTenant, name: str) -> str:
    return str(
        next(c["id"] for c in tenant.call("GET", "/api/v2/connections") if c["name"] == name)
    )


def test_the_organization_is_found_by_its_configured_name(
    tenant: LocalTenant, project: LocalProject
) -> None:
    made = article_setup(tenant, "acme-local")
    result = adopt(tenant, project, "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert any(made["organization_id"] in line for line in found["found"])
    assert not any(
        c["property"] == "name" and c["resource"].endswith("organization") for c in found["changes"]
    )


def test_two_applications_that_may_add_members_need_client_id(
    tenant: LocalTenant, project: LocalProject
) -> None:
    made = article_setup(tenant, "acme-local")
    tenant.m2m_client("another assigner", ["create:organization_members"])
    result = adopt(tenant, project)
    assert result.returncode == 2
    assert "several applications" in result.stderr
    assert "--client-id" in result.stderr
    assert not (project.directory / ".adopt" / "local.json").exists()
    chosen = adopt(tenant, project, "--json", "--client-id", made["client_id"])
    assert chosen.returncode == 0, chosen.stderr
    assert any(made["client_id"] in line for line in json.loads(chosen.stdout)["found"])


def test_an_application_field_the_provider_cannot_clear_stops_adoption(
    tenant: LocalTenant, project: LocalProject
) -> None:
    made = article_setup(tenant, "acme-local")
    logo = {"logo_uri": "https://static.example.com/assigner.png"}
    tenant.call("PATCH", f"/api/v2/clients/{made['client_id']}", logo)
    result = adopt(tenant, project)
    assert result.returncode == 2
    assert "has logo_uri set" in result.stderr
    assert "clear it on the application" in result.stderr
    assert not (project.directory / ".adopt" / "local.json").exists()


def test_branding_the_stack_does_not_declare_stops_adoption(
    tenant: LocalTenant, project: LocalProject
) -> None:
    article_setup(tenant, "acme-local")
    config = project.config
    del config["auth0-org-assignment:organization"]["branding"]
    project.stack_file.write_text(yaml.safe_dump({"config": config}), encoding="utf-8")
    result = adopt(tenant, project)
    assert result.returncode == 2
    assert f"'acme-local' has branding (logo_url {LOGO_URL})" in result.stderr
    assert not (project.directory / ".adopt" / "local.json").exists()


def test_an_unknown_id_is_named(tenant: LocalTenant, project: LocalProject) -> None:
    result = adopt(tenant, project, "--organization-id", "org_doesnotexist0")
    assert result.returncode == 2
    assert "--organization-id org_doesnotexist0: no such organization" in result.stderr


def test_an_empty_tenant_means_the_stack_creates_everything(
    tenant: LocalTenant, project: LocalProject
) -> None:
    result = adopt(tenant, project, "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["found"] == []
    assert found["changes"] == []
    assert len(found["created"]) == 6


def test_missing_credentials_are_named(project: LocalProject) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AUTH0_ADOPT")}
    result = run(command_line("adopt", "local", project.directory), environment)
    assert result.returncode == 2
    assert "AUTH0_ADOPT_CLIENT_ID and AUTH0_ADOPT_CLIENT_SECRET" in result.stderr


def test_with_several_organizations_each_is_found_by_name_or_created(
    tenant: LocalTenant, project: LocalProject
) -> None:
    made = article_setup(tenant, "acme-local")
    config = project.config
    del config["auth0-org-assignment:organization"], config["auth0-org-assignment:connections"]
    config["auth0-org-assignment:organizations"] = [
        {
            "name": "acme-local",
            "displayName": "Acme",
            "connections": ["Username-Password-Authentication", "google-oauth2"],
            "emailDomains": ["example.com"],
            "branding": {"logoUrl": LOGO_URL},
        },
        {
            "name": "beta",
            "displayName": "Beta",
            "connections": ["google-oauth2"],
            "emailDomains": ["beta.example"],
        },
    ]
    project.stack_file.write_text(yaml.safe_dump({"config": config}), encoding="utf-8")
    result = adopt(tenant, project, "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    written = json.loads((project.directory / ".adopt" / "local.json").read_text())
    names = {entry["name"] for entry in written["resources"]}
    assert "org-assignment-organization-acme-local" in names
    assert "org-assignment-connection-acme-local-google-oauth2" in names
    assert not any("beta" in name for name in names)
    assert any(
        "organization beta (org-assignment-organization-beta)" in c for c in found["created"]
    )
    assert any(made["organization_id"] in line for line in found["found"])
    assert not [n for n in found["notes"] if "is enabled on" in n]


def test_an_unconfigured_connection_with_auto_membership_is_refused(
    tenant: LocalTenant, project: LocalProject
) -> None:
    """A hand-made organization with another connection enabled with Auth0's auto-membership
    would go on admitting whoever logs in to it through that connection, whatever the rule
    says, and the stack would not manage it: adopt refuses, naming it."""
    made = article_setup(tenant, "acme-by-hand")
    google = next(
        c["id"] for c in tenant.call("GET", "/api/v2/connections") if c["name"] == "google-oauth2"
    )
    tenant.call(
        "PATCH",
        f"/api/v2/organizations/{made['organization_id']}/enabled_connections/{google}",
        {"assign_membership_on_login": True},
    )
    result = adopt(tenant, project, "--json", "--organization-id", made["organization_id"])
    assert result.returncode != 0
    assert "google-oauth2: enabled on acme-by-hand with auto-membership" in result.stderr
    assert "Turn auto-membership off on it in the tenant" in result.stderr


def test_a_connection_with_organization_sign_up_is_refused_when_the_stack_turns_auto_membership_off(
    tenant: LocalTenant, project: LocalProject
) -> None:
    """Auth0 allows sign-up through an organization's database connection only with
    auto-membership; the stack turns auto-membership off, so its update of that connection
    would be refused: adopt says so first, naming the connection, and writes nothing."""
    made = article_setup(tenant, "acme-by-hand")
    database = next(
        c["id"]
        for c in tenant.call("GET", "/api/v2/connections")
        if c["name"] == "Username-Password-Authentication"
    )
    path = f"/api/v2/organizations/{made['organization_id']}/enabled_connections/{database}"
    tenant.call("PATCH", path, {"assign_membership_on_login": True, "is_signup_enabled": True})
    result = adopt(tenant, project, "--json", "--organization-id", made["organization_id"])
    assert result.returncode != 0
    assert (
        "Username-Password-Authentication: enabled on acme-by-hand with organization sign-up"
        in (result.stderr)
    )
    assert not (project.directory / ".adopt" / "local.json").exists()
