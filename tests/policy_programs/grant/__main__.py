"""A Management API grant with a scope its client's allowed list leaves out (read:users)."""

import os

import pulumi_auth0 as auth0

client = auth0.Client(
    "reporting-client",
    name="reporting",
    app_type="non_interactive",
    grant_types=["client_credentials"],
)
auth0.ClientGrant(
    "reporting-grant",
    client_id=client.client_id,
    audience=f"https://{os.environ['AUTH0_DOMAIN']}/api/v2/",
    scopes=["create:organization_members", "read:users"],
)
