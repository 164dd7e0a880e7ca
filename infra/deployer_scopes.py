"""The Management API scopes Pulumi's own credentials need, with the reason for each.

One list for the README's tables, the lifecycle test's deployer and reader, and anyone setting
up a tenant. Checked against the provider: terraform-provider-auth0 calls exactly these.
"""

from __future__ import annotations

DEPLOY: dict[str, str] = {
    "read:clients": "read the Action's M2M application back after each change",
    "create:clients": "create that application",
    "update:clients": "set its authentication method (client_secret_post)",
    "delete:clients": "delete it on destroy or replacement",
    "read:client_keys": (
        "read its generated secret, which becomes the Action's CLIENT_SECRET (without it the "
        "provider reads an empty secret and the program stops, naming this scope)"
    ),
    "read:client_credentials": (
        "list the application's credentials, which the provider does when it deletes "
        "ClientCredentials (destroy, or replacing the application)"
    ),
    "read:client_grants": "read the application's grant on the Management API",
    "create:client_grants": "create that grant",
    "update:client_grants": "change its scopes when the Action's calls change",
    "delete:client_grants": "delete it",
    "read:organizations": "read the Organization",
    "create:organizations": "create it",
    "update:organizations": "change its display name, branding or metadata",
    "delete:organizations": "delete it",
    "read:organization_connections": "read the connections enabled on it",
    "create:organization_connections": "enable a connection on it",
    "update:organization_connections": "change assignMembershipOnLogin",
    "delete:organization_connections": "disable a connection on it",
    "read:connections": "look each configured connection up by name",
    "read:roles": "look each configured role up by name (needed only when roles are configured)",
    "read:actions": "read the Action, its deployed version and the post-login bindings",
    "create:actions": "create and deploy the Action",
    "update:actions": "change it, and bind it to the post-login trigger",
    "delete:actions": "delete it",
}
"""What ``pulumi up`` and ``pulumi destroy`` need."""

DRIFT: dict[str, str] = {
    "read:clients": "refresh the M2M application",
    "read:client_keys": (
        "refresh re-reads the M2M application's secret, which the program passes to the "
        "Action; these credentials can therefore read every application secret in the tenant"
    ),
    "read:client_credentials": "refresh ClientCredentials",
    "read:client_grants": "refresh the grant",
    "read:organizations": "refresh the Organization",
    "read:organization_connections": "refresh the enabled connections",
    "read:connections": "look the configured connections up by name",
    "read:roles": "look the configured roles up by name",
    "read:actions": "refresh the Action and the post-login binding",
}
"""What ``pulumi preview --refresh`` needs: the drift check."""

PULL_REQUEST: dict[str, str] = {
    "read:connections": "look the configured connections up by name",
    "read:roles": "look the configured roles up by name (only when roles are configured)",
}
"""What ``pulumi preview`` without refresh needs: pull-request previews. It compares the code
with the state, not with the tenant, so it reads no application and no client key; drift is the
drift check's job."""

BACKFILL: dict[str, str] = {
    "read:users": "export the users of each configured connection (and read the export job)",
    "read:connections": "find each configured connection's id",
    "read:organizations": "find each organization's id by name",
    "create:organization_members": "add the users who match to their organizations",
    "update:users": "set the marker the Action sets, so their next login makes no request",
    "read:roles": "find each configured role's id (only when roles are configured)",
    "create:organization_member_roles": "give the configured roles (only with roles)",
}
"""What ``python -m infra.backfill`` needs: its own credentials, neither the deployer's nor the
Action's."""

RECONCILE: dict[str, str] = {
    "read:organizations": "find each organization's id by name",
    "read:organization_members": "list each organization's members",
    "read:users": "export every user (and read a member the export does not hold)",
    "delete:organization_members": "remove the members this stack added who no longer match",
    "update:users": "clear their marker for the organization they leave",
}
"""What ``python -m infra.reconcile`` needs: its own credentials. ``--dry-run`` needs only the
read scopes."""

ADOPT: dict[str, str] = {
    "read:organizations": "find the organization by name or id",
    "read:organization_connections": "list the connections enabled on it",
    "read:client_grants": "find the application granted create:organization_members, and its grant",
    "read:clients": "read that application (its name, type and authentication method)",
    "read:actions": "find the post-login Action, its secrets' names and its binding",
}
"""What ``python -m infra.adopt`` needs: read-only; it never reads a client secret."""
