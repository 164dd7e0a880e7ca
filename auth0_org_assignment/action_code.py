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
(Auth0 takes 100 KB of code), they are sharded across as few Actions as hold them, by a hash of
the registered domain of each email domain (``routing.js``): a login's email domain can be found
in one Action only, which alone applies the rule and may call the Management API; the others
return at once. Rules that admit any user of a connection are in every Action, applied by the
owner alone. So the flow's worst case is one Action's budget plus a routing allowance per other
Action, and the number of Actions depends on the rules' size alone.
"""

from __future__ import annotations

import json
import math
import subprocess
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Any

import jinja2
import pulumi
from jinja2.utils import htmlsafe_json_dumps

from auth0_org_assignment import contract
from auth0_org_assignment.action_bundle import GLOBAL, action_bundle
from auth0_org_assignment.config import PROJECT, OrganizationConfig, StackConfig, email_domains
from auth0_org_assignment.config.email_domains import public_suffix
from auth0_org_assignment.node import unpacked_configuration
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
ROUTING_MS = 50
"""What the stack allows each of its Actions that does not own a login (it only routes it:
a hash, measured in a fraction of a millisecond, bench/scale_bench.py), Auth0's own cost of
running an Action included."""
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
    shard: int = 0
    shards: int = 1
    """This Action's place among the stack's Actions, and how many there are."""

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
    plan: ShardPlan | None = None,
) -> tuple[RenderedAction, ...]:
    """Render the Action(s) for a stack. Deterministic: same config, ids and proofs, same code.

    ``organization_ids`` maps organization names to ids, ``role_ids`` role names to ids; either
    missing shows ``(id of <name>)`` placeholders. ``proven`` maps organization names to the
    email domains proven for them (see :mod:`auth0_org_assignment.domain_proof`): the rule
    admits through those alone; missing, it holds every configured domain (what ``render``
    shows: the configuration, before its proofs). How organizations are split across Actions
    (``plan``, :func:`plan_shards` of the configuration when not given) depends only on the
    configuration (ids have a fixed length), never on the ids or proofs.
    """
    plan = plan or plan_shards(config)
    _check_flow(config, len(plan.shards))
    return tuple(
        render_shard(config, plan, number, organization_ids, role_ids, proven)
        for number in range(len(plan.shards))
    )


def render_shard(
    config: StackConfig,
    plan: ShardPlan,
    number: int,
    organization_ids: Mapping[str, str] | None = None,
    role_ids: Mapping[str, str] | None = None,
    proven: Mapping[str, Collection[str]] | None = None,
) -> RenderedAction:
    """One of the stack's Actions (``number`` in ``plan``): it needs only its own
    organizations' ids and proofs, so the stack renders each Action from those alone."""
    return _render(
        config,
        plan.shards[number],
        plan.routing(number),
        organization_ids,
        role_ids,
        number,
        proven,
    )


def planned_actions(
    config: StackConfig,
    role_ids: Mapping[str, str] | None = None,
    plan: ShardPlan | None = None,
) -> tuple[RenderedAction, ...]:
    """The stack's Actions as they will be deployed, with every organization id at Auth0's fixed
    length (the ids do not exist yet): each limit the stack keeps to (the Actions the Login flow
    binds, the flow's time, each Action's size) is checked on the configuration and the roles'
    ids alone, so the component refuses a stack over one before it registers anything."""
    organizations = config.organizations
    return render_actions(
        config,
        {organization.name: "o" * ID_LENGTH for organization in organizations},
        role_ids or {role: "r" * ID_LENGTH for o in organizations for role in o.roles},
        plan=plan,
    )


def render_action(
    config: StackConfig,
    organization_ids: Mapping[str, str] | None = None,
    role_ids: Mapping[str, str] | None = None,
) -> RenderedAction:
    """The one Action of a stack whose organizations fit in one."""
    (rendered,) = render_actions(config, organization_ids, role_ids)
    return rendered


