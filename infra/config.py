"""The stack's configuration: one typed, frozen model, read from Pulumi or from a stack file.

Everything is validated before a single resource is registered. An error names the full
config key (``auth0-org-assignment:organization.name``) and says what to do about it; every
problem is listed at once.
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import idna
import pulumi
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from infra import node

PROJECT = "auth0-org-assignment"
"""The Pulumi project name, and so the namespace of every key this program reads."""

ROOT = Path(__file__).resolve().parent.parent

PROVIDER_KEYS = frozenset(
    {
        "domain",
        "clientId",
        "clientSecret",
        "apiToken",
        "audience",
        "debug",
        "cliLogin",
        "clientAssertionPrivateKey",
        "clientAssertionSigningAlg",
        "customDomainHeader",
        "dynamicCredentials",
    }
)
"""The auth0 provider's own config keys (``auth0:<key>``)."""
PROVIDER_SECRET_KEYS = frozenset({"clientSecret", "apiToken", "clientAssertionPrivateKey"})

# Auth0's rule for organization names.
ORGANIZATION_NAME = r"^[a-z0-9_-]+$"
HEX_COLOUR = r"^#[0-9A-Fa-f]{6}$"
NOT_BLANK = r"\S"
# Where Auth0 serves a tenant: <tenant>.auth0.com or <tenant>.<region>.auth0.com.
AUTH0_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}(\.[a-z]{2}[0-9]?)?\.auth0\.com$")
LOCAL_DOMAIN = re.compile(r"^localhost:[0-9]{1,5}$")
RESERVED_PROPERTY_NAMES = frozenset({"__proto__", "constructor", "prototype"})
ECHO_MAX = 60
"""Longest input an error message repeats."""

