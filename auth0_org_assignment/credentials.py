"""The Management API scopes each role's credentials need, with the reason for each.

Pulumi's (``DEPLOY``, ``DRIFT``) are the calls terraform-provider-auth0 makes for the resources
the component declares: checked by the lifecycle tests, which deploy and refresh with exactly
these. A pull request's preview holds no Auth0 credential at all
(``scripts/pull-request-preview``: the ids the last deploy looked up,
``lookups.RECORDED_VARIABLE``). The commands' are derived from the calls each makes
(``commands.*.CALLS``), which their client refuses to go beyond. One list for the
documentation's tables, the tests' credentials, and anyone setting up a tenant.
"""

from __future__ import annotations

from auth0_org_assignment.commands import (
    adopt,
    backfill,
    domains,
    explain,
    reconcile,
    recover,
    snapshot,
)
from auth0_org_assignment.commands.management_client import scopes_of

DEPLOY: dict[str, str] = {
    "read:clients": "read the Action's two M2M applications back after each change",
    "create:clients": "create them",
    "update:clients": "change their name or description",
    "delete:clients": "delete them on destroy or replacement",
    "update:client_keys": (
        "rotate the idle application's secret, which ActionCredential writes into the Action "
        "(never into state), and retire the previous one"
    ),
    "read:client_keys": (
        "read the secret the rotation answers with (without it Auth0 leaves it out, and "
        "ActionCredential stops, naming this scope)"
    ),
    "read:client_credentials": (
        "list an application's credentials, which the provider does when it deletes the "
        "ClientCredentials of a stack deployed before ActionCredential (its first update)"
    ),
    "read:client_grants": "read the applications' grants on the Management API",
    "create:client_grants": "create those grants",
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
    "read:organization_discovery_domains": "read each email domain's discovery domain back",
    "create:organization_discovery_domains": (
        "declare each email domain as a discovery domain, pending: Auth0 names its proof record"
    ),
    "update:organization_discovery_domains": (
        "mark a domain verified when its record is in DNS, pending when it has gone (DomainProof)"
    ),
    "delete:organization_discovery_domains": "remove a domain the configuration no longer lists",
    "read:connections": "look each configured connection up by name",
    "read:roles": "look each configured role up by name (needed only when roles are configured)",
    "read:actions": "read the Action, its deployed version and the post-login bindings",
    "create:actions": "create and deploy the Action (ActionCredential deploys it too)",
    "update:actions": (
        "change it, write its secrets (ActionCredential), and bind it to the post-login trigger"
    ),
    "delete:actions": "delete it",
}
"""What ``pulumi up`` and ``pulumi destroy`` need."""

DRIFT: dict[str, str] = {
    "read:clients": "refresh the two M2M applications (no secret: no read:client_keys)",
    "read:client_grants": "refresh the grants",
    "read:organizations": "refresh the Organization",
    "read:organization_connections": "refresh the enabled connections",
    "read:organization_discovery_domains": "refresh the email domains' discovery domains",
    "read:connections": "look the configured connections up by name",
    "read:roles": "look the configured roles up by name",
    "read:actions": (
        "refresh the Action, the post-login binding, and ActionCredential (the Action's secrets' "
        "names and when they were written, never their values)"
    ),
}
"""What ``pulumi preview --refresh`` needs: the drift check."""

BACKFILL = scopes_of(backfill.CALLS)
"""What ``auth0-org-assignment backfill`` needs: its own credentials, neither the deployer's nor
the Action's."""

RECONCILE = scopes_of(reconcile.CALLS)
"""What ``auth0-org-assignment reconcile`` needs: its own credentials."""

RECONCILE_DRY_RUN = scopes_of(reconcile.DRY_RUN_CALLS)
"""What ``auth0-org-assignment reconcile --dry-run`` needs: reads only."""

ADOPT = scopes_of(adopt.CALLS)
"""What ``auth0-org-assignment adopt`` needs: read-only; it never reads a client secret."""

RECOVER = scopes_of(recover.CALLS)
"""What ``auth0-org-assignment recover`` needs: read-only, what an interrupted ``up`` left."""

EXPLAIN = scopes_of(explain.CALLS)
"""What ``auth0-org-assignment explain`` needs: reads only, users and organizations."""

SNAPSHOT = scopes_of(snapshot.CALLS)
"""What ``auth0-org-assignment snapshot`` needs: reads only, within reconcile's."""

DOMAINS = scopes_of(domains.CALLS)
"""What ``auth0-org-assignment domains`` needs: reads only, the domains' proof records."""
