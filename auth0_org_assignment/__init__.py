"""Puts Auth0 users into Organizations when they log in: one Pulumi component.

    from auth0_org_assignment import OrgAssignment, OrgAssignmentArgs

    OrgAssignment("org-assignment", OrgAssignmentArgs(
        tenant_domain="acme.eu.auth0.com",
        organization={"name": "acme", "display_name": "Acme", "email_domains": ["acme.com"]},
        connections=["Username-Password-Authentication"],
    ))

It declares the Action's M2M application, its credentials and its grant on the Management API,
the organizations and their connections, and the post-login Action bound to the Login flow.
The arguments are validated by the same model as this project's stack configuration, with the
same errors.
"""

from importlib import metadata

from auth0_org_assignment.arguments import (
    ActionOptionsArgs,
    BrandingArgs,
    BrandingColorsArgs,
    OrganizationArgs,
    OrgAssignmentArgs,
)
from auth0_org_assignment.component import OrgAssignment

__version__ = metadata.version("auth0-org-assignment")

__all__ = [
    "ActionOptionsArgs",
    "BrandingArgs",
    "BrandingColorsArgs",
    "OrgAssignment",
    "OrgAssignmentArgs",
    "OrganizationArgs",
    "__version__",
]