StrictInt = Annotated[int, Field(strict=True)]
StrictBool = Annotated[bool, Field(strict=True)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class BrandingColours(_Model):
    """Colours of the organization's login pages; Auth0 takes both or neither."""

    primary: Annotated[str, Field(pattern=HEX_COLOUR)] | None = None
    """Primary colour, ``#RRGGBB``."""
    page_background: Annotated[str | None, Field(alias="pageBackground", pattern=HEX_COLOUR)] = None
    """Page background colour, ``#RRGGBB``."""

    @model_validator(mode="after")
    def _both_or_neither(self) -> BrandingColours:
        if (self.primary is None) != (self.page_background is None):
            raise ValueError("set both primary and pageBackground, or neither")
        return self


class Branding(_Model):
    """Optional branding shown on the organization's login pages."""

    logo_url: Annotated[str | None, Field(alias="logoUrl", max_length=2048)] = None
    """An https URL of the logo."""
    colors: BrandingColours | None = None
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


MetadataKey = Annotated[str, Field(min_length=1, max_length=255, pattern=NOT_BLANK)]
MetadataValue = Annotated[str, Field(max_length=255)]
ConnectionName = Annotated[str, Field(min_length=1, max_length=128, pattern=NOT_BLANK)]
ConnectionList = Annotated[list[ConnectionName], Field(min_length=1, max_length=10)]
ClientId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
RoleName = Annotated[str, Field(min_length=1, max_length=50, pattern=NOT_BLANK)]
HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
HOST_MAX = 253
DEVIATIONS = {"\u00df": "ß", "\u03c2": "ς", "\u200c": "ZWNJ (U+200C)", "\u200d": "ZWJ (U+200D)"}
"""UTS 46's deviation characters: IDNA 2003 and transitional processing drop or replace them
(``ß`` -> ``ss``), browsers and Node keep them. A domain holding one names two domains."""


def domain_pattern(pattern: str) -> str:
    """``Acme.COM`` -> ``acme.com``; ``*.Bücher.de`` -> ``*.xn--bcher-kva.de``; else ValueError.

    Mapped as browsers and Node map host names (UTS 46, non-transitional), which is how the
    Action maps the domain of a user's address (``emailDomain`` in action_templates/membership.js):
    a pattern must mean one domain to both. So a domain holding a deviation character, or one
    that maps to another spelling than its own (full-width letters), is refused, naming what to
    write instead."""
    wildcard = pattern.startswith("*.")
    host = pattern[2:] if wildcard else pattern
    not_a_domain = f"{pattern!r} is not a domain name; use e.g. acme.com or *.acme.com"
    try:
        mapped = idna.uts46_remap(host, std3_rules=True, transitional=False)
    except (idna.IDNAError, UnicodeError):
        raise ValueError(not_a_domain) from None
    deviation = next((DEVIATIONS[c] for c in mapped if c in DEVIATIONS), None)
    if deviation:
        raise ValueError(
            f"{pattern!r} holds {deviation}, which IDNA 2003 software maps to another domain "
            "than browsers do, so it names two registered domains; write the one you mean: "
            f"{_ascii_or(mapped)} (as browsers read it) or {_ascii_or(host, 'idna')} "
            "(as IDNA 2003 reads it)"
        )
    try:
        ascii_host = idna.encode(mapped, uts46=False).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise ValueError(not_a_domain) from None
    if mapped != unicodedata.normalize("NFC", host.lower()):
        shown = ("*." if wildcard else "") + mapped
        raise ValueError(f"{pattern!r} maps to the domain {shown!r}; write that instead")
    labels = ascii_host.split(".")
    if (
        len(ascii_host) > HOST_MAX
        or len(labels) < 2
        or not all(HOST_LABEL.match(label) for label in labels)
        or _ends_in_a_number(labels[-1])
    ):
        raise ValueError(not_a_domain)
    return ("*." if wildcard else "") + ascii_host


def _the_action_reads_them_alike(patterns: list[str], domains: list[str]) -> None:
    """Refuse a domain the Action would read otherwise: Python's ``idna`` and the Action's Node
    map some code points differently (their Unicode versions differ), so an address spelled as
    the pattern is would match no domain at all. Only non-ASCII patterns can differ: Node is
    asked about those (once per set of them)."""
    unicode = [(p, d) for p, d in zip(patterns, domains, strict=True) if not p.isascii()]
    if not unicode:
        return
    hosts = tuple(pattern.removeprefix("*.") for pattern, _ in unicode)
    try:
        read = node.domains_as_the_action_reads(hosts)
    except node.NodeMissing as missing:
        raise ValueError(f"the email domains cannot be checked: {missing}") from None
    for (pattern, domain), shown in zip(unicode, read, strict=True):
        if shown != domain.removeprefix("*."):
            raise ValueError(
                f"{pattern!r} maps to {domain!r} here, but the Action reads an address spelled "
                f"so as {'no domain' if shown is None else repr(shown)}: nobody could join "
                f"through it; write the domain as its A-label ({domain}) if that is the one"
            )


def _ends_in_a_number(label: str) -> bool:
    """A last label browsers and Node read as an IPv4 address part (WHATWG's "ends in a
    number"): decimal digits, or 0x and hexadecimal digits."""
    return label.isdigit() or bool(re.fullmatch(r"0x[0-9a-f]*", label))


def _ascii_or(host: str, codec: str = "") -> str:
    """``host`` in ASCII: by UTS 46 (the ``idna`` package), or by Python's IDNA 2003 codec."""
    try:
        if codec:
            return host.encode(codec).decode("ascii")
        return idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return "no valid domain"


class OrganizationConfig(_Model):
    """An Auth0 Organization users are assigned to, and who may join it."""

    name: Annotated[str, Field(min_length=1, max_length=50, pattern=ORGANIZATION_NAME)]
    """Auth0's identifier: lowercase letters, digits, ``-`` and ``_``, at most 50 characters."""
    display_name: Annotated[
        str, Field(alias="displayName", min_length=1, max_length=255, pattern=NOT_BLANK)
    ]
    """The name people see on the login page."""
    branding: Branding | None = None
    """Logo and colours of the organization's login pages."""
    metadata: Annotated[dict[MetadataKey, MetadataValue], Field(max_length=25)] = {}
    """Up to 25 string key/value pairs stored on the organization (keys and values at most 255
    characters). Removing an entry here removes it from the tenant."""
    connections: ConnectionList | None = None
    """In ``organizations`` entries: the connections enabled on this organization; a login must
    come through one of them. (With ``organization``, the top-level ``connections``.)"""
    email_domains: Annotated[list[str], Field(alias="emailDomains", max_length=50)] = []
    """Verified email domains that may join: ``acme.com`` exactly, ``*.acme.com`` any subdomain.
    The user's ``email_verified`` must be true, and vouched for (see ``trustEmailVerifiedFrom``)."""
    trust_email_verified_from: Annotated[
        list[ConnectionName], Field(alias="trustEmailVerifiedFrom", max_length=10)
    ] = []
    """Connections (social, enterprise) whose ``email_verified`` is trusted for ``emailDomains``;
    Auth0's own database and passwordless email connections verify it themselves."""
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
    def _domains(cls, patterns: list[str]) -> list[str]:
        domains = [domain_pattern(pattern) for pattern in patterns]
        _the_action_reads_them_alike(patterns, domains)
        return domains

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
        if self.connections:
            untrusted = sorted(set(self.trust_email_verified_from) - set(self.connections))
            if untrusted:
                raise ValueError(
                    f"trustEmailVerifiedFrom names {', '.join(untrusted)}, not among its "
                    "connections; list connections the organization enables"
                )
        return self


class ActionConfig(_Model):
    """Options of the post-login Action that assigns users."""

    name: Annotated[str | None, Field(min_length=1, max_length=100, pattern=NOT_BLANK)] = None
    """The Action's name in the tenant; defaults to ``assign-to-<organization name>``."""
    connection_check: Annotated[Literal["static", "api"], Field(alias="connectionCheck")] = "static"
    """``static``: compare the login's connection name with ``connections`` (no API call);
    ``api``: ask the Management API whether the connection is enabled on the organization."""
    time_budget_ms: Annotated[StrictInt, Field(alias="timeBudgetMs", ge=500, le=15000)] = 3000
    """The most the Action may add to a login, in milliseconds (Auth0 stops a flow at 20 s)."""
    failure_policy: Annotated[Literal["open", "closed"], Field(alias="failurePolicy")] = "open"
    """``open``: log and let the login go on; ``closed``: deny the login with ``denyMessage``."""
    deny_message: Annotated[
        str, Field(alias="denyMessage", min_length=1, max_length=200, pattern=NOT_BLANK)
    ] = "Sign-in could not be completed. Please try again later."
    """What the end user sees when ``failurePolicy`` is ``closed`` and assignment fails."""
    app_metadata_key: Annotated[
        str, Field(alias="appMetadataKey", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
    ] = "org_assignment"
    """The ``app_metadata`` key under which the Action marks users it assigned."""

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
    domain_kind: Annotated[Literal["auth0", "local"], Field(alias="domainKind")] = "auth0"
    """``auth0``: ``auth0:domain`` must be ``<tenant>[.<region>].auth0.com``, the canonical
    domain; ``local``: ``localhost:<port>`` (localtenant). A custom domain is never the
    Management API's: Auth0 serves it, and issues its tokens for it, only on the canonical one."""
    organization: OrganizationConfig | None = None
    """The one organization users are assigned to (or use ``organizations``)."""
    organizations_list: Annotated[
        list[OrganizationConfig] | None, Field(alias="organizations", min_length=1)
    ] = None
    """Several organizations, each with its own connections and rule."""
    connections: ConnectionList | None = None
    """With ``organization``: the connections enabled on it, and allowed to assign (Auth0
    enables at most 10 connections on an organization)."""
    assign_membership_on_login: Annotated[StrictBool, Field(alias="assignMembershipOnLogin")] = (
        False
    )
    """Auth0's own auto-membership for users who log in through the organization's prompt."""
    action: ActionConfig = ActionConfig()
    """Options of the post-login Action."""

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

    @field_validator("connections")
    @classmethod
    def _unique(cls, names: list[str] | None) -> list[str] | None:
        duplicates = sorted({name for name in names or [] if (names or []).count(name) > 1})
        if duplicates:
            raise ValueError(f"lists {', '.join(duplicates)} more than once; list each once")
        return names

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
            untrusted = set(self.organization.trust_email_verified_from) - set(self.connections)
            if untrusted:
                raise ValueError(
                    f"{PROJECT}:organization.trustEmailVerifiedFrom names "
                    f"{', '.join(sorted(untrusted))}, not among {PROJECT}:connections"
                )
        else:
            if self.connections is not None:
                raise ValueError(
                    f"{PROJECT}:connections: with {PROJECT}:organizations, give each entry its "
                    "own connections"
                )
            entries = self.organizations_list or []
            for index, entry in enumerate(entries):
                if entry.connections is None:
                    raise ValueError(f"{PROJECT}:organizations[{index}].connections: required")
            names = [entry.name for entry in entries]
            duplicates = sorted({name for name in names if names.count(name) > 1})
            if duplicates:
                raise ValueError(
                    f"{PROJECT}:organizations: {', '.join(duplicates)} listed more than once"
                )
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

    @model_validator(mode="after")
    def _domain_of_its_kind(self) -> StackConfig:
        rule = {"auth0": AUTH0_DOMAIN, "local": LOCAL_DOMAIN}
        if not rule[self.domain_kind].match(self.tenant_domain):
            raise ValueError(_DOMAIN_PROBLEM[self.domain_kind].format(self.tenant_domain))
        return self

    @property
    def action_name(self) -> str:
        """The Action's name in the tenant."""
        if self.action.name:
            return self.action.name
        if self.organization is not None:
            return f"assign-to-{self.organization.name}"
        return "assign-to-organizations"


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


ConfigEntries = dict[str, tuple[Any, bool]]
"""Full key -> (value, whether it is secret), as a stack file or the engine holds them."""


def parse_config(raw: dict[str, Any], source: str) -> StackConfig:
    """Validate raw key/value config (keys without the project prefix, plus ``auth0:domain``).

    Raises ``pulumi.RunError`` listing every problem with its full key.
    """
    return _validate(raw, [], source)


def load_config() -> StackConfig:
    """Read the running stack's configuration from the Pulumi engine."""
    passed = {**pulumi.runtime.config.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
    entries = {
        key: (_decode(value), pulumi.runtime.config.is_config_secret(key))
        for key, value in passed.items()
    }
    raw, problems = _select(entries)
    return _validate(raw, problems, f"stack {pulumi.get_stack()!r}")


def load_stack_file(stack: str, root: Path = ROOT) -> StackConfig:
    """Read ``Pulumi.<stack>.yaml`` directly: no CLI, no backend, no secret needed."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise pulumi.RunError(f"no stack file {path.name}: create it or name an existing stack")
    raw, problems = _select(read_stack_file(path))
    return _validate(raw, problems, path.name)


def read_stack_file(path: Path) -> ConfigEntries:
    """Every key of a stack file's ``config:``; ``{secure: ...}`` values are the secret ones."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path.name}:{mark.line + 1}" if mark else path.name
        problem = getattr(error, "problem", None) or "not valid YAML"
        raise pulumi.RunError(f"{where}: YAML syntax error: {problem}") from None
    config = (document or {}).get("config") if isinstance(document, dict) else None
    if document is not None and not isinstance(document, dict):
        raise pulumi.RunError(f"{path.name}: the file must be a mapping with a config: key")
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise pulumi.RunError(f"{path.name}: config: must be a mapping of keys to values")
    return {
        str(key): (value, isinstance(value, dict) and set(value) == {"secure"})
        for key, value in config.items()
    }


def _select(entries: ConfigEntries) -> tuple[dict[str, Any], list[str]]:
    """This project's keys and ``auth0:domain``; problems with namespaces and secrets."""
    raw: dict[str, Any] = {}
    problems = []
    for key, (value, secret) in sorted(entries.items()):
        namespace, _, name = key.partition(":")
        if namespace == PROJECT:
            if secret:
                problems.append(
                    f"{key}: set as a secret, but every key of {PROJECT} is rendered into the "
                    "Action's code in plain text; set it without --secret, and keep secrets out"
                )
            raw[name] = value
        elif namespace == "auth0":
            if name not in PROVIDER_KEYS:
                problems.append(
                    f"{key}: unknown auth0 provider key{_did_you_mean(name, PROVIDER_KEYS)}"
                )
            elif name in PROVIDER_SECRET_KEYS and not secret:
                problems.append(
                    f"{key}: stored in plain text; remove it from the stack file and run "
                    f"`pulumi config set --secret {key} <value>`"
                )
            elif name == "domain":
                raw[key] = value
        elif difflib.SequenceMatcher(None, namespace, PROJECT).ratio() > 0.8:
            problems.append(f"{key}: unknown namespace {namespace!r}; did you mean {PROJECT}?")
    return raw, problems


def _validate(raw: dict[str, Any], problems: list[str], source: str) -> StackConfig:
    try:
        config = StackConfig.model_validate(raw)
    except ValidationError as error:
        problems = problems + [_describe(problem) for problem in error.errors()]
        config = None
    if problems:
        raise pulumi.RunError(f"invalid configuration in {source}:\n  " + "\n  ".join(problems))
    assert config is not None
    return config


def _decode(value: Any) -> Any:
    """The engine passes structured values as JSON text and scalars as plain text."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    if value in ("true", "false"):
        return value == "true"
    return value


def _did_you_mean(name: str, known: frozenset[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f"; did you mean auth0:{close[0]}?" if close else ""


def _full_key(location: tuple[int | str, ...]) -> str:
    """``("organization", "name")`` -> ``auth0-org-assignment:organization.name``."""
    if not location:
        return f"{PROJECT}:<root>"
    head, *rest = location
    key = str(head) if str(head).startswith("auth0:") else f"{PROJECT}:{head}"
    for part in rest:
        key += f"[{part}]" if isinstance(part, int) else f".{part}"
    return key


def _describe(problem: Any) -> str:
    location = tuple(problem["loc"])
    key = _full_key(location)
    kind = problem["type"]
    if kind == "extra_forbidden":
        return (
            f"{key}: unknown key; check its spelling against the README's configuration reference"
        )
    if kind == "missing":
        return f"{key}: required; set it in the stack file or with `pulumi config set --path`"
    message = re.sub(r"^(Value|Assertion) error, ", "", problem["msg"])
    if not location:  # a rule across keys: its message names them
        return message
    if isinstance(problem["input"], dict | list) and kind == "value_error":
        return f"{key}: {message}"  # a rule across the object's keys; no need to echo it
    shown = repr(problem["input"])
    if len(shown) > ECHO_MAX:
        shown = shown[: ECHO_MAX - 3] + "..."
    path = ".".join(str(part) for part in location if not isinstance(part, int))
    return f"{key}: {message} (got {shown}){_HINTS.get(path, '')}"


# What to do, for each rule people break most; keyed by the dotted path of the key.
_HINTS = {
    "organization.name": "; use lowercase letters, digits, '-' and '_', at most 50 characters",
    "organization.displayName": "; use 1 to 255 characters, not only spaces",
    "organization.branding.logoUrl": "; use an https:// URL",
    "organization.branding.colors": "; Auth0 takes primary and pageBackground together",
    "organization.branding.colors.primary": "; use #RRGGBB",
    "organization.branding.colors.pageBackground": "; use #RRGGBB",
    "organization.metadata": "; at most 25 entries of text, keys and values up to 255 characters",
    "connections": "; list 1 to 10 connection names as they appear in the tenant",
    "action.name": "; use 1 to 100 characters, not only spaces",
    "action.timeBudgetMs": "; a whole number of milliseconds from 500 to 15000, without quotes",
    "action.connectionCheck": "; use 'static' or 'api'",
    "action.failurePolicy": "; use 'open' or 'closed'",
    "action.denyMessage": "; use 1 to 200 characters, not only spaces",
    "action.appMetadataKey": "; a JavaScript identifier, not __proto__, constructor, prototype",
    "assignMembershipOnLogin": "; use true or false, without quotes",
    "domainKind": "; use 'auth0' or 'local'",
}
