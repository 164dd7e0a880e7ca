"""The configuration's schema: one typed, frozen model of everything a stack declares.

Each field says, beside its type and constraints, what to do when a value is refused (its
``hint``); ``auth0_org_assignment.config.messages`` adds it to the error. Rules across fields
are stated once, in the model that holds the fields.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Sequence
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from auth0_org_assignment.config.email_domains import (
    discovery_domains,
    domain_pattern,
    mailbox_provider,
    the_action_reads_them_alike,
)

PROJECT = "auth0-org-assignment"
"""The Pulumi project name, and so the namespace of every key this program reads."""

# Auth0's rules for organizations and the limits the program keeps to.
ORGANIZATION_NAME_MAX = 50
DISPLAY_NAME_MAX = 255
METADATA_ENTRIES_MAX = 25
METADATA_TEXT_MAX = 255
CONNECTIONS_MAX = 10
"""The most connections Auth0 enables on an organization."""
BUDGET_MIN_MS, BUDGET_MAX_MS = 500, 15_000
ACTION_NAME_MAX = 100
DENY_MESSAGE_MAX = 200
HEX_COLOUR = r"^#[0-9A-Fa-f]{6}$"
NOT_BLANK = r"\S"
# Where Auth0 serves a tenant: <tenant>.auth0.com or <tenant>.<region>.auth0.com.
AUTH0_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}(\.[a-z]{2}[0-9]?)?\.auth0\.com$")
LOCAL_DOMAIN = re.compile(r"^localhost:[0-9]{1,5}$")
RESERVED_PROPERTY_NAMES = frozenset({"__proto__", "constructor", "prototype"})


def hint(text: str) -> dict[str, Any]:
    """What to do when the field's value is refused: ``Field(json_schema_extra=hint(...))``."""
    return {"hint": text}


RULE_CLAUSE = {"ruleClause": True}
"""Marks an organization key the rule (membership.js) reads as it is: ``Field(json_schema_extra=
hint(...) | RULE_CLAUSE)`` renders it into the organization's rule under its configuration
name, for an organization that sets it."""
ACTION_SETTING = {"actionSetting": True}
"""Marks an ``action`` key the Action reads as it is: ``Field(json_schema_extra=hint(...) |
ACTION_SETTING)`` renders it into the Action's settings under its configuration name."""


StrictInt = Annotated[int, Field(strict=True)]
StrictBool = Annotated[
    bool, Field(strict=True, json_schema_extra=hint("use true or false, without quotes"))
]
Colour = Annotated[str | None, Field(pattern=HEX_COLOUR, json_schema_extra=hint("use #RRGGBB"))]
MetadataKey = Annotated[str, Field(min_length=1, max_length=METADATA_TEXT_MAX, pattern=NOT_BLANK)]
MetadataValue = Annotated[str, Field(max_length=METADATA_TEXT_MAX)]
ConnectionName = Annotated[str, Field(min_length=1, max_length=128, pattern=NOT_BLANK)]


def _listed_once(names: list[str]) -> list[str]:
    repeated = _repeated(names)
    if repeated:
        raise ValueError(f"lists {repeated} more than once; list each once")
    return names


ConnectionList = Annotated[
    list[ConnectionName],
    Field(
        min_length=1,
        max_length=CONNECTIONS_MAX,
        json_schema_extra=hint(
            f"list 1 to {CONNECTIONS_MAX} connection names as they appear in the tenant"
        ),
    ),
    AfterValidator(_listed_once),
]
ClientId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
DNS_PORT = 53


def dns_server_address(server: str) -> tuple[str, int]:
    """A ``dnsResolvers`` entry as the address and port a lookup asks: ``127.0.0.1:5353`` ->
    ("127.0.0.1", 5353), ``[::1]:5353`` -> ("::1", 5353), without a port on 53. The one
    reading of an entry: the schema refuses what it cannot read, the proofs ask what it reads."""
    try:
        parts = urlsplit(f"//{server}")
        host, port = parts.hostname or "", parts.port
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(
            "is not an IP address (an IPv6 one in brackets) with an optional port"
        ) from None
    if port == 0:
        raise ValueError("has port 0, which no DNS server answers on")
    return host, DNS_PORT if port is None else port


