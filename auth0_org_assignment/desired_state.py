"""Each Auth0 resource's desired state, written once: the arguments it is declared with.

``OrgAssignment`` (component.py) declares every resource with these, and adoption
(commands/adopt.py) compares what it finds in a tenant against the same arguments, so what the
first ``pulumi up`` after an import changes is read off the one definition. Pure: nothing here
registers a resource.
"""

from __future__ import annotations

import pulumi
import pulumi_auth0 as auth0

from auth0_org_assignment.action_code import TRIGGER, TRIGGER_VERSION, RenderedAction, grant_scopes
from auth0_org_assignment.config import OrganizationConfig, StackConfig

AUTHENTICATION_METHOD = "client_secret_post"
"""How the Action's application authenticates: its secret in the token request's body."""


def m2m_client_name(config: StackConfig, slot: str = "a") -> str:
    """Slot ``a`` keeps the name a stack's one application always had."""
    return f"{config.action_name} (Management API{'' if slot == 'a' else ', ' + slot.upper()})"


def m2m_client_description(project: str, stack: str) -> str:
    # Auth0 refuses client descriptions longer than 140 characters.
    managed_by = f"Managed by Pulumi stack {project}/{stack}"
    return f"{managed_by}: post-login org assignment. Do not edit by hand."[:140]


def action_name(config: StackConfig, shard: int, shards: int = 1) -> str:
    """The name of the stack's ``shard``-th Action of ``shards``: a lone one keeps the
    configured name."""
    return config.action_name + shard_suffix(shard, shards)


def shard_suffix(shard: int, shards: int = 1) -> str:
    """``-2-of-5``: the number of Actions is in every name of a split, so a stack whose split
    changes creates and binds the new Actions before it deletes the old ones (Pulumi deletes
    what a program no longer declares last): no login is left to no Action in between."""
    return "" if shards == 1 else f"-{shard + 1}-of-{shards}"


SHARD_SUFFIX = r"-\d+-of-\d+"
"""Any suffix :func:`shard_suffix` writes, as a regular expression: a name read back."""


def management_audience(config: StackConfig) -> str:
    """The Management API's audience: always the tenant's canonical domain."""
    return f"https://{config.tenant_domain}/api/v2/"


def m2m_client(config: StackConfig, project: str, stack: str, slot: str = "a") -> auth0.ClientArgs:
    """One of the Action's two applications (``action_credential.SLOTS``): machine to machine,
    client credentials only. No ``ClientCredentials`` is declared: it would read the secret
    back into state. A new non-interactive application authenticates with client_secret_post
    (``AUTHENTICATION_METHOD``), the method the Action uses."""
    return auth0.ClientArgs(
        name=m2m_client_name(config, slot),
        description=m2m_client_description(project, stack),
        app_type="non_interactive",
        grant_types=["client_credentials"],
    )


def grant(config: StackConfig, client_id: pulumi.Input[str]) -> auth0.ClientGrantArgs:
    """The application's grant on the Management API: the scopes the Action's calls need."""
    return auth0.ClientGrantArgs(
        client_id=client_id,
        audience=management_audience(config),
        scopes=list(grant_scopes(config)),
    )


def organization(spec: OrganizationConfig) -> auth0.OrganizationArgs:
    branding = spec.branding
    # Field names are the provider's colour keys: primary, page_background.
    colours = branding.colors.model_dump(exclude_none=True) if branding and branding.colors else {}
    return auth0.OrganizationArgs(
        name=spec.name,
        display_name=spec.display_name,
        # Always sent, empty included: the provider sends no metadata for an absent map, so
        # entries removed from the config would stay in the tenant.
        metadata=dict(spec.metadata),
        branding=auth0.OrganizationBrandingArgs(logo_url=branding.logo_url, colors=colours or None)
        if branding
        else None,
    )


def connection(
    config: StackConfig, organization_id: pulumi.Input[str], connection_id: pulumi.Input[str]
) -> auth0.OrganizationConnectionArgs:
    return auth0.OrganizationConnectionArgs(
        organization_id=organization_id,
        connection_id=connection_id,
        assign_membership_on_login=config.assign_membership_on_login,
    )


def discovery_domain(
    organization_id: pulumi.Input[str], domain: str
) -> auth0.OrganizationDiscoveryDomainArgs:
    """An email domain as the organization's discovery domain, declared pending: Auth0 then
    names the TXT record that proves it, and only its proof marks it verified
    (``domain_proof.DomainProof``). Not used for organization discovery at login: declaring it
    proves ownership, it does not change how anyone logs in."""
    return auth0.OrganizationDiscoveryDomainArgs(
        organization_id=organization_id,
        domain=domain,
        status="pending",
        use_for_organization_discovery=False,
    )


def action(
    config: StackConfig, shard: int, rendered: RenderedAction, code: pulumi.Input[str]
) -> auth0.ActionArgs:
    """One post-login Action, deployed. Its secrets (``rendered.secrets``) are written by
    ``action_credential.ActionCredential``, never declared here: whatever is declared is in the
    stack's state. Declared empty, and never sent again (the component gives the Action
    ``ignore_changes=["secrets"]``): terraform-provider-auth0 sends ``secrets`` on update only
    when they changed (``expandAction``: ``if data.HasChange("secrets")``), and a change to them
    would replace the whole list Auth0 holds, the credential included. Left out instead of
    empty, a stack whose state still holds secrets (one deployed before) would crash the
    provider, which iterates the absent list (``expandActionSecrets`` on a null value)."""
    return auth0.ActionArgs(
        name=action_name(config, shard, rendered.shards),
        code=code,
        runtime=rendered.runtime,
        deploy=True,
        supported_triggers=auth0.ActionSupportedTriggersArgs(id=TRIGGER, version=TRIGGER_VERSION),
        dependencies=[
            auth0.ActionDependencyArgs(name=dependency.name, version=dependency.version)
            for dependency in rendered.dependencies
        ],
        secrets=[],
    )


def binding(
    config: StackConfig, shard: int, action_id: pulumi.Input[str], shards: int = 1
) -> auth0.TriggerActionArgs:
    """The Action's place in the Login flow: this one binding, never the whole flow."""
    return auth0.TriggerActionArgs(
        trigger=TRIGGER, action_id=action_id, display_name=action_name(config, shard, shards)
    )
