"""What the pull-request preview's credentials reach (credentials.PULL_REQUEST): against a local
tenant holding every kind of secret a real one does, every endpoint their scopes allow answers
nothing secret, and none of them can change the tenant.

The endpoints are the local tenant's route table, so a route added there is covered here. The
pull-request preview's own requests are checked with the real engine in
tests/test_preview_lifecycle.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from auth0_org_assignment import credentials
from devtools import ROOT
from devtools.localtenant.routes import Route
from devtools.localtenant.tenant import AREAS
from devtools.localtenant.testing import HttpsApi, LocalTenant, TenantError

PREVIEW = frozenset(credentials.PULL_REQUEST)
SECRET_KEYS = {
    "client_secret",
    "signing_keys",
    "signing_key",
    "private_key",
    "pem",
    "key",
    "secrets",
    "app_secret",
    "options",
}
"""Fields that hold a secret, or (``options``, ``secrets``) the objects that do."""
QUERIES = ("", "?fields=options,client_secret&include_fields=true", "?include_totals=true")
"""Each GET asked as is, asking for the secret fields by name, and paged."""


def management_routes() -> list[Route]:
    return [route for area in AREAS for route in area.ROUTES if route.management]


def allowed(route: Route) -> bool:
    """Whether a token with the preview's scopes passes the route's scope check."""
    return bool(PREVIEW & set(route.scopes))


@pytest.fixture(scope="module")
def tenant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTenant]:
    with LocalTenant.spawn(tmp_path_factory.mktemp("preview") / "state.json") as process:
        process.rate_limit_tier("unlimited")  # every endpoint, three ways, in a few seconds
        yield process


@pytest.fixture(scope="module")
def secrets(tenant: LocalTenant) -> set[str]:
    """A tenant as a real one is: social and enterprise connections with client secrets, an
    application with its secret, an Action with secrets, roles, an organization. Returns every
    secret value in it."""
    found = {tenant.admin_credentials["client_secret"]}
    google = tenant.call("GET", "/api/v2/connections?name=google-oauth2")[0]
    tenant.call(
        "PATCH",
        f"/api/v2/connections/{google['id']}",
        {"options": {**google["options"], "client_id": "g", "client_secret": "google-secret-1"}},
    )
    found.add("google-secret-1")
    for name, strategy, options in (
        ("partner-oidc", "oidc", {"issuer": "https://idp.partner.example/"}),
        ("acme-azure", "waad", {"tenant_domain": "acme.example", "waad_common_endpoint": False}),
        ("acme-okta", "okta", {"domain": "acme.okta.example"}),
    ):
        secret = f"{name}-client-secret"
        body = {"client_id": name, "client_secret": secret, **options}
        tenant.call(
            "POST", "/api/v2/connections", {"name": name, "strategy": strategy, "options": body}
        )
        found.add(secret)
    found.add(tenant.m2m_client("another team's job", ["read:users"])["client_secret"])
    tenant.deploy_action(
        "with-secrets",
        "exports.onExecutePostLogin = async () => {};",
        runtime="node22",
        secrets=[{"name": "API_KEY", "value": "action-secret-value-1"}],
    )
    found.add("action-secret-value-1")
    role = tenant.create_role("auditor")
    organization = tenant.create_organization("acme", "Acme", [google["id"]])
    assert role["id"]
    assert organization["id"]
    return found


@pytest.fixture(scope="module")
def preview(tenant: LocalTenant) -> HttpsApi:
    return tenant.https_api(tenant.m2m_client("pull-request preview", sorted(PREVIEW)))


def paths(tenant: LocalTenant, route: Route) -> list[str]:
    """The route's path for every record the admin sees where it takes an id."""
    template = route.pattern.pattern.removeprefix("^").removesuffix("$")
    params = re.findall(r"\(\?P<(\w+)>\[\^/\]\+\)", template)
    if not params:
        return [template.replace("\\", "")]
    assert params == ["id"], f"{route.name}: fill its parameters {params} here"
    collection = template.split("/(?P<id>")[0]
    records = tenant.call("GET", collection)
    assert records, f"{route.name}: the tenant has no {collection} to ask about"
    return [re.sub(r"\(\?P<id>\[\^/\]\+\)", record["id"], template) for record in records]


