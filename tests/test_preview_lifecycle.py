"""The pull-request preview with the real engine and provider, on a local tenant holding a
connection's client secret: with the preview's own credentials (credentials.PULL_REQUEST) it
makes only reads that answer no secret, and on a tenant that still answers connection options
to ``read:connections`` it fails naming the toggle to turn off, showing no secret.

Needs ``scripts/engine``; skipped without it, except under CI.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from auth0_org_assignment import credentials
from auth0_org_assignment.lookups import OPTIONS_TOGGLE
from devtools.localstack.local_stack import LocalProject, engine_ready
from devtools.localtenant.route_names import RouteName
from devtools.localtenant.tenant import AREAS
from devtools.localtenant.testing import LocalTenant

pytestmark = pytest.mark.lifecycle

if not engine_ready():
    if os.environ.get("CI"):
        raise RuntimeError("no Pulumi engine under .engine/: run scripts/engine before the tests")
    pytest.skip("no Pulumi engine: run scripts/engine (scripts/test does)", allow_module_level=True)

GOOGLE_SECRET = "google-client-secret-of-the-tenant"


@pytest.fixture(scope="module")
def tenant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTenant]:
    with LocalTenant.spawn(tmp_path_factory.mktemp("tenant") / "state.json") as process:
        google = process.call("GET", "/api/v2/connections?name=google-oauth2")[0]
        options = {**google["options"], "client_id": "google", "client_secret": GOOGLE_SECRET}
        process.call("PATCH", f"/api/v2/connections/{google['id']}", {"options": options})
        yield process


@pytest.fixture(scope="module")
def previews(tenant: LocalTenant, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The local stack deployed, then previewed with the pull request's credentials on a
    migrated tenant, and on one with the toggle still on."""
    project = LocalProject(tmp_path_factory.mktemp("previews"), tenant)
    project.init(tenant.m2m_client("pulumi deployer", sorted(credentials.DEPLOY)))
    # A database and a social connection: the provider reads each strategy's options its way.
    database = project.config["auth0-org-assignment:connections"][0]
    project.write_config({"auth0-org-assignment:connections": [database, "google-oauth2"]})
    seen: dict[str, Any] = {"up": project.pulumi("up", "--yes", "--skip-preview")}
    project.use_credentials(
        tenant.m2m_client("pull request preview", sorted(credentials.PULL_REQUEST))
    )
    tenant.call("DELETE", "/localtenant/calls")
    seen["preview"] = project.pulumi("preview", "--expect-no-changes", check=False)
    seen["calls"] = tenant.calls()
    tenant.allow_connections_management_without_options_scopes()
    try:
        seen["before_migration"] = project.pulumi("preview", check=False)
    finally:
        tenant.allow_connections_management_without_options_scopes(False)
    return seen


def test_the_pull_request_preview_makes_only_reads_its_scopes_allow(
    previews: dict[str, Any],
) -> None:
    assert previews["up"].returncode == 0, previews["up"].output
    run = previews["preview"]
    assert run.returncode == 0, run.output
    assert GOOGLE_SECRET not in run.output
    routes = {route.name: route for area in AREAS for route in area.ROUTES}
    called = set(previews["calls"]) - {RouteName.OAUTH_TOKEN}
    assert called, "the preview looked nothing up"
    for name in called:
        assert routes[RouteName(name)].method == "GET", name
        assert set(routes[RouteName(name)].scopes) & set(credentials.PULL_REQUEST), name
    # Those reads answer no secret: tests/test_preview_credentials.py asks every one of them.


def test_a_tenant_answering_connection_options_fails_the_preview_naming_the_toggle(
    previews: dict[str, Any],
) -> None:
    run = previews["before_migration"]
    assert run.returncode != 0
    assert f'turn off "{OPTIONS_TOGGLE}"' in run.output, run.output
    assert "Tenant Settings > Advanced > Migrations" in run.output
    assert GOOGLE_SECRET not in run.output
