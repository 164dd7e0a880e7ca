"""The rules, for any Pulumi program that manages Auth0 (this repository's included).

Each is a Pulumi policy whose enforcement level (``mandatory``, ``advisory``, ``disabled``) and
settings come from the pack's configuration (``pulumi preview --policy-pack-config FILE``); the
defaults are in each policy's schema. They read resource inputs as the engine passes them to a
policy during ``preview``: after the provider has checked them, with values that depend on
resources not yet created still unknown. What a rule cannot see there is said beside it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from auth0_org_assignment.action_code import (
    RUNTIME,
    configuration_of,
    management_calls,
    packed_configuration_of,
)
from auth0_org_assignment.component import COMPONENT_TYPE
from policy_pack.analyzer import secret_inputs

PACK_NAME = "auth0-org-assignment"

ACTION = "auth0:index/action:Action"
CLIENT_GRANT = "auth0:index/clientGrant:ClientGrant"
CONNECTION = "auth0:index/connection:Connection"
ORGANIZATION_CONNECTION = "auth0:index/organizationConnection:OrganizationConnection"
ORGANIZATION_CONNECTIONS = "auth0:index/organizationConnections:OrganizationConnections"
TRIGGER_ACTIONS = "auth0:index/triggerActions:TriggerActions"


class _Unknown:
    def __repr__(self) -> str:
        return "<unknown during preview>"


UNKNOWN: Final = _Unknown()
"""A value that depends on a resource not created yet: known only during ``pulumi up``."""


def lookup(value: Any, *path: str | int) -> Any:
    """``value[path[0]][path[1]]...``: None where a key is missing, :data:`UNKNOWN` where the
    value is not known during preview (``pulumi_policy`` raises on reading one)."""
    for key in path:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            return None
        except UnknownValueError:
            return UNKNOWN
    return value


def _config(
    args: ResourceValidationArgs | StackValidationArgs, settings: PolicyConfigSchema, key: str
) -> Any:
    """The policy's setting ``key``: as configured, else the default its ``settings`` declare."""
    return args.get_config().get(key, settings.properties[key]["default"])


def _strings(description: str, default: list[str]) -> dict[str, Any]:
    """A setting that is a list of strings."""
    return {
        "type": "array",
        "items": {"type": "string"},
        "description": description,
        "default": default,
    }


# --- Management API grants ---------------------------------------------------------------------

MANAGEMENT_AUDIENCE = re.compile(r"https://[^/\s]+/api/v2/")
"""The Management API's audience: ``https://<tenant's canonical domain>/api/v2/``."""

DEFAULT_ALLOWED_SCOPES: Final = {
    COMPONENT_TYPE: sorted({call.scope for call in management_calls()}),
}
"""This repository's component: the scopes of every Management API call its Action's code can
make (``auth0_org_assignment/action_code.py``), so a grant of the component holding any other
fails."""


def component_types(urn: str) -> list[str]:
    """The types of the components a resource is declared in, innermost first (from its URN:
    ``urn:pulumi:<stack>::<project>::<parent type>$...$<type>::<name>``)."""
    parts = urn.split("::")
    types = parts[2].split("$") if len(parts) >= 4 else []
    return list(reversed(types[:-1]))


