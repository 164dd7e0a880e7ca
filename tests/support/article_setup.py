"""The support article's setup, made by hand through the Management API as the dashboard does."""

from __future__ import annotations

from typing import Any

from devtools.localtenant.testing import DATABASE, LocalTenant

ARTICLE_SCOPES = [
    "create:organization_members",
    "read:organizations",
    "read:organization_connections",
]


LOGO_URL = "https://static.example.com/acme.png"
NO_OP = "exports.onExecutePostLogin = async (event, api) => {};"


def article_setup(tenant: LocalTenant, organization_name: str) -> dict[str, Any]:
    """An organization with two connections enabled, an M2M application with the article's
    grant, and its Action (auth0@4.2.0, four secrets) deployed and bound after another Action."""
    organization = tenant.call(
        "POST",
        "/api/v2/organizations",
        {
            "name": organization_name,
            "display_name": "Acme",
            # Branding set by hand: adoption asks the stack to declare it.
            "branding": {"logo_url": LOGO_URL},
        },
    )
    connections = {c["name"]: c["id"] for c in tenant.call("GET", "/api/v2/connections")}
    for name in (DATABASE, "google-oauth2"):
        tenant.call(
            "POST",
            f"/api/v2/organizations/{organization['id']}/enabled_connections",
            {"connection_id": connections[name], "assign_membership_on_login": False},
        )
    client = tenant.call(
        "POST",
        "/api/v2/clients",
        {
            "name": "Org assignment",
            "app_type": "non_interactive",
            # Set by hand, and not by the stack: the first `up` clears it.
            "client_metadata": {"owner": "identity-team"},
            "grant_types": ["client_credentials"],
        },
    )
    grant = tenant.call(
        "POST",
        "/api/v2/client-grants",
        {
            "client_id": client["client_id"],
            "audience": tenant.management_audience,
            "scope": ARTICLE_SCOPES,
        },
    )
    member = tenant.call(
        "POST",
        "/api/v2/users",
        {"connection": DATABASE, "email": "early@example.com", "email_verified": True},
    )
    tenant.call(
        "POST",
        f"/api/v2/organizations/{organization['id']}/members",
        {"members": [member["user_id"]]},
    )
    other = tenant.deploy_action("Add claims", NO_OP, secrets=[])
    action = tenant.deploy_action(
        "Assign User to Organization",
        NO_OP,
        secrets=[
            {"name": "TENANT_DOMAIN", "value": tenant.domain},
            {"name": "CLIENT_ID", "value": client["client_id"]},
            {"name": "CLIENT_SECRET", "value": client["client_secret"]},
            {"name": "ORGANIZATION_ID", "value": organization["id"]},
        ],
        runtime="node18",
        dependencies=[{"name": "auth0", "version": "4.2.0"}],
    )
    tenant.bind_actions(other, action)
    return {
        "organization_id": organization["id"],
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
        "grant_id": grant["id"],
        "action_id": action,
        "other_action_id": other,
        "member": member["user_id"],
        "logo_url": LOGO_URL,
    }
