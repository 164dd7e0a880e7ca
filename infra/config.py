"""The stack's configuration: one typed, frozen model, read from Pulumi or from a stack file.

Everything is validated before a single resource is registered. An error names the full
config key (``auth0-org-assignment:organization.name``) and says what to do about it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import pulumi
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

PROJECT = "auth0-org-assignment"
"""The Pulumi project name, and so the namespace of every key this program reads."""

ROOT = Path(__file__).resolve().parent.parent

# Auth0's rule for organization names.
ORGANIZATION_NAME = r"^[a-z0-9_-]+$"
HEX_COLOUR = r"^#[0-9A-Fa-f]{6}$"
# A host name with an optional port; no scheme, no path.
TENANT_DOMAIN = r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class BrandingColours(_Model):
    """Colours of the organization's login pages."""

    primary: Annotated[str, Field(pattern=HEX_COLOUR)] | None = None
    """Primary colour, ``#RRGGBB``."""
    page_background: Annotated[str | None, Field(alias="pageBackground", pattern=HEX_COLOUR)] = None
    """Page background colour, ``#RRGGBB``."""


class Branding(_Model):
    """Optional branding shown on the organization's login pages."""

    logo_url: Annotated[str | None, Field(alias="logoUrl", pattern=r"^https://\S+$")] = None
    """An https URL of the logo."""
    colors: BrandingColours | None = None
    """Login page colours."""


class OrganizationConfig(_Model):
    """The Auth0 Organization users are assigned to."""

    name: Annotated[str, Field(min_length=1, max_length=50, pattern=ORGANIZATION_NAME)]
    """Auth0's identifier: lowercase letters, digits, ``-`` and ``_``, at most 50 characters."""
    display_name: Annotated[str, Field(alias="displayName", min_length=1, max_length=255)]
    """The name people see on the login page."""
    branding: Branding | None = None
    """Logo and colours of the organization's login pages."""
    metadata: Annotated[dict[str, Annotated[str, Field(max_length=255)]], Field(max_length=25)] = {}
    """Up to 25 string key/value pairs stored on the organization."""


class ActionConfig(_Model):
    """Options of the post-login Action that assigns users."""

    name: Annotated[str | None, Field(min_length=1, max_length=100)] = None
    """The Action's name in the tenant; defaults to ``assign-to-<organization name>``."""
    connection_check: Annotated[Literal["static", "api"], Field(alias="connectionCheck")] = "static"
    """``static``: compare the login's connection name with ``connections`` (no API call);
    ``api``: ask the Management API whether the connection is enabled on the organization."""
    time_budget_ms: Annotated[int, Field(alias="timeBudgetMs", ge=500, le=15000)] = 3000
    """The most the Action may add to a login, in milliseconds (Auth0 stops a flow at 20 s)."""
    failure_policy: Annotated[Literal["open", "closed"], Field(alias="failurePolicy")] = "open"
    """``open``: log and let the login go on; ``closed``: deny the login with ``denyMessage``."""
    deny_message: Annotated[str, Field(alias="denyMessage", min_length=1, max_length=200)] = (
        "Sign-in could not be completed. Please try again later."
    )
    """What the end user sees when ``failurePolicy`` is ``closed`` and assignment fails."""
    app_metadata_key: Annotated[
        str, Field(alias="appMetadataKey", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
    ] = "org_assignment"
    """The ``app_metadata`` key under which the Action marks users it assigned."""


class StackConfig(_Model):
    """Everything one stack (one environment) declares."""

    tenant_domain: Annotated[str, Field(alias="auth0:domain", pattern=TENANT_DOMAIN)]
    """The tenant's canonical domain (``auth0:domain``), e.g. ``acme-dev.eu.auth0.com``."""
    organization: OrganizationConfig
    """The organization users are assigned to."""
    connections: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]
    """Names of the connections enabled on the organization, and allowed to assign."""
    assign_membership_on_login: Annotated[bool, Field(alias="assignMembershipOnLogin")] = False
    """Auth0's own auto-membership for users who log in through the organization's prompt."""
    action: ActionConfig = ActionConfig()
    """Options of the post-login Action."""

    @field_validator("connections")
    @classmethod
    def _unique(cls, names: list[str]) -> list[str]:
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"lists {', '.join(duplicates)} more than once; list each once")
        return names

    @property
    def action_name(self) -> str:
        """The Action's name in the tenant."""
        return self.action.name or f"assign-to-{self.organization.name}"


def parse_config(raw: dict[str, Any], source: str) -> StackConfig:
    """Validate raw key/value config (keys without the project prefix, plus ``auth0:domain``).

    Raises ``pulumi.RunError`` listing every problem with its full key.
    """
    try:
        return StackConfig.model_validate(raw)
    except ValidationError as error:
        problems = [_describe(problem) for problem in error.errors()]
        raise pulumi.RunError(
            f"invalid configuration in {source}:\n  " + "\n  ".join(problems)
        ) from None


def load_config() -> StackConfig:
    """Read the running stack's configuration from the Pulumi engine."""
    return parse_config(_engine_config(), f"stack {pulumi.get_stack()!r}")


def load_stack_file(stack: str, root: Path = ROOT) -> StackConfig:
    """Read ``Pulumi.<stack>.yaml`` directly: no CLI, no backend, no secret needed."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise pulumi.RunError(f"no stack file {path.name}: create it or name an existing stack")
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    raw: dict[str, Any] = {}
    for key, value in (document.get("config") or {}).items():
        namespace, _, name = key.partition(":")
        if namespace == PROJECT:
            raw[name] = value
        elif key == "auth0:domain":
            raw[key] = value
    return parse_config(raw, path.name)


def _engine_config() -> dict[str, Any]:
    """Every key of this project's namespace that the engine passed, plus ``auth0:domain``."""
    # pulumi.Config reads keys one by one and cannot list them; unknown keys must be seen too.
    passed = {**pulumi.runtime.config.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
    raw: dict[str, Any] = {}
    for key, value in passed.items():
        namespace, _, name = key.partition(":")
        if namespace == PROJECT:
            raw[name] = _decode(value)
        elif key == "auth0:domain":
            raw[key] = value
    return raw


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
    message = re.sub(r"^Value error, ", "", problem["msg"])
    hint = _HINTS.get(str(location[-1]), "")
    return f"{key}: {message} (got {problem['input']!r}){hint}"


# What to do, for the mistakes people make most.
_HINTS = {
    "name": "; use lowercase letters, digits, '-' and '_', at most 50 characters",
    "auth0:domain": "; use the bare tenant host, e.g. acme-dev.eu.auth0.com",
    "logoUrl": "; use an https:// URL",
    "primary": "; use #RRGGBB",
    "pageBackground": "; use #RRGGBB",
    "connectionCheck": "; use 'static' or 'api'",
    "failurePolicy": "; use 'open' or 'closed'",
}