def _dns_server(server: str) -> str:
    dns_server_address(server)
    return server


DnsServer = Annotated[
    str,
    Field(pattern=r"^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\])(:\d{1,5})?$"),
    AfterValidator(_dns_server),
]
RoleName = Annotated[str, Field(min_length=1, max_length=50, pattern=NOT_BLANK)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class BrandingColours(_Model):
    """Colours of the organization's login pages; Auth0 takes both or neither."""

    primary: Colour = None
    """Primary colour, ``#RRGGBB``."""
    page_background: Annotated[Colour, Field(alias="pageBackground")] = None
    """Page background colour, ``#RRGGBB``."""

    @model_validator(mode="after")
    def _both_or_neither(self) -> BrandingColours:
        if (self.primary is None) != (self.page_background is None):
            raise ValueError("set both primary and pageBackground, or neither")
        return self


class Branding(_Model):
    """Optional branding shown on the organization's login pages."""

    logo_url: Annotated[
        str | None,
        Field(alias="logoUrl", max_length=2048, json_schema_extra=hint("use an https:// URL")),
    ] = None
    """An https URL of the logo."""
    colors: Annotated[
        BrandingColours | None,
        Field(json_schema_extra=hint("Auth0 takes primary and pageBackground together")),
    ] = None
    """Login page colours."""

    @field_validator("logo_url")
    @classmethod
    def _https_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname or re.search(r"\s", url):
            raise ValueError("must be an absolute https:// URL with a host and no spaces")
        return url


class OrganizationConfig(_Model):
    """An Auth0 Organization users are assigned to, and who may join it."""

    name: Annotated[
        str,
        Field(
            min_length=1,
            max_length=ORGANIZATION_NAME_MAX,
            pattern=r"^[a-z0-9_-]+$",
            json_schema_extra=hint(
                "use lowercase letters, digits, '-' and '_', "
                f"at most {ORGANIZATION_NAME_MAX} characters"
            ),
        ),
    ]
    """Auth0's identifier: lowercase letters, digits, ``-`` and ``_``."""
    display_name: Annotated[
        str,
        Field(
            alias="displayName",
            min_length=1,
            max_length=DISPLAY_NAME_MAX,
            pattern=NOT_BLANK,
            json_schema_extra=hint(f"use 1 to {DISPLAY_NAME_MAX} characters, not only spaces"),
        ),
    ]
    """The name people see on the login page."""
    branding: Branding | None = None
    """Logo and colours of the organization's login pages."""
    metadata: Annotated[
        dict[MetadataKey, MetadataValue],
        Field(
            max_length=METADATA_ENTRIES_MAX,
            json_schema_extra=hint(
                f"at most {METADATA_ENTRIES_MAX} entries of text, keys and values up to "
                f"{METADATA_TEXT_MAX} characters"
            ),
        ),
    ] = {}
    """String key/value pairs stored on the organization. Removing an entry here removes it
    from the tenant."""
    connections: ConnectionList | None = None
    """In ``organizations`` entries: the connections enabled on this organization; a login must
    come through one of them. (With ``organization``, the top-level ``connections``.)"""
    allow_free_mail_domains: Annotated[StrictBool, Field(alias="allowFreeMailDomains")] = False
    """``emailDomains`` may list free-mail domains (``gmail.com``): everyone with a mailbox
    there joins, which only a community organization means. Such a domain is admitted without
    proof of ownership, which nobody but the mail provider could publish. Throwaway-mail
    domains are refused even so."""
    email_domains: Annotated[list[str], Field(alias="emailDomains", max_length=50)] = []
    """Verified email domains that may join: ``acme.com`` exactly, ``*.acme.com`` any subdomain.
    The user's ``email_verified`` must be true, and vouched for (see ``trustEmailVerifiedFrom``).
    Each domain admits only once proven: the stack declares it as the organization's discovery
    domain, and its owner publishes the TXT record Auth0 names (``auth0-org-assignment domains
    STACK``; a ``*.`` pattern is proven by its apex)."""
    trust_email_verified_from: Annotated[
        list[ConnectionName], Field(alias="trustEmailVerifiedFrom", max_length=10)
    ] = []
    """Connections (social, enterprise) whose ``email_verified`` is trusted for ``emailDomains``;
    Auth0's own database and passwordless email connections verify it themselves."""
    trusted_connection_domains: Annotated[
        dict[ConnectionName, Annotated[list[str], Field(min_length=1, max_length=50)]],
        Field(
            alias="trustedConnectionDomains",
            max_length=10,
            json_schema_extra=hint(
                "map each connection of trustEmailVerifiedFrom to the emailDomains entries it "
                "may vouch for, e.g. {acme-okta: [acme.com, '*.acme.com']}"
            )
            | RULE_CLAUSE,
        ),
    ] = {}
    """For a connection of ``trustEmailVerifiedFrom``: the ``emailDomains`` entries (``acme.com``,
    ``*.acme.com``) whose addresses it may vouch for; its ``email_verified`` counts for no other.
    A trusted connection not listed vouches for every entry. A connection that lets in users
    of directories other than the organization's own (a multi-tenant Azure AD one, an OIDC, Okta
    or SAML one whose issuer is not known closed, a social one) must be listed: the policy
    pack's ``auth0-organization-not-open-to-anyone`` reports it otherwise."""
    applications: Annotated[list[ClientId] | None, Field(min_length=1)] = None
    """Client ids of the applications whose logins may assign (default: any)."""
    roles: Annotated[list[RoleName], Field(max_length=20)] = []
    """Organization roles (names in the tenant) given to each member the Action adds."""
    allow_any_user_of_connection: Annotated[StrictBool, Field(alias="allowAnyUserOfConnection")] = (
        False
    )
    """Every user of the connections may join, whatever their email; not with ``emailDomains``.
    Must be said explicitly: on a database connection with signups, or a social one, that is
    anyone."""

    @field_validator("email_domains")
    @classmethod
    def _domains(cls, patterns: list[str], info: ValidationInfo) -> list[str]:
        domains = [domain_pattern(pattern) for pattern in patterns]
        the_action_reads_them_alike(patterns, domains)
        for domain in domains:
            provider = mailbox_provider(domain)
            if provider == "throwaway":
                raise ValueError(
                    f"{domain} is a throwaway-mail domain: anyone gets a mailbox there in "
                    "seconds, so an address proves nothing about who holds it; remove it"
                )
            if provider == "free" and domain.startswith("*."):
                apex = domain.removeprefix("*.")
                raise ValueError(
                    f"{domain} covers every domain under the free-mail domain {apex}, each "
                    "someone's own (at some providers one for each of their users), which would "
                    f"join unproven; list {apex} itself (with allowFreeMailDomains: true), or "
                    "each domain under it on its own, proven like any other"
                )
            if provider == "free" and not info.data.get("allow_free_mail_domains"):
                raise ValueError(
                    f"{domain} is a free-mail domain: everyone with a mailbox there would "
                    "join, whoever they are; list the organization's own domains, or set "
                    "allowFreeMailDomains: true if everyone there belongs in it (a community "
                    "organization)"
                )
        return domains

    @field_validator("trusted_connection_domains")
    @classmethod
    def _trusted_domains(cls, limits: dict[str, list[str]]) -> dict[str, list[str]]:
        return {
            connection: [domain_pattern(pattern) for pattern in patterns]
            for connection, patterns in limits.items()
        }

    @model_validator(mode="after")
    def _trusted_for_its_own_domains(self) -> OrganizationConfig:
        limits = self.trusted_connection_domains
        untrusted = sorted(set(limits) - set(self.trust_email_verified_from))
        if untrusted:
            raise ValueError(
                f"trustedConnectionDomains names {', '.join(untrusted)}, which "
                "trustEmailVerifiedFrom does not list: a connection's limit applies only to a "
                "connection trusted there; add it to trustEmailVerifiedFrom, or remove it from "
                "trustedConnectionDomains"
            )
        for connection, domains in limits.items():
            unknown = [domain for domain in domains if domain not in self.email_domains]
            if unknown:
                raise ValueError(
                    f"trustedConnectionDomains.{connection} lists {', '.join(unknown)}, not "
                    f"among emailDomains ({', '.join(self.email_domains) or 'none'}); list "
                    "only emailDomains entries, as they are written there (acme.com, *.acme.com)"
                )
        return self

    def rule_clauses(self) -> dict[str, Any]:
        """The keys marked ``RULE_CLAUSE`` this organization sets, by configuration name."""
        return _marked(self, "ruleClause", keep_empty=False)

    @model_validator(mode="after")
    def _who_may_join(self) -> OrganizationConfig:
        if self.email_domains and self.allow_any_user_of_connection:
            raise ValueError(
                "sets both emailDomains and allowAnyUserOfConnection: true, but "
                "allowAnyUserOfConnection admits every user of the connections whatever their "
                "email, so emailDomains would limit nothing; remove allowAnyUserOfConnection to "
                "admit only those domains, or emailDomains to admit everyone"
            )
        if not self.email_domains and not self.allow_any_user_of_connection:
            raise ValueError(
                "says only which connections may join, so anyone who can sign up or log in "
                "through them would become a member (on a social connection, anyone in the "
                "world); add emailDomains, or set allowAnyUserOfConnection: true if every user "
                "of those connections belongs in the organization"
            )
        return self


class ActionConfig(_Model):
    """Options of the post-login Action that assigns users."""

    name: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=ACTION_NAME_MAX,
            pattern=NOT_BLANK,
            json_schema_extra=hint(f"use 1 to {ACTION_NAME_MAX} characters, not only spaces"),
        ),
    ] = None
    """The Action's name in the tenant; defaults to ``assign-to-<organization name>``."""
    connection_check: Annotated[
        Literal["static", "api"],
        Field(
            alias="connectionCheck",
            json_schema_extra=hint("use 'static' or 'api'") | ACTION_SETTING,
        ),
    ] = "static"
    """``static``: compare the login's connection name with ``connections`` (no API call);
    ``api``: ask the Management API whether the connection is enabled on the organization."""
    time_budget_ms: Annotated[
        StrictInt,
        Field(
            alias="timeBudgetMs",
            ge=BUDGET_MIN_MS,
            le=BUDGET_MAX_MS,
            json_schema_extra=hint(
                f"a whole number of milliseconds from {BUDGET_MIN_MS} to {BUDGET_MAX_MS}, "
                "without quotes"
            )
            | ACTION_SETTING,
        ),
    ] = 3000
    """The most the stack's Action that owns a login may add to it, in milliseconds; with the
    others' routing it must leave room in the flow's 20 s (``auth0_org_assignment.action_code``)."""
    failure_policy: Annotated[
        Literal["open", "closed"],
        Field(
            alias="failurePolicy", json_schema_extra=hint("use 'open' or 'closed'") | ACTION_SETTING
        ),
    ] = "open"
    """``open``: log and let the login go on; ``closed``: deny the login with ``denyMessage``."""
    deny_message: Annotated[
        str,
        Field(
            alias="denyMessage",
            min_length=1,
            max_length=DENY_MESSAGE_MAX,
            pattern=NOT_BLANK,
            json_schema_extra=hint(f"use 1 to {DENY_MESSAGE_MAX} characters, not only spaces")
            | ACTION_SETTING,
        ),
    ] = "Sign-in could not be completed. Please try again later."
    """What the end user sees when ``failurePolicy`` is ``closed`` and assignment fails."""
    app_metadata_key: Annotated[
        str,
        Field(
            alias="appMetadataKey",
            pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$",
            json_schema_extra=hint(
                "a JavaScript identifier, not " + ", ".join(sorted(RESERVED_PROPERTY_NAMES))
            ),
        ),
    ] = "org_assignment"
    """The prefix of the ``app_metadata`` keys under which the Action marks the users it
    assigned (``<key>:<organization id>``)."""

    claim_namespace: Annotated[
        str,
        Field(
            alias="claimNamespace",
            max_length=200,
            json_schema_extra=hint(
                "an http:// or https:// URL of your own, e.g. https://acme.com/ (Auth0's own "
                "domains are reserved)"
            ),
        ),
    ] = "https://auth0-org-assignment/"
    """The namespace of the claim the Action adds to the ID and access tokens of a login that
    made the user a member of organizations: ``<namespace>joined_organizations``, their ids. The
    application then signs the user in again to one of them (``organization=<id>``)."""

    credential_rotation: Annotated[
        StrictInt,
        Field(
            alias="credentialRotation",
            ge=0,
            json_schema_extra=hint("a whole number from 0 up, without quotes; raise it by one"),
        ),
    ] = 0
    """Raise it to rotate the Action's Management API credential: the next ``pulumi up``
    rotates the idle one of the two applications' secrets and switches the Action to it
    (``auth0_org_assignment.action_credential``)."""

    def settings(self) -> dict[str, Any]:
        """The keys marked ``ACTION_SETTING``, by their configuration names."""
        return _marked(self, "actionSetting", keep_empty=True)

    @field_validator("claim_namespace")
    @classmethod
    def _a_namespace_of_your_own(cls, namespace: str) -> str:
        # Auth0's Create Custom Claims: any non-Auth0 HTTP or HTTPS URL; auth0.com, webtask.io
        # and webtask.run are Auth0's (https://auth0.com/docs/secure/tokens/json-web-tokens/create-custom-claims).
        parts = urlsplit(namespace)
        host = (parts.hostname or "").lower()
        reserved = ("auth0.com", "webtask.io", "webtask.run")
        if parts.scheme not in ("http", "https") or not host or re.search(r"\s", namespace):
            raise ValueError("must be an http:// or https:// URL with a host and no spaces")
        if any(host == domain or host.endswith(f".{domain}") for domain in reserved):
            raise ValueError(f"{host} is Auth0's: Auth0 drops claims in its own namespaces")
        return namespace if namespace.endswith("/") else f"{namespace}/"

    @field_validator("app_metadata_key")
    @classmethod
    def _not_reserved(cls, key: str) -> str:
        if key in RESERVED_PROPERTY_NAMES:
            raise ValueError(f"{key} is a JavaScript object's own property name")
        return key


