"""An organization any Microsoft Entra directory's users can join: Auth0's auto-membership on a
multi-tenant Azure AD connection (the common endpoint), whose signups are no one's to close."""

import pulumi_auth0 as auth0

connection = auth0.Connection(
    "partners-azure",
    name="partners-azure",
    strategy="waad",
    options=auth0.ConnectionOptionsArgs(
        client_id="00000000-0000-0000-0000-000000000000",
        tenant_domain="partners.example",
        waad_common_endpoint=True,
    ),
)
organization = auth0.Organization("partners", name="partners", display_name="Partners")
auth0.OrganizationConnection(
    "partners-azure",
    organization_id=organization.id,
    connection_id=connection.id,
    assign_membership_on_login=True,
)
