"""The post-login Action's code: ``action_templates/``'s modules assembled into the one file
Auth0 runs, with the stack's configuration as data.

The logic is plain JavaScript (``membership.js``: who may join; ``marker.js``: what marks a user
added; ``management_api.js``: the calls and the token; ``post_login.js``: the handler), and
``contract.json`` holds what they share with the stack. They reach Auth0 as one minified bundle
(``action_bundle``: esbuild), and ``post_login.js.j2`` only puts a header naming the sources'
commit, the configuration block (one delimited JSON value, which ``configuration_of`` reads
back) and the bundle in one file; no behaviour depends on the template.

The stack and ``auth0-org-assignment render`` both call :func:`render_actions`, so what a
reviewer renders locally is what the stack deploys, but for the organization and role ids, which
exist only in the tenant: the render command shows ``(id of <name>)`` in their place.

The organizations' rules are in the configuration block. When they would not fit in one Action
(Auth0 takes 100 KB of code), the organizations are split, in order, across several Actions
bound one after the other: each login runs them all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

import jinja2
import pulumi
from jinja2.utils import htmlsafe_json_dumps

from auth0_org_assignment import contract, domain_proof
from auth0_org_assignment.action_bundle import GLOBAL, action_bundle
from auth0_org_assignment.config import PROJECT, OrganizationConfig, StackConfig
from auth0_org_assignment.paths import NODE_MODULES, TEMPLATES

TEMPLATE = "post_login.js.j2"
RUNTIME = "node22"
TRIGGER = "post-login"
TRIGGER_VERSION = "v3"
SECRET_NAMES = ("TENANT_DOMAIN", "CLIENT_ID", "CLIENT_SECRET")
"""The Action secrets; the support article's names (organization ids are in the code)."""

CALLED_WHEN: dict[str, Callable[[StackConfig], bool]] = {
    "addMembers": lambda config: True,
    "enabledConnection": lambda config: config.action.connection_check == "api",
    "addMemberRoles": lambda config: any(o.roles for o in config.organizations),
}
"""For each of ``contract.json``'s endpoints, when a configuration makes the Action's code call
it: the grant holds its scope only then."""


@dataclass(frozen=True)
class ManagementCall:
    """One Management API call the Action can make, and when this stack's code makes it."""

    endpoint: contract.Endpoint
    made_when: Callable[[StackConfig], bool]

    @property
    def scope(self) -> str:
        return self.endpoint.scope


def management_calls() -> tuple[ManagementCall, ...]:
    """Every call the Action's code can make (``contract.json``), with when it makes it."""
    endpoints = contract.endpoints()
    unknown = {e.name for e in endpoints} ^ CALLED_WHEN.keys()
    if unknown:
        raise RuntimeError(
            f"contract.json's endpoints and action_code.CALLED_WHEN differ on {sorted(unknown)}: "
            "say in CALLED_WHEN when each endpoint is called"
        )
    return tuple(ManagementCall(e, CALLED_WHEN[e.name]) for e in endpoints)


def grant_scopes(config: StackConfig) -> tuple[str, ...]:
    """The Management API scopes the Action's calls need for this configuration, and no other:
    least privilege."""
    return tuple(sorted({c.scope for c in management_calls() if c.made_when(config)}))


MAX_CODE_BYTES = 100 * 1024
"""Auth0 rejects Actions larger than this."""
SHARD_BYTES = 90 * 1024
"""Split the organizations across Actions beyond this, leaving room under the limit."""
FLOW_TIME_MS = 20_000
"""Auth0 fails a login whose post-login flow, every Action bound to it, takes longer (Actions
Limitations, https://auth0.com/docs/customize/actions/limitations)."""
OTHER_ACTIONS_MS = 5_000
"""What the stack leaves of ``FLOW_TIME_MS`` to the Actions other teams bind to the flow."""
BINDINGS_MAX = 20
"""Auth0 binds at most 20 Actions to a flow (Actions Limitations), others' included."""
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
    """npm packages the Action declares: none, the code uses Node's own https module."""
    secrets: tuple[str, ...]
    connections: tuple[str, ...]
    scopes: tuple[str, ...]
    """What the grant must allow: the same for every Action of a stack."""
    organizations: tuple[str, ...] = ()
    """Names of the organizations this Action routes to."""

    def as_json(self) -> dict[str, Any]:
        """The shape ``auth0-org-assignment render STACK --json`` prints."""
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
    proven: Mapping[str, Collection[str]] | None = None,
) -> tuple[RenderedAction, ...]:
    """Render the Action(s) for a stack. Deterministic: same config, ids and proofs, same code.

    ``organization_ids`` maps organization names to ids, ``role_ids`` role names to ids; either
    missing shows ``(id of <name>)`` placeholders. ``proven`` maps organization names to the
    email domains proven for them (see :mod:`auth0_org_assignment.domain_proof`): the rule
    admits through those alone; missing, it holds every configured domain (what ``render``
    shows: the configuration, before its proofs). How organizations are split across Actions
    depends only on the configuration (ids have a fixed length), never on the ids or proofs.
    """
    plan = _plan(config)
    _check_flow(config, len(plan))
    shards = [_render(config, shard, organization_ids, role_ids, proven) for shard in plan]
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
        # The organization's line in the configuration block: indent, JSON, comma, newline.
        entry = len(_tojson(organization_rule(organization, fixed, roles))) + 6
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


