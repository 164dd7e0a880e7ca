"""The pull-request preview with the real engine and provider (``scripts/pull-request-preview``),
on a local tenant holding connections' client secrets: it holds no Auth0 credential and sends
the tenant no request, even with the deployer's credentials in its environment; a connection
the branch adds shows as looked up at deploy; and on a tenant that still answers connection
options to ``read:connections``, the deploy's own preview fails naming the toggle to turn off,
showing no secret.

Needs ``scripts/engine``; skipped without it, except under CI.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from auth0_org_assignment import credentials
from auth0_org_assignment.connection_options import OPTIONS_TOGGLE
from devtools.localstack.local_stack import STACK, LocalProject
from devtools.localtenant.testing import LocalTenant
from tests.support.engine import require_engine

pytestmark = pytest.mark.lifecycle

require_engine()

GOOGLE_SECRET = "google-client-secret-of-the-tenant"
ENTERPRISE: dict[str, tuple[str, dict[str, Any]]] = {
    "partner-oidc": ("oidc", {"issuer": "https://idp.partner.example/", "type": "back_channel"}),
    "acme-azure": ("waad", {"tenant_domain": "acme.example", "waad_common_endpoint": False}),
    "acme-okta": ("okta", {"domain": "acme.okta.example"}),
    "acme-saml": ("samlp", {"signInEndpoint": "https://sso.acme.example/saml"}),
    "github": ("github", {}),
}
"""Connections of each kind the provider reads options its own way, each with a client secret."""
SECRETS = [GOOGLE_SECRET, *(f"{name}-client-secret" for name in ENTERPRISE)]
ADDED = "added-by-the-branch"
"""A connection the tenant has and the last deploy did not look up: the branch adds it."""


@pytest.fixture(scope="module")
def tenant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTenant]:
    with LocalTenant.spawn(tmp_path_factory.mktemp("tenant") / "state.json") as process:
        google = process.call("GET", "/api/v2/connections?name=google-oauth2")[0]
        options = {**google["options"], "client_id": "google", "client_secret": GOOGLE_SECRET}
        process.call("PATCH", f"/api/v2/connections/{google['id']}", {"options": options})
        for name, (strategy, extra) in ENTERPRISE.items():
            secret = {"client_id": name, "client_secret": f"{name}-client-secret"}
            body = {"name": name, "strategy": strategy, "options": {**extra, **secret}}
            process.call("POST", "/api/v2/connections", body)
        process.call("POST", "/api/v2/connections", {"name": ADDED, "strategy": "auth0"})
        yield process


@pytest.fixture(scope="module")
def previews(tenant: LocalTenant, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The local stack deployed, then previewed as a pull request does, on a migrated tenant
    and on one with the toggle still on; then a branch that adds a connection."""
    project = LocalProject(tmp_path_factory.mktemp("previews"), tenant)
    project.init(tenant.m2m_client("pulumi deployer", sorted(credentials.DEPLOY)))
    # A database, two social and four enterprise connections: the provider reads each
    # strategy's options its own way, and none answered without options may read as answered.
    database = project.config["auth0-org-assignment:connections"][0]
    connections = [database, "google-oauth2", *ENTERPRISE]
    project.write_config({"auth0-org-assignment:connections": connections})
    seen: dict[str, Any] = {"up": project.pulumi("up", "--yes", "--skip-preview")}
    seen["lookups"] = project.outputs()["lookups"]
    # The deployer's credentials stay in the environment: the script must not use them.
    tenant.call("DELETE", "/localtenant/calls")
    seen["preview"] = project.script("pull-request-preview", STACK, "--expect-no-changes")
    seen["calls"] = tenant.calls() + tenant.not_emulated()
    tenant.allow_connections_management_without_options_scopes()
    try:
        tenant.call("DELETE", "/localtenant/calls")
        seen["preview_before_migration"] = project.script("pull-request-preview", STACK)
        seen["calls_before_migration"] = tenant.calls() + tenant.not_emulated()
        seen["deploy_before_migration"] = project.pulumi("preview", check=False)
    finally:
        tenant.allow_connections_management_without_options_scopes(False)
    project.write_config({"auth0-org-assignment:connections": [*connections, ADDED]})
    tenant.call("DELETE", "/localtenant/calls")
    seen["branch_adds"] = project.script("pull-request-preview", STACK, "--diff")
    seen["calls_branch_adds"] = tenant.calls() + tenant.not_emulated()
    return seen


def test_the_deploy_exports_the_ids_it_looked_up(previews: dict[str, Any]) -> None:
    assert previews["up"].returncode == 0, previews["up"].output
    assert set(previews["lookups"]["connections"]) == {
        "Username-Password-Authentication",
        "google-oauth2",
        *ENTERPRISE,
    }
    assert all(i.startswith("con_") for i in previews["lookups"]["connections"].values())


def test_the_pull_request_preview_sends_the_tenant_nothing(previews: dict[str, Any]) -> None:
    run = previews["preview"]
    assert run.returncode == 0, run.output
    assert previews["calls"] == {}
    assert [secret for secret in SECRETS if secret in run.output] == []
    # Not even where the tenant would answer connection options to any reader.
    assert previews["preview_before_migration"].returncode == 0
    assert previews["calls_before_migration"] == {}


def test_a_connection_the_branch_adds_shows_as_looked_up_at_deploy(
    previews: dict[str, Any],
) -> None:
    run = previews["branch_adds"]
    assert run.returncode == 0, run.output
    assert previews["calls_branch_adds"] == {}
    assert f"(id of connection {ADDED}, looked up at deploy)" in run.output
    assert f"the last deploy did not look up connection '{ADDED}'" in run.output


def test_a_tenant_answering_connection_options_fails_the_deploy_naming_the_toggle(
    previews: dict[str, Any],
) -> None:
    run = previews["deploy_before_migration"]
    assert run.returncode != 0
    assert f'turn off "{OPTIONS_TOGGLE}"' in run.output, run.output
    assert "Tenant Settings > Advanced > Migrations" in run.output
    assert [secret for secret in SECRETS if secret in run.output] == []