def validate_management_grant(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """A grant on the Management API holds no scope outside the allowed list of its client."""
    if args.resource_type != CLIENT_GRANT:
        return
    audience = lookup(args.props, "audience")
    if not isinstance(audience, str) or not MANAGEMENT_AUDIENCE.fullmatch(audience):
        return
    allowed: Mapping[str, Sequence[str]] = _config(args, GRANT_SETTINGS, "allowedScopes")
    client_id = lookup(args.props, "clientId")
    # Most specific first: the client, the grant, the components it is declared in, then "*".
    candidates = [client_id] if isinstance(client_id, str) else []
    candidates += [args.name, *component_types(args.urn), "*"]
    key = next((candidate for candidate in candidates if candidate in allowed), None)
    if key is None:
        report(
            f"No allowed scopes are configured for this grant ({args.name}, client "
            f"{client_id if isinstance(client_id, str) else '(not created yet)'}): list its "
            "client id, the grant's name or its component's type under allowedScopes",
            None,
        )
        return
    scopes = lookup(args.props, "scopes")
    if scopes is UNKNOWN:  # computed from another resource: checked when `pulumi up` runs
        return
    extra = sorted(set(scopes or []) - set(allowed[key]))
    if extra:
        report(
            f"Scopes outside the allowed list for {key!r}: {', '.join(extra)} "
            f"(allowed: {', '.join(sorted(allowed[key])) or 'none'})",
            None,
        )


GRANT_SETTINGS = PolicyConfigSchema(
    properties={
        "allowedScopes": {
            "type": "object",
            "description": (
                "Allowed scopes by client id, grant name, or the type of the component the "
                'grant is declared in; "*" for any other grant.'
            ),
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "default": DEFAULT_ALLOWED_SCOPES,
        },
    },
)
management_grant = ResourceValidationPolicy(
    name="auth0-management-api-grant-scopes",
    description=(
        "A client grant on the Auth0 Management API holds only the scopes allowed for its client."
    ),
    validate=validate_management_grant,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=GRANT_SETTINGS,
)


# --- TriggerActions ----------------------------------------------------------------------------


def validate_trigger_actions(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """No ``auth0.TriggerActions``, which owns every Action bound to its trigger, unless the
    trigger is allowed."""
    if args.resource_type != TRIGGER_ACTIONS:
        return
    trigger = lookup(args.props, "trigger")
    if trigger in _config(args, TRIGGER_SETTINGS, "allowedTriggers"):
        return
    report(
        f"TriggerActions owns the whole {trigger} flow: it unbinds every Action it does not "
        "list, other teams' and the dashboard's included. Bind each Action with "
        "auth0.TriggerAction instead, or allow the trigger under allowedTriggers",
        None,
    )


TRIGGER_SETTINGS = PolicyConfigSchema(
    properties={
        "allowedTriggers": _strings("Triggers (post-login, ...) a TriggerActions may own.", []),
    },
)
trigger_actions = ResourceValidationPolicy(
    name="auth0-no-flow-owning-trigger-actions",
    description="No auth0.TriggerActions owns a whole flow (it removes other teams' Actions).",
    validate=validate_trigger_actions,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=TRIGGER_SETTINGS,
)


# --- Actions -----------------------------------------------------------------------------------

EXACT_VERSION = re.compile(
    # semver.org's grammar: MAJOR.MINOR.PATCH, an optional pre-release and build; nothing else.
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?"
)


def validate_action_runtime(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """An Action declares a current runtime."""
    if args.resource_type != ACTION:
        return
    runtime = lookup(args.props, "runtime")
    runtimes = _config(args, RUNTIME_SETTINGS, "runtimes")
    if runtime is UNKNOWN or runtime in runtimes:
        return
    found = f"runs on {runtime}" if runtime else "declares no runtime (Auth0 then picks one)"
    report(f"The Action {found}: set runtime to {' or '.join(runtimes)}", None)


RUNTIME_SETTINGS = PolicyConfigSchema(
    properties={"runtimes": _strings("The runtimes an Action may declare.", [RUNTIME])},
)
action_runtime = ResourceValidationPolicy(
    name="auth0-action-runtime",
    description="An Auth0 Action runs on a current Node.js runtime.",
    validate=validate_action_runtime,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=RUNTIME_SETTINGS,
)


def validate_action_dependencies(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Each npm dependency of an Action names one exact version."""
    if args.resource_type != ACTION:
        return
    dependencies = lookup(args.props, "dependencies")
    if not isinstance(dependencies, Sequence):
        return
    floating = []
    for index in range(len(dependencies)):
        name, version = (lookup(dependencies, index, key) for key in ("name", "version"))
        if version is UNKNOWN:
            continue
        if not isinstance(version, str) or not EXACT_VERSION.fullmatch(version):
            floating.append(f"{name}@{version if version else '(no version)'}")
    if floating:
        report(
            f"Dependencies without an exact version: {', '.join(floating)}. Each build of the "
            "Action would install whatever they resolve to then; pin MAJOR.MINOR.PATCH",
            None,
        )


action_dependencies = ResourceValidationPolicy(
    name="auth0-action-dependencies-pinned",
    description="An Auth0 Action's npm dependencies are pinned to exact versions.",
    validate=validate_action_dependencies,
    enforcement_level=EnforcementLevel.MANDATORY,
)


def validate_action_secrets(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """An Action's secrets come from a secret Output.

    The provider marks every secret's value secret when it checks the inputs (its schema calls
    them sensitive), so by the time a policy runs a literal and a secret Output look alike. What
    still tells them apart is the ``secrets`` input as a whole: the program's SDK marks it
    secret when any value in it is a secret Output, and only then. So a program that gives every
    value in plain text is caught; one that mixes a secret Output with a literal is not.
    """
    if args.resource_type != ACTION:
        return
    secrets = lookup(args.props, "secrets")
    # Unknown as a whole: computed from a resource not created yet, checked during `pulumi up`.
    if not secrets or secrets is UNKNOWN or "secrets" in secret_inputs():
        return
    report(
        f"The Action's secrets ({_secret_names(secrets)}) are plain values in the program: pass "
        "each through pulumi.Output.secret(...) or config.require_secret(...) at least, or "
        "better keep them out of the program (auth0-action-secrets-kept-out-of-state)",
        None,
    )


def _secret_names(secrets: Any) -> str:
    return ", ".join(str(lookup(secrets, index, "name")) for index in range(len(secrets)))


action_secrets = ResourceValidationPolicy(
    name="auth0-action-secrets-are-secret",
    description="An Auth0 Action's secrets come from secret Outputs, not plain values.",
    validate=validate_action_secrets,
    enforcement_level=EnforcementLevel.MANDATORY,
)


def validate_action_secrets_out_of_state(
    args: ResourceValidationArgs, report: ReportViolation
) -> None:
    """An Action's secrets are not the program's inputs: whatever the program gives as an input
    Pulumi keeps in the stack's state, a secret encrypted with the stack's key, which every job
    that decrypts the state reads (a pull request's preview included). A program that declares
    none, and writes them outside Pulumi (as this component's ``ActionCredential`` does, the
    Action declared with ``ignore_changes=["secrets"]``), passes; so does a value the preview
    does not know yet only once ``pulumi up`` checks it."""
    if args.resource_type != ACTION:
        return
    secrets = lookup(args.props, "secrets")
    if not secrets or secrets is UNKNOWN:
        return
    report(
        f"The Action's secrets ({_secret_names(secrets)}) are inputs of the program, so the "
        "stack's state keeps their values, encrypted with a key every job that reads the state "
        "holds: write them into the Action outside Pulumi (the Management API, or the "
        "dashboard) and declare the Action with ignore_changes=['secrets']",
        None,
    )


action_secrets_out_of_state = ResourceValidationPolicy(
    name="auth0-action-secrets-kept-out-of-state",
    description="An Auth0 Action's secrets are written outside Pulumi, not kept in its state.",
    validate=validate_action_secrets_out_of_state,
    enforcement_level=EnforcementLevel.ADVISORY,
)


# --- Organizations open to anyone --------------------------------------------------------------

SIGNUP_STRATEGIES = frozenset({"auth0", "email", "sms"})
"""Database and passwordless connections: anyone may sign up unless ``disable_signup``."""
ENTERPRISE_STRATEGIES = frozenset(
    {
        "ad",
        "adfs",
        "auth0-adldap",
        "google-apps",
        "ip",
        "office365",
        "oidc",
        "okta",
        "pingfederate",
        "samlp",
        "sharepoint",
        "waad",
    }
)
"""Connections to an identity provider of the organization's own. Any other strategy is social
(or custom OAuth): anyone with an account there. Of these, ``waad`` and ``ISSUER_STRATEGIES``
are closed only as their options show (``_Connections.why_open_directory``)."""
ISSUER_STRATEGIES = frozenset({"oidc", "okta", "samlp"})
"""Enterprise connections to whichever identity provider their options name: closed only when
that issuer is one the configuration names under ``closedIssuers``. Anyone can run an OIDC or
SAML identity provider, or get an Okta org, and sign in there as whom they like."""


def issuer_of(strategy: Any, options: Any) -> Any:
    """The identity provider a declared ``oidc``, ``okta`` or ``samlp`` connection trusts: the
    OIDC ``issuer``; Okta's ``issuer``, else ``https://<domain>``; SAML's ``metadataUrl``, else
    its ``signInEndpoint``. None when the options name none; UNKNOWN during preview."""
    keys = {
        "oidc": ("issuer",),
        "okta": ("issuer", "domain"),
        "samlp": ("metadataUrl", "signInEndpoint"),
    }.get(strategy, ())
    for key in keys:
        value = lookup(options, key)
        if value is UNKNOWN:
            return UNKNOWN
        if isinstance(value, str) and value:
            return value if "://" in value else f"https://{value}"
    return None


def same_issuer(issuer: str) -> str:
    """An issuer as compared with ``closedIssuers``: scheme and host in lowercase, no trailing
    slash."""
    scheme, _, rest = issuer.strip().partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}://{host.lower()}{slash}{path}".rstrip("/")


def rendered_organizations(code: str) -> list[dict[str, Any]] | None:
    """The organizations' rules in the configuration block of an Action this repository's
    component rendered, or None for any other Action's code."""
    configuration = configuration_of(code)
    organizations = configuration.get("organizations") if configuration else None
    return (
        [o for o in organizations if isinstance(o, dict)]
        if isinstance(organizations, list)
        else None
    )


class _Connections:
    """What the program declares about connections: its ``auth0.Connection`` resources, and
    the strategies the provider reported on organization connections already deployed."""

    def __init__(
        self,
        resources: Sequence[PolicyResource],
        closed: Sequence[str],
        closed_issuers: Sequence[str] = (),
    ) -> None:
        self.closed = set(closed)
        self.closed_issuers = {same_issuer(issuer) for issuer in closed_issuers}
        self.declared = [r for r in resources if r.resource_type == CONNECTION]
        self.strategies: dict[str, str] = {}
        for resource in resources:
            if resource.resource_type == ORGANIZATION_CONNECTION:
                strategy = lookup(resource.props, "strategy")
                for key in ("connectionId", "name"):
                    identifier = lookup(resource.props, key)
                    if isinstance(identifier, str) and isinstance(strategy, str):
                        self.strategies[identifier] = strategy

    def find(self, identifier: Any, depends_on: Sequence[PolicyResource] = ()) -> Any:
        """The declared connection with this id or name, or the one an input depends on."""
        for resource in depends_on:
            if resource.resource_type == CONNECTION:
                return resource
        for resource in self.declared:
            if identifier in (lookup(resource.props, "id"), lookup(resource.props, "name")):
                return resource
        return None

    def label(self, identifier: Any, depends_on: Sequence[PolicyResource] = ()) -> str:
        """The connection's name where the program declares it, else its id."""
        connection = self.find(identifier, depends_on)
        name = lookup(connection.props, "name") if connection is not None else None
        for candidate in (name, identifier):
            if isinstance(candidate, str):
                return candidate
        return "(not created yet)"

    def why_open(self, identifier: Any, depends_on: Sequence[PolicyResource] = ()) -> str | None:
        """Why anyone could log in through this connection, or None when they cannot."""
        connection = self.find(identifier, depends_on)
        names = {identifier}
        if connection is not None:
            names |= {lookup(connection.props, "id"), lookup(connection.props, "name")}
        if names & self.closed:
            return None
        if connection is None:
            strategy = self.strategies.get(identifier) if isinstance(identifier, str) else None
            disable_signup: Any = UNKNOWN
        else:
            strategy = lookup(connection.props, "strategy")
            disable_signup = lookup(connection.props, "options", "disableSignup")
        if strategy in ENTERPRISE_STRATEGIES:
            return self.why_open_directory(strategy, connection)
        if strategy in SIGNUP_STRATEGIES:
            if disable_signup is True:
                return None
            if disable_signup is UNKNOWN:
                return f"it is an {strategy!r} connection; nothing here shows its signups closed"
            return f"its {strategy!r} connection allows signups (options.disable_signup is not set)"
        if isinstance(strategy, str):
            return f"it is a social connection ({strategy}): anyone with an account there gets in"
        return "this program does not declare it, so nothing shows it refuses signups"

    def why_open_directory(self, strategy: str, connection: PolicyResource | None) -> str | None:
        """Why users of directories other than the organization's own could log in through an
        enterprise connection, or None when its options show they cannot."""
        options = lookup(connection.props, "options") if connection is not None else UNKNOWN
        if strategy == "waad":
            common = lookup(options, "waadCommonEndpoint") if options is not UNKNOWN else UNKNOWN
            if common is True:
                return (
                    "it is a multi-tenant Azure AD connection (waadCommonEndpoint: true): the "
                    "users of every Microsoft Entra directory log in through it"
                )
            if common is UNKNOWN:
                return (
                    "it is an Azure AD connection, and nothing here shows it single-tenant "
                    "(waadCommonEndpoint off)"
                )
            return None
        if strategy not in ISSUER_STRATEGIES:
            return None
        issuer = issuer_of(strategy, options) if options is not UNKNOWN else UNKNOWN
        if isinstance(issuer, str) and same_issuer(issuer) in self.closed_issuers:
            return None
        if isinstance(issuer, str):
            return (
                f"its issuer {issuer} is not one closedIssuers names: whoever runs that "
                f"{strategy} identity provider decides who signs in, and as whom"
            )
        return (
            f"it is an {strategy!r} connection whose issuer nothing here names as closed "
            "(closedIssuers)"
        )


def _open_enabled_connections(
    resource: PolicyResource, connections: _Connections
) -> Iterator[tuple[str, str]]:
    """(connection, why anyone gets in) for each connection an organization connection
    resource enables with Auth0's own auto-membership."""
    if resource.resource_type == ORGANIZATION_CONNECTION:
        entries = [(resource.props, resource.property_dependencies.get("connectionId", []))]
    elif resource.resource_type == ORGANIZATION_CONNECTIONS:
        listed = lookup(resource.props, "enabledConnections")
        count = len(listed) if isinstance(listed, Sequence) else 0
        entries = [(lookup(listed, index), []) for index in range(count)]
    else:
        return
    for entry, depends_on in entries:
        if lookup(entry, "assignMembershipOnLogin") is not True:
            continue
        identifier = lookup(entry, "connectionId")
        label = connections.label(identifier, depends_on)
        if lookup(entry, "isSignupEnabled") is True:
            yield label, "organization signup is enabled on it (is_signup_enabled)"
        elif (reason := connections.why_open(identifier, depends_on)) is not None:
            yield label, reason


def _open_rendered_rules(
    resource: PolicyResource, connections: _Connections
) -> Iterator[tuple[str, str, str]]:
    """(organization, connection, why anyone gets in) for each organization whose rule in
    this repository's Action admits any user of a connection anyone can sign up through.
    The code is unknown until the organizations exist (it embeds their ids): on a stack's
    first preview this is checked only during ``pulumi up``."""
    code = lookup(resource.props, "code") if resource.resource_type == ACTION else None
    organizations = rendered_organizations(code) if isinstance(code, str) else None
    for organization in organizations or []:
        if organization.get("anyUser") is not True:
            continue
        for name in organization.get("connections") or []:
            if (reason := connections.why_open(name)) is not None:
                yield str(organization.get("id")), name, reason


def _unreadable_rules(resource: PolicyResource) -> bool:
    """Whether an Action's code holds a configuration block like this repository's component
    renders, whose rules this version cannot read (another version's format): the rules then go
    unchecked, which is said rather than passed over."""
    code = lookup(resource.props, "code") if resource.resource_type == ACTION else None
    if not isinstance(code, str):
        return False
    block = packed_configuration_of(code)
    if block is None or not isinstance(block.get("organizations"), list):
        return False
    return rendered_organizations(code) is None


def _unlimited_open_trust(
    resource: PolicyResource, connections: _Connections
) -> Iterator[tuple[str, str, str]]:
    """(organization, connection, why it is open) for each organization whose rule in this
    repository's Action trusts an open connection's ``email_verified`` for every one of its
    domains: no ``trustedConnectionDomains`` entry limits it. Known once the code is (as
    ``_open_rendered_rules``)."""
    code = lookup(resource.props, "code") if resource.resource_type == ACTION else None
    organizations = rendered_organizations(code) if isinstance(code, str) else None
    for organization in organizations or []:
        limits = organization.get("trustedConnectionDomains")
        limited = set(limits) if isinstance(limits, dict) else set()
        for name in organization.get("trusted") or []:
            if name in limited:
                continue
            if (reason := connections.why_open(name)) is not None:
                yield str(organization.get("id")), name, reason


def validate_open_organizations(args: StackValidationArgs, report: ReportViolation) -> None:
    """No organization lets anyone in: neither Auth0's auto-membership on a connection anyone
    can sign up through, nor (this repository's Action) ``anyUser`` on such a connection, nor
    trust in such a connection's ``email_verified`` for every domain of the organization."""
    connections = _Connections(
        args.resources,
        _config(args, OPEN_SETTINGS, "closedConnections"),
        _config(args, OPEN_SETTINGS, "closedIssuers"),
    )
    for resource in args.resources:
        for connection, reason in _open_enabled_connections(resource, connections):
            report(
                f"{resource.name}: assign_membership_on_login makes everyone who logs in "
                f"through connection {connection} a member, and {reason}. Turn it off, or "
                "list the connection under closedConnections once its signups are closed",
                resource.urn,
            )
        for organization, connection, reason in _open_rendered_rules(resource, connections):
            report(
                f"{resource.name}: organization {organization} admits any user of connection "
                f"{connection} (allowAnyUserOfConnection), and {reason}. Set emailDomains "
                "instead, or list the connection under closedConnections once its signups "
                "are closed",
                resource.urn,
            )
        if _unreadable_rules(resource):
            report(
                f"{resource.name}: its code holds an organizations block this policy pack "
                "cannot read (rendered by another version of the component), so no rule in it "
                "is checked for admitting anyone; run the policy pack of the component's "
                "version that rendered it",
                resource.urn,
            )
        for organization, connection, reason in _unlimited_open_trust(resource, connections):
            report(
                f"{resource.name}: organization {organization} trusts the email_verified of "
                f"connection {connection} for every domain in its emailDomains "
                f"(trustEmailVerifiedFrom), and {reason}: an account there can claim any "
                "address in them. List the domains it may vouch for under "
                f"trustedConnectionDomains.{connection}, or, once it admits only your own "
                "users, list it under closedConnections (its issuer under closedIssuers)",
                resource.urn,
            )


OPEN_SETTINGS = PolicyConfigSchema(
    properties={
        "closedConnections": _strings(
            "Names or ids of connections known to refuse signups, for connections this program "
            "does not declare (looked up, or made elsewhere).",
            [],
        ),
        "closedIssuers": _strings(
            "Identity providers known to admit only the organization's own users: the issuer "
            "of an OIDC or Okta connection (Okta's https://<domain>), the metadata URL (else "
            "sign-in endpoint) of a SAML one.",
            [],
        ),
    },
)
open_organizations = StackValidationPolicy(
    name="auth0-organization-not-open-to-anyone",
    description=(
        "No Auth0 organization lets anyone in through a connection open to signups or to "
        "other directories, nor trusts such a connection's email_verified for all its domains."
    ),
    validate=validate_open_organizations,
    enforcement_level=EnforcementLevel.ADVISORY,
    config_schema=OPEN_SETTINGS,
)


POLICIES: tuple[Policy, ...] = (
    management_grant,
    trigger_actions,
    action_runtime,
    action_dependencies,
    action_secrets,
    action_secrets_out_of_state,
    open_organizations,
)
