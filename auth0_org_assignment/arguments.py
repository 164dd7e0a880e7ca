"""``OrgAssignment``'s typed arguments, for programs: the stack configuration's keys, as
typed dictionaries (snake_case here, the configuration's camelCase in Pulumi's schema).

They are the shape only. What is valid is decided once, by the configuration's model
(``auth0_org_assignment.config``): the component validates its arguments with it, so a program
gets the same errors, naming the field, as a stack file does. A test keeps these keys and the
model's the same. Pulumi's component provider infers its schema from these classes (plain types
and docstrings: its analyzer reads no constraint).
"""

import re
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

if TYPE_CHECKING:
    from auth0_org_assignment.config import StackConfig

# No `from __future__ import annotations` here or in the component: Pulumi's analyzer reads
# these annotations as types, to infer the component provider's schema.


class BrandingColorsArgs(TypedDict):
    """Colours of the organization's login pages: both, as ``#RRGGBB``."""

    primary: str
    """Primary colour, ``#RRGGBB``."""
    page_background: str
    """Page background colour, ``#RRGGBB``."""


class BrandingArgs(TypedDict):
    """Branding shown on the organization's login pages."""

    logo_url: NotRequired[str]
    """An absolute https URL of the logo."""
    colors: NotRequired[BrandingColorsArgs]
    """Login page colours."""


class OrganizationArgs(TypedDict):
    """An Auth0 Organization users are assigned to, and who may join it."""

    name: str
    """Auth0's identifier: lowercase letters, digits, ``-`` and ``_``."""
    display_name: str
    """The name people see on the login page."""
    connections: NotRequired[list[str]]
    """In ``organizations`` entries: the connections enabled on it; a login must come through
    one of them."""
    email_domains: NotRequired[list[str]]
    """Verified email domains that may join: ``acme.com`` exactly, ``*.acme.com`` any
    subdomain."""
    trust_email_verified_from: NotRequired[list[str]]
    """Connections (social, enterprise) whose ``email_verified`` counts for the domains."""
    trusted_connection_domains: NotRequired[dict[str, list[str]]]
    """For a trusted connection: the email domains (entries of the domains) it may vouch for;
    one not listed vouches for all."""
    applications: NotRequired[list[str]]
    """Client ids of the applications whose logins may assign (default: any)."""
    roles: NotRequired[list[str]]
    """Organization roles (names in the tenant) given to each member the Action adds."""
    allow_any_user_of_connection: NotRequired[bool]
    """Every user of the connections may join, whatever their email; not with the domains."""
    allow_free_mail_domains: NotRequired[bool]
    """The domains may list free-mail domains (gmail.com), admitted without proof: for a
    community organization."""
    branding: NotRequired[BrandingArgs]
    """Logo and colours of the organization's login pages."""
    metadata: NotRequired[dict[str, str]]
    """String entries stored on the organization."""


class ActionOptionsArgs(TypedDict):
    """Options of the post-login Action that assigns users."""

    name: NotRequired[str]
    """The Action's name in the tenant; defaults to ``assign-to-<organization name>``."""
    connection_check: NotRequired[str]
    """``static`` (compare the connection's name) or ``api`` (ask the Management API)."""
    time_budget_ms: NotRequired[int]
    """The most each Action adds to a login, in milliseconds."""
    failure_policy: NotRequired[str]
    """``open`` (log, let the login go on) or ``closed`` (deny it with ``denyMessage``)."""
    deny_message: NotRequired[str]
    """What the end user sees when a fail-closed assignment fails."""
    app_metadata_key: NotRequired[str]
    """The prefix of the ``app_metadata`` keys that mark the users the Action assigned."""
    claim_namespace: NotRequired[str]
    """The namespace (an http(s) URL of your own) of the tokens' claim listing the organizations
    a login made the user a member of."""
    credential_rotation: NotRequired[int]
    """Raise it by one to rotate the Action's Management API credential on the next update."""


class OrgAssignmentArgs(TypedDict):
    """Everything one ``OrgAssignment`` declares: the organization (or ``organizations``), who
    may join each, and the Action's options."""

    tenant_domain: str
    """The tenant's canonical domain (``<tenant>.<region>.auth0.com``), where the Management API
    is: its audience, and the Action's ``TENANT_DOMAIN``."""
    domain_kind: NotRequired[str]
    """``auth0`` (default) or ``local`` (``localhost:<port>``, the local tenant)."""
    organization: NotRequired[OrganizationArgs]
    """The one organization users are assigned to (or use ``organizations``)."""
    connections: NotRequired[list[str]]
    """With ``organization``: the connections enabled on it."""
    organizations: NotRequired[list[OrganizationArgs]]
    """Several organizations, each with its own connections and rule."""
    assign_membership_on_login: NotRequired[bool]
    """Auth0's own auto-membership for users who log in through the organization's prompt."""
    action: NotRequired[ActionOptionsArgs]
    """Options of the post-login Action."""
    dns_resolvers: NotRequired[list[str]]
    """DNS servers (``host:port``) that look up the records proving email domains; default:
    the machine's own."""


def as_configuration(args: OrgAssignmentArgs) -> dict[str, Any]:
    """The arguments under the configuration's keys (``tenantDomain`` is ``auth0:domain``), for
    the configuration's model to validate."""
    raw: dict[str, Any] = _camel_keys(dict(args))
    if "tenantDomain" in raw:
        raw["auth0:domain"] = raw.pop("tenantDomain")
    return raw


def arguments_of(config: "StackConfig") -> OrgAssignmentArgs:
    """A validated configuration (a stack's) as the component's arguments."""
    raw = config.model_dump(mode="json", by_alias=True, exclude_none=True)
    if "auth0:domain" in raw:
        raw["tenantDomain"] = raw.pop("auth0:domain")
    arguments: OrgAssignmentArgs = _snake_keys(raw)
    return arguments


# Keys whose values are the user's own mapping, not more arguments (keyed by the user's names:
# metadata keys, connection names), in both spellings.
_OPAQUE = frozenset({"metadata", "trusted_connection_domains", "trustedConnectionDomains"})


def _camel_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            _camel(key): item if key in _OPAQUE else _camel_keys(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_camel_keys(item) for item in value]
    return value


def _snake_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            _snake(key): item if key in _OPAQUE else _snake_keys(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_snake_keys(item) for item in value]
    return value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()