def secret_fields(value: Any, where: str = "") -> list[str]:
    """Where in an answer a secret-holding field is."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in SECRET_KEYS:
                found.append(f"{where}.{key}")
            found += secret_fields(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += secret_fields(item, f"{where}[{index}]")
    return found


def answers(tenant: LocalTenant, api: HttpsApi) -> dict[str, Any]:
    """What ``api`` gets from every GET the preview's scopes allow, by request."""
    seen = {}
    for route in management_routes():
        if route.method == "GET" and allowed(route):
            for path in paths(tenant, route):
                for query in QUERIES:
                    seen[path + query] = api.call("GET", path + query)
    return seen


def test_the_preview_credentials_change_nothing_and_reach_only_reads() -> None:
    writes = [f"{r.method} {r.name}" for r in management_routes() if r.method != "GET"]
    assert writes
    assert [write for write in writes if allowed(_route(write))] == []
    reads = sorted(r.name for r in management_routes() if r.method == "GET" and allowed(r))
    assert reads == [
        "connections.clients.get",
        "connections.get",
        "connections.list",
        "roles.get",
        "roles.list",
        "roles.permissions.list",
    ]


def _route(method_and_name: str) -> Route:
    method, name = method_and_name.split(" ")
    (route,) = [r for r in management_routes() if r.method == method and r.name == name]
    return route


def test_every_endpoint_the_preview_may_read_answers_nothing_secret(
    tenant: LocalTenant, secrets: set[str], preview: HttpsApi
) -> None:
    seen = answers(tenant, preview)
    assert len(seen) >= 6 * len(QUERIES)
    for request, answer in seen.items():
        assert secret_fields(answer) == [], request
        text = json.dumps(answer)
        assert [secret for secret in secrets if secret in text] == [], request
    # What they look up is still there: each connection's id, name and strategy.
    listed = {c["name"]: c["strategy"] for c in seen["/api/v2/connections"]}
    assert listed["partner-oidc"] == "oidc"


def test_every_write_is_refused_to_the_preview(tenant: LocalTenant, preview: HttpsApi) -> None:
    google = tenant.call("GET", "/api/v2/connections?name=google-oauth2")[0]
    attempts = [
        ("PATCH", f"/api/v2/connections/{google['id']}", {"options": {}}),
        ("POST", "/api/v2/connections", {"name": "mine", "strategy": "auth0"}),
        ("DELETE", f"/api/v2/connections/{google['id']}", None),
        ("POST", "/api/v2/roles", {"name": "owner"}),
        ("POST", "/api/v2/clients", {"name": "mine"}),
    ]
    for method, path, body in attempts:
        with pytest.raises(TenantError) as refused:
            preview.call(method, path, body)
        assert refused.value.status == 403, (method, path)


def test_a_tenant_before_the_options_migration_hands_them_the_secrets(
    tenant: LocalTenant, secrets: set[str], preview: HttpsApi
) -> None:
    # Why the stack refuses to run on such a tenant (lookups.refuse_connection_options).
    tenant.allow_connections_management_without_options_scopes()
    try:
        seen = answers(tenant, preview)
    finally:
        tenant.allow_connections_management_without_options_scopes(False)
    text = json.dumps(seen)
    assert "partner-oidc-client-secret" in text
    assert "google-secret-1" in text


def test_the_secret_scan_sees_a_secret_field() -> None:
    assert secret_fields([{"options": {"client_secret": "x"}}]) == [
        "[0].options",
        "[0].options.client_secret",
    ]
    assert secret_fields({"name": "a", "id": "b"}) == []


def test_the_security_page_names_the_preview_environments_scopes() -> None:
    page = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    (row,) = [line for line in page.splitlines() if line.startswith("| `dev-preview`")]
    assert set(re.findall(r"`([a-z_]+:[a-z_]+)`", row)) == PREVIEW
