"""The post-login Action's code, rendered from ``action_templates/`` with Jinja2.

The stack and ``python -m infra.render`` both call :func:`render_actions`, so what a reviewer
renders locally is what the stack deploys, but for the organization and role ids, which exist
only in the tenant: the render command shows ``(id of <name>)`` in their place.

The routing table (who may join which organization) is in the code. When it would not fit in
one Action (Auth0 takes 100 KB of code), the organizations are split, in order, across several
Actions bound one after the other: each login runs them all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import pulumi

from infra.config import PROJECT, OrganizationConfig, StackConfig

TEMPLATES = Path(__file__).resolve().parent.parent / "action_templates"
TEMPLATE = "post_login.js.j2"
RUNTIME = "node22"
TRIGGER = "post-login"
TRIGGER_VERSION = "v3"
SECRET_NAMES = ("TENANT_DOMAIN", "CLIENT_ID", "CLIENT_SECRET")
"""The Action secrets; the support article's names (organization ids are in the code)."""

# The Management API calls the code may make, and the scope each needs. The grant is derived
# from the rendered code through this table, so it can never drift from what the code calls.
SCOPE_OF_CALL = {
    'request("POST", `/organizations/${organization}/members`': "create:organization_members",
    'request("GET", `/organizations/${organization}/enabled_connections/': (
        "read:organization_connections"
    ),
    'request("POST", `/organizations/${organization}/members/${member}/roles`': (
        "create:organization_member_roles"
    ),
}
MAX_CODE_BYTES = 100 * 1024
"""Auth0 rejects Actions larger than this."""
SHARD_BYTES = 90 * 1024
"""Split the organizations across Actions beyond this, leaving room under the limit."""
ID_LENGTH = len("org_0123456789abcdef")
"""Auth0's organization ids: ``org_`` and 16 characters; role ids: ``rol_`` and 16."""


@dataclass(frozen=True)
class Dependency:
    """An npm package the Action requires, at one exact version."""

    name: str
    version: str


@dataclass(frozen=True)
class RenderedAction:
    """Everything the stack needs to declare the Action, derived from one render."""

    code: str
    runtime: str
    dependencies: tuple[Dependency, ...]
    """npm packages the Action declares: none, the code uses Node's own fetch."""
    secrets: tuple[str, ...]
    connections: tuple[str, ...]
    scopes: tuple[str, ...]
    organizations: tuple[str, ...] = ()
    """Names of the organizations this Action routes to."""

    def as_json(self) -> dict[str, Any]:
        """The shape ``python -m infra.render STACK --json`` prints."""
        return {
            "code": self.code,
            "runtime": self.runtime,
            "dependencies": [asdict(dependency) for dependency in self.dependencies],
            "secrets": list(self.secrets),
            "connections": list(self.connections),
            "organizations": list(self.organizations),
            "scopes": list(self.scopes),
        }


def render_actions(
    config: StackConfig,
    organization_ids: Mapping[str, str] | None = None,
    role_ids: Mapping[str, str] | None = None,
) -> tuple[RenderedAction, ...]:
    """Render the Action(s) for a stack. Deterministic: same config and ids, same code.

    ``organization_ids`` maps organization names to ids, ``role_ids`` role names to ids; either
    missing shows ``(id of <name>)`` placeholders. How organizations are split across Actions
    depends only on the configuration (ids have a fixed length), never on the ids.
    """
    shards = [_render(config, shard, organization_ids, role_ids) for shard in _plan(config)]
    return tuple(shards)


def render_action(config: StackConfig, **ids: Mapping[str, str] | None) -> RenderedAction:
    """The one Action of a stack whose organizations fit in one."""
    (rendered,) = render_actions(config, **ids)
    return rendered


def _plan(config: StackConfig) -> list[list[OrganizationConfig]]:
    """Organizations in order, as many per Action as fit under ``SHARD_BYTES``."""
    organizations = config.organizations
    fixed = {organization.name: "o" * ID_LENGTH for organization in organizations}
    roles = {role: "r" * ID_LENGTH for o in organizations for role in o.roles}
    if _size(config, organizations, fixed, roles) <= SHARD_BYTES:
        return [list(organizations)]
    base = _size(config, (), fixed, roles)
    shards: list[list[OrganizationConfig]] = [[]]
    used = base
    for organization in organizations:
        entry = len(json.dumps(_entry(organization, fixed, roles))) + 4
        if base + entry > SHARD_BYTES:
            raise pulumi.RunError(
                f"{PROJECT}: organization {organization.name!r} alone would not fit in one "
                f"Action ({base + entry} bytes): list fewer connections, domains or applications"
            )
        if used + entry > SHARD_BYTES:
            shards.append([])
            used = base
        shards[-1].append(organization)
        used += entry
    return shards


def _size(
    config: StackConfig,
    organizations: Sequence[OrganizationConfig],
    organization_ids: Mapping[str, str],
    role_ids: Mapping[str, str],
) -> int:
    return len(_code(config, organizations, organization_ids, role_ids).encode("utf-8"))


def _render(
    config: StackConfig,
    organizations: Sequence[OrganizationConfig],
    organization_ids: Mapping[str, str] | None,
    role_ids: Mapping[str, str] | None,
) -> RenderedAction:
    code = _code(
        config,
        organizations,
        organization_ids or {o.name: f"(id of {o.name})" for o in organizations},
        role_ids or {r: f"(id of role {r})" for o in organizations for r in o.roles},
    )
    size = len(code.encode("utf-8"))
    if size > MAX_CODE_BYTES:
        raise pulumi.RunError(
            f"the rendered Action is {size} bytes, over Auth0's {MAX_CODE_BYTES}-byte limit: "
            f"shorten {PROJECT}:action.denyMessage or the organizations' lists"
        )
    return RenderedAction(
        code=code,
        runtime=RUNTIME,
        dependencies=(),
        secrets=SECRET_NAMES,
        connections=tuple(dict.fromkeys(c for o in organizations for c in o.connections or [])),
        scopes=scopes_called_by(code),
        organizations=tuple(o.name for o in organizations),
    )


def _code(
    config: StackConfig,
    organizations: Sequence[OrganizationConfig],
    organization_ids: Mapping[str, str],
    role_ids: Mapping[str, str],
) -> str:
    return (
        _environment()
        .get_template(TEMPLATE)
        .render(
            project=PROJECT,
            action=config.action,
            organizations=[_entry(o, organization_ids, role_ids) for o in organizations],
            with_roles=any(o.roles for o in config.organizations),
        )
    )


def _entry(
    organization: OrganizationConfig,
    organization_ids: Mapping[str, str],
    role_ids: Mapping[str, str],
) -> dict[str, Any]:
    """One organization's line in the routing table; keys are sorted by ``tojson``."""
    domains = organization.email_domains
    return {
        "id": organization_ids[organization.name],
        "name": organization.name,
        "connections": list(organization.connections or []),
        "anyUser": organization.allow_any_user_of_connection,
        "domains": [d for d in domains if not d.startswith("*.")],
        "subdomainsOf": [d[2:] for d in domains if d.startswith("*.")],
        "trusted": list(organization.trust_email_verified_from),
        "applications": organization.applications,
        "roles": [role_ids[role] for role in organization.roles],
    }


def scopes_called_by(code: str) -> tuple[str, ...]:
    """The Management API scopes the calls in ``code`` need, sorted."""
    return tuple(sorted(scope for call, scope in SCOPE_OF_CALL.items() if call in code))


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        # The output is JavaScript, not HTML: values enter it through |tojson instead.
        autoescape=False,  # noqa: S701
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
