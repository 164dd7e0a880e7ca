"""Connections: what a new tenant's are (clients.md D8)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from devtools.localtenant.scopes import known_scopes
from devtools.localtenant.testing import LocalTenant, TenantError


def test_the_seeded_google_connection_has_googles_options(tenant: LocalTenant) -> None:
    [google] = tenant.call("GET", "/api/v2/connections?name=google-oauth2")
    assert google["options"] == {"email": True, "scope": ["email", "profile"], "profile": True}


# --- connection options scopes -----------------------------------------------------------------
# https://auth0.com/docs/troubleshoot/product-lifecycle/deprecations-and-migrations/migrate-connection-options-scope

OIDC_OPTIONS = {
    "type": "back_channel",
    "issuer": "https://login.partner.example/",
    "client_id": "partner-client",
    "client_secret": "partner-client-secret",
}


def _oidc(tenant: LocalTenant) -> dict[str, Any]:
    body = {"name": "partner-oidc", "strategy": "oidc", "options": OIDC_OPTIONS}
    connection: dict[str, Any] = tenant.call("POST", "/api/v2/connections", body)
    return connection


def test_the_options_scopes_are_known_and_grantable(tenant: LocalTenant) -> None:
    assert {"read:connections_options", "update:connections_options"} <= set(known_scopes())
    tenant.m2m_client("options reader", ["read:connections", "read:connections_options"])


def test_options_are_answered_only_to_read_connections_options(tenant: LocalTenant) -> None:
    connection = _oidc(tenant)
    lookup = tenant.https_api(tenant.m2m_client("lookup", ["read:connections"]))
    reader = tenant.https_api(
        tenant.m2m_client("reader", ["read:connections", "read:connections_options"])
    )
    one = f"/api/v2/connections/{connection['id']}"
    for path in ("/api/v2/connections", one, "/api/v2/connections?name=partner-oidc"):
        answer = lookup.call("GET", path)
        for record in answer if isinstance(answer, list) else [answer]:
            assert "options" not in record, path
            assert record["strategy"], path
    assert reader.call("GET", one)["options"]["client_secret"] == "partner-client-secret"
    # Asking for options by name does not get them either.
    assert "options" not in lookup.call("GET", f"{one}?fields=options,name&include_fields=true")


def test_updating_options_needs_update_connections_options(tenant: LocalTenant) -> None:
    connection = _oidc(tenant)
    one = f"/api/v2/connections/{connection['id']}"
    writer = tenant.https_api(tenant.m2m_client("writer", ["update:connections"]))
    with pytest.raises(TenantError) as refused:
        writer.call("PATCH", one, {"options": {**OIDC_OPTIONS, "issuer": "https://evil.example/"}})
    assert refused.value.status == 403
    assert refused.value.body["message"] == (
        "Insufficient scope, expected any of: update:connections_options"
    )
    assert tenant.call("GET", one)["options"]["issuer"] == "https://login.partner.example/"
    # Without options in the body the connection scope is enough; the answer holds no options.
    answer = writer.call("PATCH", one, {"display_name": "Partner"})
    assert answer["display_name"] == "Partner"
    assert "options" not in answer
    options_writer = tenant.https_api(
        tenant.m2m_client("options writer", ["update:connections", "update:connections_options"])
    )
    changed = {**OIDC_OPTIONS, "issuer": "https://login2.partner.example/"}
    assert "options" not in options_writer.call("PATCH", one, {"options": changed})
    assert tenant.call("GET", one)["options"]["issuer"] == "https://login2.partner.example/"


def test_before_the_migration_the_connection_scopes_read_and_write_options(
    tenant: LocalTenant,
) -> None:
    connection = _oidc(tenant)
    one = f"/api/v2/connections/{connection['id']}"
    lookup = tenant.https_api(tenant.m2m_client("lookup", ["read:connections"]))
    writer = tenant.https_api(tenant.m2m_client("writer", ["update:connections"]))
    tenant.allow_connections_management_without_options_scopes()
    assert lookup.call("GET", one)["options"]["client_secret"] == "partner-client-secret"
    listed = lookup.call("GET", "/api/v2/connections?name=partner-oidc")[0]
    assert listed["options"]["client_secret"] == "partner-client-secret"
    writer.call("PATCH", one, {"options": {**OIDC_OPTIONS, "issuer": "https://other.example/"}})
    tenant.allow_connections_management_without_options_scopes(False)
    assert "options" not in lookup.call("GET", one)


def test_an_older_state_files_admin_gains_the_new_scopes(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with LocalTenant.start(state) as running:
        admin = running.admin_credentials["client_id"]
    document = json.loads(state.read_text())
    (grant,) = [g for g in document["client_grants"].values() if g["client_id"] == admin]
    grant["scope"] = [s for s in grant["scope"] if not s.endswith("connections_options")]
    state.write_text(json.dumps(document))
    with LocalTenant.spawn(state) as restarted:
        connection = _oidc(restarted)
        one = f"/api/v2/connections/{connection['id']}"
        assert restarted.call("GET", one)["options"]["client_secret"] == "partner-client-secret"


def _new_clients(tenant: LocalTenant, count: int) -> list[str]:
    """The ids of ``count`` new applications."""
    return [
        tenant.call("POST", "/api/v2/clients", {"name": f"App {n}", "app_type": "spa"})["client_id"]
        for n in range(count)
    ]


def test_a_connections_clients_are_listed_by_checkpoint(tmp_path: Path) -> None:
    """Get enabled clients for a connection
    (https://auth0.com/docs/api/management/v2/connections/get-connection-clients): checkpoint
    pagination, ``take`` "Defaults to 50" (1 to 1000), and "If there are more results, a next
    value is included in the response" whether or not ``take`` was sent."""
    with LocalTenant.start(tmp_path / "state.json") as tenant:
        connection = tenant.ensure_connection("db")
        ids = _new_clients(tenant, 60)
        path = f"/api/v2/connections/{connection['id']}/clients"
        tenant.call("PATCH", f"/api/v2/connections/{connection['id']}", {"enabled_clients": ids})
        first = tenant.call("GET", path)
        assert len(first["clients"]) == 50
        rest = tenant.call("GET", f"{path}?from={quote(first['next'])}")
        assert [c["client_id"] for c in first["clients"] + rest["clients"]] == ids
        assert len(tenant.call("GET", f"{path}?take=1000")["clients"]) == 60


def test_a_connections_clients_change_fifty_at_a_time(tmp_path: Path) -> None:
    """Update enabled clients for a connection: "the limit per PATCH request is 50 clients"
    (https://auth0.com/docs/api/management/v2/connections/patch-clients,
    UpdateEnabledClientConnectionsRequestContentItem.client_id)."""
    with LocalTenant.start(tmp_path / "state.json") as tenant:
        connection = tenant.ensure_connection("db")
        ids = _new_clients(tenant, 51)
        path = f"/api/v2/connections/{connection['id']}/clients"
        changes = [{"client_id": client_id, "status": True} for client_id in ids]
        with pytest.raises(TenantError) as refused:
            tenant.call("PATCH", path, changes)
        assert refused.value.status == 400
        assert tenant.call("GET", path)["clients"] == []
        tenant.call("PATCH", path, changes[:50])
        assert len(tenant.call("GET", path)["clients"]) == 50
