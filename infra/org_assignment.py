"""``OrgAssignment``: the one component that owns the whole organization auto-assignment setup.

Each Auth0 resource the support article has people click by hand is declared here once:
the M2M client and its credentials, its Management API grant, the organization, its enabled
connections, the post-login Action with its secrets, and the Action's binding to the trigger.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_auth0 as auth0

from infra.action_code import (
    TRIGGER,
    TRIGGER_VERSION,
    RenderedAction,
    grant_scopes,
    render_actions,
)
from infra.config import PROJECT, OrganizationConfig, StackConfig

COMPONENT = "org-assignment"
"""The component's name in ``infra/__main__.py``: every resource's logical name starts with it."""
COMPONENT_TYPE = "auth0-org-assignment:index:OrgAssignment"


@dataclass(frozen=True)
class LogicalNames:
    """Each resource's logical name, Pulumi's identity for it: the program declares these and
    ``infra.adopt`` imports under them, so they live in one place."""

    component: str = COMPONENT

    @property
    def m2m_client(self) -> str:
        return f"{self.component}-m2m-client"

    @property
    def m2m_credentials(self) -> str:
        return f"{self.component}-m2m-credentials"

    @property
    def grant(self) -> str:
        return f"{self.component}-management-api-grant"

    @staticmethod
    def _organization_suffix(index: int, organization: OrganizationConfig) -> str:
        # The first keeps the names of a one-organization stack, so moving from
        # `organization` to `organizations` replaces nothing.
        return "" if index == 0 else f"-{organization.name}"

    def organization(self, index: int, organization: OrganizationConfig) -> str:
        return f"{self.component}-organization{self._organization_suffix(index, organization)}"

    def connection(self, index: int, organization: OrganizationConfig, connection: str) -> str:
        suffix = self._organization_suffix(index, organization)
        return f"{self.component}-connection{suffix}-{connection}"

    def action(self, shard: int) -> str:
        return f"{self.component}-post-login-action{_shard_suffix(shard)}"

    def binding(self, shard: int) -> str:
        return f"{self.component}-post-login-binding{_shard_suffix(shard)}"


def m2m_client_name(config: StackConfig) -> str:
    return f"{config.action_name} (Management API)"


def m2m_client_description(project: str, stack: str) -> str:
    # Auth0 refuses client descriptions longer than 140 characters.
    managed_by = f"Managed by Pulumi stack {project}/{stack}"
    return f"{managed_by}: post-login org assignment. Do not edit by hand."[:140]


def action_name(config: StackConfig, shard: int) -> str:
    return config.action_name + _shard_suffix(shard)


def _shard_suffix(shard: int) -> str:
    return "" if shard == 0 else f"-{shard + 1}"


class OrgAssignment(pulumi.ComponentResource):
    """Assigns users who log in to the organizations whose rules their login matches."""

    organization_id: pulumi.Output[str]
    organization_ids: pulumi.Output[dict[str, str]]
    m2m_client_id: pulumi.Output[str]
    action_id: pulumi.Output[str]
    action_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: StackConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        names = LogicalNames(name)
        child = pulumi.ResourceOptions(parent=self)
        # How the organizations split across Actions, and what the code calls, depend only on
        # the configuration; the ids the code holds are filled in once they exist.
        planned = render_actions(args)

        m2m_client = auth0.Client(
            names.m2m_client,
            name=m2m_client_name(args),
            description=m2m_client_description(pulumi.get_project(), pulumi.get_stack()),
            app_type="non_interactive",
            grant_types=["client_credentials"],
            opts=child,
        )
        credentials = auth0.ClientCredentials(
            names.m2m_credentials,
            client_id=m2m_client.client_id,
            authentication_method="client_secret_post",
            opts=child,
        )
        grant = auth0.ClientGrant(
            names.grant,
            client_id=m2m_client.client_id,
            audience=f"https://{args.tenant_domain}/api/v2/",
            scopes=list(grant_scopes(args)),
            opts=child,
        )
        organizations: dict[str, auth0.Organization] = {}
        enabled_connections: list[auth0.OrganizationConnection] = []
        for index, spec in enumerate(args.organizations):
            organizations[spec.name] = auth0.Organization(
                names.organization(index, spec), args=organization_args(spec), opts=child
            )
            enabled_connections += [
                auth0.OrganizationConnection(
                    names.connection(index, spec, connection_name),
                    organization_id=organizations[spec.name].id,
                    connection_id=_connection_id(connection_name, self),
                    assign_membership_on_login=args.assign_membership_on_login,
                    opts=child,
                )
                for connection_name in spec.connections or []
            ]
        role_ids = {
            role: _role_id(role, self) for spec in args.organizations for role in spec.roles
        }
        ids = pulumi.Output.all(
            organizations={n: o.id for n, o in organizations.items()}, roles=role_ids
        )
        # Only what the program marks is secret under mocks; the engine would also apply the
        # provider's additional_secret_outputs, but this must not depend on it.
        client_secret: pulumi.Output[str] = pulumi.Output.secret(
            credentials.client_secret.apply(_require_client_secret)
        )
        # Rendered once for every Action, when the ids are known.
        codes = ids.apply(functools.partial(_codes, args))
        actions: list[auth0.Action] = []
        previous_binding: list[pulumi.Resource] = []
        for shard, rendered in enumerate(planned):
            code = codes.apply(operator.itemgetter(shard))
            action = auth0.Action(
                names.action(shard),
                name=action_name(args, shard),
                code=code,
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
                ),
                opts=child,
            )
            # TriggerAction adds this one Action to the Login flow; TriggerActions would own
            # the whole flow and remove Actions others bound in the dashboard. Bind last, once
            # the grant and the connections exist, so no login runs a half-configured Action;
            # several Actions are bound in order.
            binding = auth0.TriggerAction(
                names.binding(shard),
                trigger=TRIGGER,
                action_id=action.id,
                display_name=action.name,
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[grant, *enabled_connections, *previous_binding],
                ),
            )
            actions.append(action)
            previous_binding = [binding]

        first = organizations[args.organizations[0].name]
        self.organization_id = first.id
        # The ids are the stack's outputs, so the engine waits for this check before it is done.
        branding_checked = pulumi.Output.all(
            *(
                organizations[spec.name].branding.apply(
                    functools.partial(_refuse_undeclared_branding, spec.name)
                )
                for spec in args.organizations
                if spec.branding is None
            )
        )
        ids_by_name = pulumi.Output.all(**{n: o.id for n, o in organizations.items()})
        self.organization_ids = pulumi.Output.all(branding_checked, ids_by_name).apply(
            lambda checked_and_ids: dict(checked_and_ids[1])
        )
        self.m2m_client_id = m2m_client.client_id
        self.action_id = actions[0].id
        self.action_name = actions[0].name
        self.register_outputs(
            {
                "organization_id": self.organization_id,
                "organization_ids": self.organization_ids,
                "m2m_client_id": self.m2m_client_id,
                "action_id": self.action_id,
                "action_name": self.action_name,
            }
        )


def _codes(config: StackConfig, known: dict[str, Any]) -> list[str]:
    """Every Action's code, once the organization and role ids are known."""
    return [shard.code for shard in render_actions(config, known["organizations"], known["roles"])]


