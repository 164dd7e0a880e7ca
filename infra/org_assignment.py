"""``OrgAssignment``: the one component that owns the whole organization auto-assignment setup.

Each Auth0 resource the support article has people click by hand is declared here once:
the M2M client and its credentials, its Management API grant, the organization, its enabled
connections, the post-login Action with its secrets, and the Action's binding to the trigger.
"""

from __future__ import annotations

import pulumi
import pulumi_auth0 as auth0

from infra.action_code import TRIGGER, TRIGGER_VERSION, RenderedAction, render_action
from infra.config import OrganizationConfig, StackConfig


class OrgAssignment(pulumi.ComponentResource):
    """Assigns users who log in through the configured connections to one organization."""

    organization_id: pulumi.Output[str]
    m2m_client_id: pulumi.Output[str]
    action_id: pulumi.Output[str]
    action_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: StackConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("auth0-org-assignment:index:OrgAssignment", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        rendered = render_action(args)
        managed_by = f"Managed by Pulumi stack {pulumi.get_project()}/{pulumi.get_stack()}"

        m2m_client = auth0.Client(
            f"{name}-m2m-client",
            name=f"{args.action_name} (Management API)",
            # Auth0 refuses client descriptions longer than 140 characters.
            description=f"{managed_by}: post-login org assignment. Do not edit by hand."[:140],
            app_type="non_interactive",
            grant_types=["client_credentials"],
            opts=child,
        )
        credentials = auth0.ClientCredentials(
            f"{name}-m2m-credentials",
            client_id=m2m_client.client_id,
            authentication_method="client_secret_post",
            opts=child,
        )
        grant = auth0.ClientGrant(
            f"{name}-management-api-grant",
            client_id=m2m_client.client_id,
            audience=f"https://{args.tenant_domain}/api/v2/",
            scopes=list(rendered.scopes),
            opts=child,
        )
        organization = auth0.Organization(
            f"{name}-organization", args=_organization_args(args.organization), opts=child
        )
        enabled_connections = [
            auth0.OrganizationConnection(
                f"{name}-connection-{connection_name}",
                organization_id=organization.id,
                connection_id=_connection_id(connection_name, self),
                assign_membership_on_login=args.assign_membership_on_login,
                opts=child,
            )
            for connection_name in args.connections
        ]
        # Only what the program marks is secret under mocks; the engine would also apply the
        # provider's additional_secret_outputs, but this must not depend on it.
        client_secret: pulumi.Output[str] = pulumi.Output.secret(
            credentials.client_secret.apply(_require_client_secret)
        )
        post_login_action = auth0.Action(
            f"{name}-post-login-action",
            name=args.action_name,
            code=rendered.code,
            runtime=rendered.runtime,
            deploy=True,
            supported_triggers=auth0.ActionSupportedTriggersArgs(
                id=TRIGGER, version=TRIGGER_VERSION
            ),
            dependencies=[
                auth0.ActionDependencyArgs(name=dependency.name, version=dependency.version)
                for dependency in rendered.dependencies
            ],
            secrets=_action_secrets(
                rendered,
                TENANT_DOMAIN=pulumi.Output.from_input(args.tenant_domain),
                CLIENT_ID=m2m_client.client_id,
                CLIENT_SECRET=client_secret,
                ORGANIZATION_ID=organization.id,
            ),
            opts=child,
        )
        # TriggerAction adds this one Action to the Login flow; TriggerActions would own the
        # whole flow and remove Actions others bound in the dashboard. Bind last, once the
        # grant and the connections exist, so no login runs a half-configured Action.
        auth0.TriggerAction(
            f"{name}-post-login-binding",
            trigger=TRIGGER,
            action_id=post_login_action.id,
            display_name=post_login_action.name,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[grant, *enabled_connections]),
        )

        self.organization_id = organization.id
        self.m2m_client_id = m2m_client.client_id
        self.action_id = post_login_action.id
        self.action_name = post_login_action.name
        self.register_outputs(
            {
                "organization_id": self.organization_id,
                "m2m_client_id": self.m2m_client_id,
                "action_id": self.action_id,
                "action_name": self.action_name,
            }
        )


def _connection_id(name: str, parent: pulumi.Resource) -> pulumi.Output[str]:
    """Look a connection up by name. Only its id is needed, not the paginated list of its
    enabled clients. (Pulumi keeps no invoke result in state, so the connection's options never
    reach it; ``hide_client_secret`` is left out because terraform-provider-auth0 v1.54.1,
    which the offline engine builds, does not know it.)"""
    return auth0.get_connection_output(
        name=name,
        skip_enabled_clients=True,
        opts=pulumi.InvokeOutputOptions(parent=parent),
    ).id


def _organization_args(organization: OrganizationConfig) -> auth0.OrganizationArgs:
    branding = organization.branding
    # Field names are the provider's colour keys: primary, page_background.
    colours = branding.colors.model_dump(exclude_none=True) if branding and branding.colors else {}
    return auth0.OrganizationArgs(
        name=organization.name,
        display_name=organization.display_name,
        # Always sent, empty included: the provider sends no metadata for an absent map, so
        # entries removed from the config would stay in the tenant.
        metadata=dict(organization.metadata),
        branding=auth0.OrganizationBrandingArgs(logo_url=branding.logo_url, colors=colours or None)
        if branding
        else None,
    )


def _require_client_secret(client_secret: str | None) -> str:
    """The provider reads the secret back as "" when the deployer may not read client keys."""
    if not client_secret:
        raise pulumi.RunError(
            "the M2M client's secret came back empty, so the Action could not authenticate: "
            "grant the deployer's application the read:client_keys scope, then run pulumi up again"
        )
    return client_secret


def _action_secrets(
    rendered: RenderedAction, **values: pulumi.Output[str]
) -> list[auth0.ActionSecretArgs]:
    """One Action secret per name the code reads; a missing or extra value is a bug here."""
    if set(values) != set(rendered.secrets):
        raise ValueError(f"Action secrets {sorted(values)} != {sorted(rendered.secrets)}")
    return [auth0.ActionSecretArgs(name=key, value=values[key]) for key in rendered.secrets]
