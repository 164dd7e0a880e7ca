"""An organization anyone can join: Auth0's auto-membership on a database connection that
allows signups."""

import pulumi_auth0 as auth0

connection = auth0.Connection(
    "open-signups",
    name="open-signups",
    strategy="auth0",
    options=auth0.ConnectionOptionsArgs(disable_signup=False),
)
organization = auth0.Organization("community", name="community", display_name="Community")
auth0.OrganizationConnection(
    "community-open-signups",
    organization_id=organization.id,
    connection_id=connection.id,
    assign_membership_on_login=True,
)