def _role_id(name: str, parent: pulumi.Resource) -> pulumi.Output[str]:
    """A role's id, looked up by name when the stack deploys; an unknown name fails then."""
    return auth0.get_role_output(
        name=name,
        # Only the id is needed: not the role's permissions, nor the paginated list of its users.
        skip_permissions=True,
        skip_users=True,
        opts=pulumi.InvokeOutputOptions(parent=parent),
    ).id


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


def organization_args(organization: OrganizationConfig) -> auth0.OrganizationArgs:
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


def _refuse_undeclared_branding(organization: str, branding: Any) -> None:
    """Branding the organization has but the configuration does not declare: the provider
    cannot clear it (it sends no branding when none is declared, and keeps what Auth0 returns),
    so removing ``branding`` from the configuration would leave it in the tenant, silently."""
    found = {
        key: value
        for key in ("logo_url", "colors")
        if (
            value := branding.get(key)
            if isinstance(branding, dict)
            else getattr(branding, key, None)
        )
    }
    if found:
        raise pulumi.RunError(
            f"{PROJECT}: organization {organization!r} has branding in the tenant "
            f"({', '.join(sorted(found))}) that its configuration does not declare, and Pulumi's "
            "auth0 provider cannot remove it. To keep it, declare it under branding; to remove "
            "it, clear it in the Auth0 dashboard (Organizations > "
            f"{organization} > Branding), then run `pulumi up --refresh`"
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
