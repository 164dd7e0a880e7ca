"""The support article's setup, made by hand through the Management API as the dashboard does."""

from __future__ import annotations

import time
from typing import Any

from localtenant.client import AdminClient

ARTICLE_SCOPES = [
    "create:organization_members",
    "read:organizations",
    "read:organization_connections",
]
DATABASE = "Username-Password-Authentication"


LOGO_URL = "https://static.example.com/acme.png"


def article_setup(admin: AdminClient, organization_name: str) -> dict[str, Any]:
    """An organization with two connections enabled, an M2M application with the article's
    grant, and its Action (auth0@4.2.0, four secrets) deployed and bound after another Action."""
    organization = admin.call(
        "POST",
        "/api/v2/organizations",
        {
            "name": organization_name,
            "display_name": "Acme",
            # Branding set by hand: adoption asks the stack to declare it.
            "branding": {"logo_url": LOGO_URL},
        },
    )
    connections = {c["name"]: c["id"] for c in admin.call("GET", "/api/v2/connections")}
    for name in (DATABASE, "google-oauth2"):
        admin.call(
            "POST",
            f"/api/v2/organizations/{organization['id']}/enabled_connections",
            {"connection_id": connections[name], "assign_membership_on_login": False},
        )
    client = admin.call(
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
    grant = admin.call(
        "POST",
        "/api/v2/client-grants",
        {
            "client_id": client["client_id"],
            "audience": f"https://{admin.domain}/api/v2/",
            "scope": ARTICLE_SCOPES,
        },
    )
    member = admin.call(
        "POST",
        "/api/v2/users",
        {"connection": DATABASE, "email": "early@example.com", "email_verified": True},
    )
    admin.call(
        "POST",
        f"/api/v2/organizations/{organization['id']}/members",
        {"members": [member["user_id"]]},
    )
    other = _deployed_action(admin, "Add claims", [])
    action = _deployed_action(
        admin,
        "Assign User to Organization",
        [
            {"name": "TENANT_DOMAIN", "value": admin.domain},
            {"name": "CLIENT_ID", "value": client["client_id"]},
            {"name": "CLIENT_SECRET", "value": client["client_secret"]},
            {"name": "ORGANIZATION_ID", "value": organization["id"]},
        ],
        runtime="node18",
        dependencies=[{"name": "auth0", "version": "4.2.0"}],
    )
    admin.call(
        "PATCH",
        "/api/v2/actions/triggers/post-login/bindings",
        {
            "bindings": [
                {"ref": {"type": "action_id", "value": other}},
                {"ref": {"type": "action_id", "value": action}},
            ]
        },
    )
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


def _deployed_action(
    admin: AdminClient, name: str, secrets: list[dict[str, str]], **extra: Any
) -> str:
    action = admin.call(
        "POST",
        "/api/v2/actions/actions",
        {
            "name": name,
            "supported_triggers": [{"id": "post-login", "version": "v3"}],
            "code": "exports.onExecutePostLogin = async (event, api) => {};",
            "secrets": secrets,
            **extra,
        },
    )
    for _ in range(50):
        try:
            admin.call("POST", f"/api/v2/actions/actions/{action['id']}/deploy")
            return str(action["id"])
        except RuntimeError:  # still building
            time.sleep(0.1)
    raise RuntimeError(f"Action {name} never built")