class StackConfig(_Model):
    """Everything one stack (one environment) declares."""

    tenant_domain: Annotated[str, Field(alias="auth0:domain")]
    """The tenant's canonical domain (``auth0:domain``), e.g. ``acme-dev.eu.auth0.com``."""
    domain_kind: Annotated[
        Literal["auth0", "local"],
        Field(alias="domainKind", json_schema_extra=hint("use 'auth0' or 'local'")),
    ] = "auth0"
    """``auth0``: ``auth0:domain`` must be ``<tenant>[.<region>].auth0.com``, the canonical
    domain; ``local``: ``localhost:<port>`` (localtenant). A custom domain is never the
    Management API's: Auth0 serves it, and issues its tokens for it, only on the canonical one."""
    organization: OrganizationConfig | None = None
    """The one organization users are assigned to (or use ``organizations``)."""
    organizations_list: Annotated[
        list[OrganizationConfig] | None, Field(alias="organizations", min_length=1)
    ] = None
    """Several organizations, each with its own connections and rule."""
    connections: Annotated[
        ConnectionList | None,
        Field(
            json_schema_extra=hint(
                f"list 1 to {CONNECTIONS_MAX} connection names as they appear in the tenant"
            )
        ),
    ] = None
    """With ``organization``: the connections enabled on it, and allowed to assign."""
    assign_membership_on_login: Annotated[StrictBool, Field(alias="assignMembershipOnLogin")] = (
        False
    )
    """Auth0's own auto-membership for users who log in through the organization's prompt; it
    ignores ``emailDomains`` and ``applications``, so only where every organization sets
    ``allowAnyUserOfConnection`` and lists no ``applications``."""
    action: ActionConfig = ActionConfig()
    """Options of the post-login Action."""
    dns_resolvers: Annotated[
        list[DnsServer],
        Field(
            alias="dnsResolvers",
            max_length=5,
            json_schema_extra=hint("list host:port of DNS servers, e.g. 127.0.0.1:5353"),
        ),
    ] = []
    """The DNS servers that look up the records proving the email domains (``host:port``);
    empty: the machine's own. Whatever they answer proves a domain, so name only resolvers you
    trust, and review a change to this key as you would a new email domain. Tests and the local
    demo name a server on loopback."""

    @field_validator("domain_kind", mode="before")
    @classmethod
    def _no_custom_kind(cls, kind: Any) -> Any:
        if kind == "custom":
            raise ValueError(
                "'custom' is no longer a domain kind: the Management API's host and audience are "
                "always the tenant's canonical domain, never a custom one (Auth0's Custom Domains "
                "docs); remove domainKind and set auth0:domain to the tenant's domain "
                "(<tenant>.<region>.auth0.com, Dashboard > Settings > Domain)"
            )
        return kind

    @field_validator("organization", "organizations_list", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        # Pulumi.yaml gives these alternatives empty defaults (see there).
        return None if value in ({}, []) else value

    @field_validator("connections", mode="before")
    @classmethod
    def _unset_with_organizations(cls, value: Any, info: ValidationInfo) -> Any:
        # Its empty default means "not set" only where organizations are listed instead.
        return None if value == [] and info.data.get("organizations_list") else value

    @model_validator(mode="after")
    def _one_form(self) -> StackConfig:
        if (self.organization is None) == (self.organizations_list is None):
            raise ValueError(
                f"set either {PROJECT}:organization (with {PROJECT}:connections) or "
                f"{PROJECT}:organizations, not both and not neither"
            )
        if self.organization is not None:
            if self.connections is None:
                raise ValueError(f"{PROJECT}:connections: required with {PROJECT}:organization")
            if self.organization.connections is not None:
                raise ValueError(
                    f"{PROJECT}:organization.connections: use the top-level {PROJECT}:connections"
                )
        else:
            if self.connections is not None:
                raise ValueError(
                    f"{PROJECT}:connections: with {PROJECT}:organizations, give each entry its "
                    "own connections"
                )
            for index, entry in enumerate(self.organizations_list or []):
                if entry.connections is None:
                    raise ValueError(f"{PROJECT}:organizations[{index}].connections: required")
            repeated = _repeated([entry.name for entry in self.organizations_list or []])
            if repeated:
                raise ValueError(f"{PROJECT}:organizations: {repeated} listed more than once")
        return self

    @model_validator(mode="after")
    def _resources_named_apart(self) -> StackConfig:
        # Names (`within`) may come out alike: Pulumi refuses two resources of one name only
        # when the second registers, after an `up --skip-preview` has started creating others.
        for kind in ("connection", "discovery domain"):
            named: dict[str, tuple[str, str]] = {}
            for organization in self.organizations:
                for item in _named_by(organization, kind):
                    key = within(organization, item)
                    other = named.setdefault(key, (organization.name, item))
                    if other != (organization.name, item):
                        raise ValueError(
                            f"{PROJECT}:organizations: {other[0]}'s {kind} {other[1]} and "
                            f"{organization.name}'s {kind} {item} would both be named "
                            f"…-{kind.replace(' ', '-')}-{key}, and Pulumi refuses two "
                            "resources of one name; rename one of the organizations"
                        )
        return self

    @model_validator(mode="after")
    def _trusted_connections_are_enabled(self) -> StackConfig:
        for index, organization in enumerate(self.organizations):
            untrusted = sorted(
                set(organization.trust_email_verified_from) - set(organization.connections or [])
            )
            if untrusted:
                where = (
                    f"{PROJECT}:organization"
                    if self.organization is not None
                    else f"{PROJECT}:organizations[{index}]"
                )
                raise ValueError(
                    f"{where}.trustEmailVerifiedFrom names {', '.join(untrusted)}, not among "
                    "the connections it enables; list connections the organization enables"
                )
        return self

    @model_validator(mode="after")
    def _auto_membership_only_where_anyone_may_join(self) -> StackConfig:
        if not self.assign_membership_on_login:
            return self
        for index, organization in enumerate(self.organizations):
            where = (
                f"{PROJECT}:organization"
                if self.organization is not None
                else f"{PROJECT}:organizations[{index}]"
            )
            if organization.email_domains:
                raise ValueError(
                    f"{PROJECT}:assignMembershipOnLogin: true makes Auth0 add everyone who logs "
                    f"in through the organization prompt, whatever their email, so "
                    f"{where}.emailDomains would limit nothing (and reconcile could not remove "
                    "them: the stack did not add them); remove assignMembershipOnLogin to admit "
                    "only those domains"
                )
            if organization.applications is not None:
                raise ValueError(
                    f"{PROJECT}:assignMembershipOnLogin: true makes Auth0 add everyone who logs "
                    "in through the organization prompt, to any application that takes "
                    f"organizations, so {where}.applications would limit nothing (and reconcile "
                    "could not remove them: the stack did not add them); remove "
                    "assignMembershipOnLogin to admit only through logins to those applications"
                )
        return self

    @model_validator(mode="after")
    def _domain_of_its_kind(self) -> StackConfig:
        rule = {"auth0": AUTH0_DOMAIN, "local": LOCAL_DOMAIN}
        if not rule[self.domain_kind].match(self.tenant_domain):
            raise ValueError(_DOMAIN_PROBLEM[self.domain_kind].format(self.tenant_domain))
        return self

    @property
    def organizations(self) -> tuple[OrganizationConfig, ...]:
        """Every organization, each with its own connections filled in."""
        if self.organization is not None:
            return (self.organization.model_copy(update={"connections": self.connections}),)
        return tuple(self.organizations_list or ())

    @property
    def all_connections(self) -> tuple[str, ...]:
        """Every connection some organization enables, each once, in order of appearance."""
        return tuple(
            dict.fromkeys(name for org in self.organizations for name in org.connections or [])
        )

    @property
    def action_name(self) -> str:
        """The Action's name in the tenant."""
        if self.action.name:
            return self.action.name
        if self.organization is not None:
            return f"assign-to-{self.organization.name}"
        return "assign-to-organizations"


def _marked(model: BaseModel, mark: str, keep_empty: bool) -> dict[str, Any]:
    """The fields of ``model`` whose schema extra holds ``mark``, by alias (set ones only
    unless ``keep_empty``), as JSON values."""
    values = model.model_dump(mode="json", by_alias=True)
    return {
        info.alias or name: values[info.alias or name]
        for name, info in type(model).model_fields.items()
        if isinstance(info.json_schema_extra, dict)
        and info.json_schema_extra.get(mark)
        and (keep_empty or values[info.alias or name] not in (None, False, [], {}))
    }


def within(organization: OrganizationConfig, item: str) -> str:
    """An organization's connection or discovery domain as the names of its resources hold it
    (``…-connection-<this>``, component.LogicalNames): the organization's name, then the item's.
    Both may hold hyphens, so two can come out alike (checked by ``_resources_named_apart``)."""
    return f"{organization.name}-{item}"


def _named_by(organization: OrganizationConfig, kind: str) -> Sequence[str]:
    """What names an organization's resources of ``kind``: its connections, or its discovery
    domains."""
    if kind == "connection":
        return organization.connections or []
    return discovery_domains(organization.email_domains)


def _repeated(names: list[str]) -> str:
    """The names listed more than once, or "" (in one pass: a stack lists thousands)."""
    counts = Counter(names)
    return ", ".join(sorted(name for name, count in counts.items() if count > 1))


# The deployer's and the Action's credentials go to this host: refuse anything else.
_DOMAIN_PROBLEM = {
    "auth0": (
        "auth0:domain: {!r} is not a tenant's canonical domain; use <tenant>.auth0.com or "
        "<tenant>.<region>.auth0.com (Dashboard > Settings > Domain). A custom domain cannot be "
        "used: Auth0 serves the Management API, and issues tokens for its audience, only on the "
        "canonical domain"
    ),
    "local": "auth0:domain: {!r} is not localhost:<port>, where the local tenant serves",
}