def _check_flow(config: StackConfig, actions: int) -> None:
    """Refuse a stack whose Actions would not fit in the Login flow, or whose time budgets
    would add up past Auth0's limit on the whole flow (each Action has its own budget)."""
    if actions > BINDINGS_MAX:
        raise pulumi.RunError(
            f"{PROJECT}:organizations: their rules need {actions} Actions, and Auth0 binds at "
            f"most {BINDINGS_MAX} to the Login flow, other teams' Actions included; list fewer "
            "domains, connections or applications, or split the organizations across stacks"
        )
    budget = config.action.time_budget_ms
    most = (FLOW_TIME_MS - OTHER_ACTIONS_MS) // actions
    if budget > most:
        raise pulumi.RunError(
            f"{PROJECT}:action.timeBudgetMs: {budget} ms for each of the {actions} Actions this "
            f"stack binds adds up to {budget * actions} ms, but Auth0 fails a login whose whole "
            f"flow takes over {FLOW_TIME_MS} ms, and {OTHER_ACTIONS_MS} ms are kept for Actions "
            f"other teams bind; set it to at most {most}"
        )


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
    proven: Mapping[str, Collection[str]] | None = None,
) -> RenderedAction:
    code = _code(
        config,
        organizations,
        organization_ids or {o.name: f"(id of {o.name})" for o in organizations},
        role_ids or {r: f"(id of role {r})" for o in organizations for r in o.roles},
        proven,
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
        scopes=grant_scopes(config),
        organizations=tuple(o.name for o in organizations),
    )


def _code(
    config: StackConfig,
    organizations: Sequence[OrganizationConfig],
    organization_ids: Mapping[str, str],
    role_ids: Mapping[str, str],
    proven: Mapping[str, Collection[str]] | None = None,
) -> str:
    return (
        _environment()
        .get_template(TEMPLATE)
        .render(
            project=PROJECT,
            settings=action_settings(config),
            organizations=[
                organization_rule(
                    organization,
                    organization_ids,
                    role_ids,
                    None if proven is None else proven.get(organization.name, ()),
                )
                for organization in organizations
            ],
            bundle=action_bundle(TEMPLATES, NODE_MODULES),
            exports=GLOBAL,
        )
    )


CONFIGURATION_START = "const CONFIGURATION = "
CONFIGURATION_END = ";\n// end of configuration\n"
"""What delimits the configuration block in the rendered code: one JSON value between them."""


def configuration_of(code: str) -> dict[str, Any] | None:
    """The configuration block of an Action this component rendered (its settings and the
    organizations' rules), or None when the code holds none: for tools and the policy pack."""
    start = code.find(CONFIGURATION_START)
    end = code.find(CONFIGURATION_END, start)
    if start == -1 or end == -1:
        return None
    try:
        value = json.loads(code[start + len(CONFIGURATION_START) : end])
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


JOINED_CLAIM = "joined_organizations"
"""The name, after the configured namespace, of the claim listing the organizations a login made
the user a member of."""


def action_settings(config: StackConfig) -> dict[str, Any]:
    """The Action's settings, as ``post_login.js`` reads them (its ``Settings`` type, which a
    test has TypeScript check this against): every ``action`` key the schema marks as the
    Action's setting, under its configuration name, and what the Action derives from others."""
    action = config.action
    return action.settings() | {
        "markerPrefix": marker_key(config, ""),
        "joinedClaim": f"{action.claim_namespace}{JOINED_CLAIM}",
    }


def marker_key(config: StackConfig, organization_id: str) -> str:
    """The app_metadata key of the marker the Action sets on a user it assigned to an
    organization: one top-level key per organization, so the Action, the backfill and
    reconcile each set or remove theirs alone (Auth0 merges app_metadata one level deep)."""
    return f"{config.action.app_metadata_key}:{organization_id}"


def organization_rule(
    organization: OrganizationConfig,
    organization_ids: Mapping[str, str],
    role_ids: Mapping[str, str],
    proven: Collection[str] | None = None,
) -> dict[str, Any]:
    """One organization's rule, as ``membership.js`` reads it (its ``Organization`` type, which a
    test has TypeScript check this against). What a clause reads is rendered only for an
    organization that uses it, so a new clause leaves every other organization's rule as it is.
    With ``proven``, only the email domains whose apex is among them (a proven domain, or a
    free-mail one the organization allows) are rendered: the others admit nobody yet."""
    domains = [
        domain
        for domain in organization.email_domains
        if proven is None or domain_proof.apex(domain) in proven
    ]
    clauses: dict[str, Any] = {
        "applications": organization.applications,
        "anyUser": organization.allow_any_user_of_connection or None,
        "domains": [d for d in domains if not d.startswith("*.")],
        "subdomainsOf": [d[2:] for d in domains if d.startswith("*.")],
        "trusted": list(organization.trust_email_verified_from),
    }
    return (
        {
            "id": organization_ids[organization.name],
            "name": organization.name,
            "connections": list(organization.connections or []),
            "roles": [role_ids[role] for role in organization.roles],
        }
        | {key: value for key, value in clauses.items() if value}
        | organization.rule_clauses()
    )


def _tojson(value: Any) -> str:
    """What the template's ``|tojson`` writes for ``value``."""
    return str(htmlsafe_json_dumps(value, sort_keys=True))


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