def fnv1a(text: str) -> int:
    """FNV-1a, 32 bits, of an ASCII string: ``routing.js``'s ``fnv1a``."""
    value = 0x811C9DC5
    for byte in text.encode("ascii"):
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def route_key(domain: str, suffixes: frozenset[str]) -> str:
    """``routing.js``'s ``registeredDomain``: the label before the longest of ``suffixes``
    ``domain`` ends in, with it; else its last two labels."""
    labels = domain.split(".")
    for i in range(1, len(labels)):
        if ".".join(labels[i:]) in suffixes:
            return ".".join(labels[i - 1 :])
    return ".".join(labels[-2:])


@dataclass(frozen=True)
class ShardPlan:
    """How a stack's organizations are split across its Actions."""

    shards: list[list[OrganizationConfig]]
    """Each Action's organizations, each with only the email domains that Action owns."""
    suffixes: tuple[str, ...] = ()
    """The public suffixes of the configured email domains, which ``routing.js`` routes by."""
    wide: tuple[str, ...] = field(default=())
    """Organizations whose rule may admit users at any email domain: in every Action
    (:func:`routed_by_email_domain`)."""

    def routing(self, shard: int) -> dict[str, Any] | None:
        """The Action's routing block (``routing.js``'s ``Routing``), None for a lone Action."""
        if len(self.shards) == 1:
            return None
        return {"shard": shard, "shards": len(self.shards), "suffixes": list(self.suffixes)}


NARROWING_EMAIL_DOMAINS = frozenset({"trustedConnectionDomains"})
"""The rule clauses (``RULE_CLAUSE`` keys) that only narrow whom ``emailDomains`` admits."""


def routed_by_email_domain(organization: OrganizationConfig) -> bool:
    """Whether every user the organization's rule admits has an email at one of its
    ``emailDomains``, so that its rule need only be in the Actions that own those domains. Any
    other clause (``allowAnyUserOfConnection``, a ``RULE_CLAUSE`` key that does not only narrow
    ``emailDomains``) may admit a user at another domain, whose login another Action owns: such
    an organization is in every Action."""
    return (
        bool(organization.email_domains)
        and not organization.allow_any_user_of_connection
        and set(organization.rule_clauses()) <= NARROWING_EMAIL_DOMAINS
    )


def plan_shards(config: StackConfig) -> ShardPlan:
    """The fewest Actions, each under ``SHARD_BYTES``, that hold the organizations' rules with
    every registered domain in one of them (the one ``fnv1a`` of it, modulo their number,
    names)."""
    organizations = config.organizations
    fixed = {organization.name: "o" * ID_LENGTH for organization in organizations}
    roles = {role: "r" * ID_LENGTH for o in organizations for role in o.roles}
    if _size(config, organizations, fixed, roles, None) <= SHARD_BYTES:
        return ShardPlan([list(organizations)])
    wide = [o for o in organizations if not routed_by_email_domain(o)]
    suffixes = frozenset(
        public_suffix(d.removeprefix("*.")) for o in organizations for d in o.email_domains
    )
    # Each organization's domains by the registered domain they are routed by.
    keyed = [
        (o, _group(o.email_domains, lambda d: route_key(d.removeprefix("*."), suffixes)))
        for o in organizations
        if routed_by_email_domain(o)
    ]
    most = {"shard": BINDINGS_MAX, "shards": BINDINGS_MAX, "suffixes": sorted(suffixes)}
    base = _size(config, wide, fixed, roles, most)
    if base >= SHARD_BYTES:
        raise pulumi.RunError(
            f"{PROJECT}:organizations: the {len(wide)} organizations whose rules may admit "
            "users at any email domain (allowAnyUserOfConnection, or a clause beside "
            "emailDomains that admits beyond them) are in every Action, and alone fill one "
            f"({base} bytes of {SHARD_BYTES}): list fewer of them, or admit by emailDomains alone"
        )
    digits = len(str(max(1, len({c for o in organizations for c in o.connections or []}) - 1)))
    # An organization has one line in each Action holding any of its domains: the line
    # without domains (``bare``) once an Action, and each domain's bytes (it and a space).
    bare = {o.name: _entry_size(o, [], fixed, roles, digits) for o, _ in keyed}
    sizes = {
        (o.name, key): sum(len(_packed_json(d)) - 1 for d in domains)
        for o, by_key in keyed
        for key, domains in by_key.items()
    }
    hashes = {key: fnv1a(key) for _, by_key in keyed for key in by_key}
    # The connections' names an Action lists besides those of the organizations in every one.
    named = {o.name: set(o.connections or ()) for o, _ in keyed}
    everywhere = {c for o in wide for c in o.connections or ()}
    count = _fewest_shards(sizes, bare, hashes, base, named, everywhere)
    shards: list[list[OrganizationConfig]] = [list(wide) for _ in range(count)]
    for organization, by_key in keyed:
        mine: dict[int, list[str]] = {}
        for key, domains in by_key.items():
            mine.setdefault(hashes[key] % count, []).extend(domains)
        for shard, domains in sorted(mine.items()):
            kept = [d for d in organization.email_domains if d in domains]
            shards[shard].append(organization.model_copy(update={"email_domains": kept}))
    return ShardPlan(shards, tuple(sorted(suffixes)), tuple(o.name for o in wide))


def _fewest_shards(
    sizes: dict[tuple[str, str], int],
    bare: dict[str, int],
    hashes: dict[str, int],
    base: int,
    named: dict[str, set[str]],
    everywhere: set[str],
) -> int:
    """The fewest Actions that hold every organization's entries, each under ``SHARD_BYTES``
    with ``base`` bytes in every one, when an entry (an organization's domains under one key,
    ``sizes``) goes to the Action its key's hash names: each Action holds one line of each
    organization with an entry there (``bare``, without its domains) and the names of the
    connections (``named``) its organizations use and ``everywhere`` lacks."""
    room = SHARD_BYTES - base
    for (name, _key), size in sizes.items():
        alone = bare[name] + size + _table_size(named[name] - everywhere)
        if alone > room:
            raise pulumi.RunError(
                f"{PROJECT}: organization {name!r} alone would not fit in one Action: "
                f"{base + alone} bytes, over the {SHARD_BYTES} bytes the stack puts in one (Auth0 "
                f"takes at most {MAX_CODE_BYTES}); list fewer connections, domains or applications"
            )
    total = sum(sizes.values()) + sum(bare.values())
    count = max(2, math.ceil(total / room))
    while count <= BINDINGS_MAX:
        used = [0] * count
        listed: list[set[str]] = [set() for _ in range(count)]
        lines: set[tuple[str, int]] = set()
        for (name, key), size in sizes.items():
            shard = hashes[key] % count
            used[shard] += size
            if (name, shard) not in lines:
                lines.add((name, shard))
                used[shard] += bare[name]
                listed[shard] |= named[name]
        if all(u + _table_size(c - everywhere) <= room for u, c in zip(used, listed, strict=True)):
            return count
        count += 1
    raise pulumi.RunError(
        f"{PROJECT}:organizations: their rules ({total} bytes, and {base} in every Action) need "
        f"more than {BINDINGS_MAX} Actions of {SHARD_BYTES} bytes, and Auth0 binds at most "
        f"{BINDINGS_MAX} to the Login flow, other teams' Actions included; list fewer domains, "
        "connections or applications, or split the organizations across stacks"
    )


def _group(domains: Sequence[str], key: Callable[[str], str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for domain in domains:
        grouped.setdefault(key(domain), []).append(domain)
    return grouped


def _entry_size(
    organization: OrganizationConfig,
    domains: list[str],
    organization_ids: Mapping[str, str],
    role_ids: Mapping[str, str],
    index_digits: int,
) -> int:
    """The bytes of one organization's packed line in the configuration block, with these
    domains (its connections' indexes at their widest), comma and newline included; the
    connections' names are counted once an Action (``_table_size``)."""
    part = organization.model_copy(update={"email_domains": domains})
    rule = organization_rule(part, organization_ids, role_ids)
    _, (line,) = pack_organizations([rule])
    line[1] = [10**index_digits - 1] * len(line[1])
    return len(_packed_json(line)) + 2


def _table_size(connections: Collection[str]) -> int:
    """The bytes the connections' names take in an Action's ``connections``."""
    return sum(len(_tojson(name)) + 2 for name in connections)


def _check_flow(config: StackConfig, actions: int) -> None:
    """Refuse a stack whose Actions would not fit in the Login flow, or whose worst-case login
    would take longer than Auth0's limit on the whole flow: one Action (the owner) spends its
    budget, each other one routes (``ROUTING_MS``)."""
    if actions > BINDINGS_MAX:
        raise pulumi.RunError(
            f"{PROJECT}:organizations: their rules need {actions} Actions, and Auth0 binds at "
            f"most {BINDINGS_MAX} to the Login flow, other teams' Actions included; list fewer "
            "domains, connections or applications, or split the organizations across stacks"
        )
    budget = config.action.time_budget_ms
    routing = ROUTING_MS * (actions - 1)
    most = FLOW_TIME_MS - OTHER_ACTIONS_MS - routing
    if budget > most:
        raise pulumi.RunError(
            f"{PROJECT}:action.timeBudgetMs: {budget} ms for the Action that owns a login, and "
            f"{ROUTING_MS} ms for each of the {actions - 1} others that route it, add up to "
            f"{budget + routing} ms, but Auth0 fails a login whose whole flow takes over "
            f"{FLOW_TIME_MS} ms, and {OTHER_ACTIONS_MS} ms are kept for Actions other teams "
            f"bind; set it to at most {most}"
        )


def _size(
    config: StackConfig,
    organizations: Sequence[OrganizationConfig],
    organization_ids: Mapping[str, str],
    role_ids: Mapping[str, str],
    routing: dict[str, Any] | None,
) -> int:
    return len(_code(config, organizations, organization_ids, role_ids, routing).encode("utf-8"))


def _render(
    config: StackConfig,
    organizations: Sequence[OrganizationConfig],
    routing: dict[str, Any] | None,
    organization_ids: Mapping[str, str] | None,
    role_ids: Mapping[str, str] | None,
    shard: int,
    proven: Mapping[str, Collection[str]] | None = None,
) -> RenderedAction:
    code = _code(
        config,
        organizations,
        organization_ids or {o.name: f"(id of {o.name})" for o in organizations},
        role_ids or {r: f"(id of role {r})" for o in organizations for r in o.roles},
        routing,
        proven,
    )
    size = len(code.encode("utf-8"))
    # ``(id of <name>)`` is longer than Auth0's ids, up to 58 characters a line: the limit is
    # on the code deployed, with ids of ID_LENGTH, which the plan has sized every Action for.
    placeholders = not organization_ids or (not role_ids and any(o.roles for o in organizations))
    if size > MAX_CODE_BYTES and not placeholders:
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
        shard=shard,
        shards=routing["shards"] if routing else 1,
    )


def _code(
    config: StackConfig,
    organizations: Sequence[OrganizationConfig],
    organization_ids: Mapping[str, str],
    role_ids: Mapping[str, str],
    routing: dict[str, Any] | None,
    proven: Mapping[str, Collection[str]] | None = None,
) -> str:
    rules = [
        organization_rule(
            organization,
            organization_ids,
            role_ids,
            None if proven is None else proven.get(organization.name, ()),
        )
        for organization in organizations
    ]
    connections, packed = pack_organizations(rules)
    return (
        _environment()
        .get_template(TEMPLATE)
        .render(
            project=PROJECT,
            settings=action_settings(config),
            connections=connections,
            organizations=packed,
            routing=routing,
            bundle=action_bundle(TEMPLATES, NODE_MODULES),
            exports=GLOBAL,
        )
    )


PACKED_KEYS = frozenset({"id", "name", "connections", "domains", "subdomainsOf"})
"""The rule's keys a packed line holds in its first three places (the name is left out);
every other key the rule sets goes into the line's fourth place, its clauses."""
SUBDOMAINS = "*."


def pack_organizations(rules: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """The organizations' rules as ``configuration.js``'s ``unpack`` reads them (the one reader
    of the format, which ``configuration_of`` runs in Node): the connections' names once,
    and each rule as one line ``[id, connection indexes, "domains *.subdomains", clauses?]``,
    its clauses (roles, applications, ...) only when it sets any."""
    connections = list(dict.fromkeys(c for rule in rules for c in rule["connections"]))
    index = {connection: number for number, connection in enumerate(connections)}
    packed = []
    for rule in rules:
        domains = [
            *rule.get("domains", ()),
            *(SUBDOMAINS + d for d in rule.get("subdomainsOf", ())),
        ]
        clauses = {key: value for key, value in rule.items() if key not in PACKED_KEYS}
        if not clauses.get("roles"):
            clauses.pop("roles", None)
        line = [rule["id"], [index[c] for c in rule["connections"]], " ".join(domains)]
        packed.append([*line, clauses] if clauses else line)
    return connections, packed


CONFIGURATION_START = "const CONFIGURATION = "
CONFIGURATION_END = ";\n// end of configuration\n"
"""What delimits the configuration block in the rendered code: one JSON value between them."""


def configuration_of(code: str) -> dict[str, Any] | None:
    """The configuration an Action this component rendered holds (its settings, routing and the
    organizations' rules), as its handler reads it (``configuration.js`` unpacks the block, in
    Node), or None when the code holds none: for tools and the policy pack."""
    block = packed_configuration_of(code)
    if block is None or not isinstance(block.get("organizations"), list):
        return None
    try:
        return unpacked_configuration(block)
    except subprocess.CalledProcessError:
        return None


def configuration_blocks(code: str) -> int:
    """How many whole configuration blocks ``code`` holds (its start, JSON, its end): one, as
    rendered; more when a copy was kept in a comment (the start's text inside a JSON string, a
    ``denyMessage`` say, is no block)."""
    blocks, start = 0, code.find(CONFIGURATION_START)
    while start != -1:
        end = code.find(CONFIGURATION_END, start)
        if end == -1:
            break
        try:
            json.loads(code[start + len(CONFIGURATION_START) : end])
            blocks += 1
        except ValueError:
            pass
        start = code.find(CONFIGURATION_START, start + 1)
    return blocks


def packed_configuration_of(code: str) -> dict[str, Any] | None:
    """The configuration block of an Action this component rendered, as it is in the code."""
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
    clauses: dict[str, Any] = {
        "applications": organization.applications,
        "anyUser": organization.allow_any_user_of_connection or None,
        **domain_clauses(organization.email_domains, proven),
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


def domain_clauses(
    patterns: Sequence[str], proven: Collection[str] | None = None
) -> dict[str, list[str]]:
    """A rule's email domain clauses (``membership.js``'s ``domains`` and ``subdomainsOf``) for
    ``patterns`` (``*.acme.com`` admits acme.com's subdomains); with ``proven``, of those whose
    apex is among them alone (a proven domain, or a free-mail one the organization allows)."""
    admitted = [p for p in patterns if proven is None or email_domains.apex(p) in proven]
    return {
        "domains": [p for p in admitted if not p.startswith("*.")],
        "subdomainsOf": [p[2:] for p in admitted if p.startswith("*.")],
    }


def _tojson(value: Any) -> str:
    """What the template's ``|tojson`` writes for ``value``."""
    return str(htmlsafe_json_dumps(value, sort_keys=True))


def _packed_json(value: Any) -> str:
    """What the template's ``|packed`` writes for an organization's line: JSON without spaces,
    escaped for a script like ``|tojson``."""
    return str(htmlsafe_json_dumps(value, sort_keys=True, separators=(",", ":")))


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        # The output is JavaScript, not HTML: values enter it through |tojson instead.
        autoescape=False,  # noqa: S701
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["packed"] = _packed_json
    return environment
