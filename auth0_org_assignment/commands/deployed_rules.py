"""The organizations' rules as the deployed Actions hold them: what logins apply.

Read from the tenant, not the checked-out stack file: the login flow's bindings
(``GET /actions/triggers/post-login/bindings``), each bound Action's deployed code
(``GET /actions/actions/{id}``: its ``deployed_version.code``, what a login runs; a newer draft
is not), and in it the configuration block this stack rendered, unpacked by
``action_templates/configuration.js`` (``action_code.configuration_of``). An Action is this
stack's when it bears the name the stack gives its Actions (``desired_state.action_name``, for
the shard its routing names) and its block's marker prefix is the stack's
(``action_code.marker_key``; stacks that share a tenant keep their organizations apart).

The rules are used only as a whole login flow would apply them: this stack's Actions must be one
split, every shard of it bound (so every login has the Action that owns it), and an organization
in several of them must hold the same rule in each but for the email domains the split divides.
Otherwise a deploy did not finish, and ``DeployedRulesUnusable`` says what to do. The backfill
adds by these rules and reconcile removes by them (``eligibility``), each through the email
domains proven when it runs (``held_to_proofs``). Where the Actions ask the tenant at each
login whether its connection is enabled on the organization (``connectionCheck: api``), the
connections a rule lists that are not enabled when a command runs are read too
(``Deployed.disabled``): a login through them is not assigned, and the commands judge so.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Collection, Iterable, Mapping
from typing import Any, NamedTuple

from auth0_org_assignment.action_code import (
    TRIGGER,
    configuration_blocks,
    configuration_of,
    domain_clauses,
    marker_key,
)
from auth0_org_assignment.commands.domains import proven_domains
from auth0_org_assignment.commands.management_client import (
    ManagementClient,
    UsageError,
    enabled_connections,
)
from auth0_org_assignment.config import StackConfig
from auth0_org_assignment.desired_state import SHARD_SUFFIX, action_name

CALLS = ("actions.bindings.get", "actions.get", "organizations.enabled_connections.list")
"""The Management API calls ``deployed_rules`` and ``read`` make (``read`` those of
``proven_domains`` too)."""
NOT_HELD = 4
"""The exit status of a command that did its work but left some declared organizations alone,
because no bound Action holds their rule (``not_held`` names each on stderr): a deploy did not
finish, or the Action was unbound or renamed. Not 0, so a pipeline does not read "nothing to
do" for organizations nobody judged."""

SHARDED = ("domains", "subdomainsOf")
"""What of an organization's rule the Actions of a split divide between them (by registered
domain); the rest must be the same in each Action that holds the organization."""


class DeployedRulesUnusable(UsageError):
    """The deployed Actions are not one whole split: a deploy did not finish."""


_AGAIN = "Run pulumi up, then this command again; nothing was changed"


class Deployed(NamedTuple):
    """The rules the login flow applies to a stack's organizations, as a command reads them."""

    rules: Mapping[str, Mapping[str, Any]]
    """The declared organizations' rules as the bound Actions hold them, by id; one no deployed
    Action holds is not in it."""
    proven: Mapping[str, Collection[str]]
    """The email domains of each organization proven now, of those its rule or the
    configuration names, by name (``domains.Proofs.proven``)."""
    declared: Mapping[str, Collection[str]]
    """Those a deploy declared, proven or awaiting a proof (``domains.Proofs.declared``): whom
    a refusal for a domain not proven may keep."""
    disabled: Mapping[str, Collection[str]]
    """With ``connectionCheck: api``, the connections each organization's rule lists (by its
    id) that are not enabled on it now: a login through them is not assigned. Empty
    otherwise."""
    unanswered: Mapping[str, Collection[str]]
    """The email domains, by organization name, whose record's lookup DNS did not answer this
    run (``domains.Proofs.unanswered``)."""


def read(
    api: ManagementClient,
    config: StackConfig,
    organization_ids: Mapping[str, str],
    unanswered_admits: bool = False,
) -> Deployed:
    """The declared organizations' rules as deployed, and their email domains proven now and
    declared (``domains.proven_domains``, ``unanswered_admits`` as for it), of those the rules
    or the configuration name."""
    split = _deployed(api, config)
    rules = {i: rule for i, rule in split.rules.items() if i in organization_ids.values()}
    disabled = (
        not_enabled(api, rules, {i: name for name, i in organization_ids.items()})
        if split.connection_check == "api"
        else {}
    )
    configured = {o.name: o.email_domains for o in config.organizations}
    held = {name: patterns(rules.get(i, {})) for name, i in organization_ids.items()}
    named = {name: sorted({*held[name], *configured.get(name, ())}) for name in held}
    proofs = proven_domains(
        api,
        config,
        organization_ids,
        unanswered_admits=unanswered_admits,
        patterns=named,
        held=held,
    )
    return Deployed(rules, proofs.proven, proofs.declared, disabled, proofs.unanswered)


def deployed_rules(api: ManagementClient, config: StackConfig) -> dict[str, dict[str, Any]]:
    """Each organization's rule, by id, as this stack's bound Actions hold it, its email domains
    merged from the Actions of the split that hold them. An organization they do not hold (not
    deployed yet) is not in it. :class:`DeployedRulesUnusable` when they are not one whole
    split, or disagree on an organization's rule."""
    return _deployed(api, config).rules


class _Split(NamedTuple):
    rules: dict[str, dict[str, Any]]
    connection_check: str
    """The Actions' ``connectionCheck`` setting: ``static`` or ``api``."""


def _deployed(api: ManagementClient, config: StackConfig) -> _Split:
    splits: dict[tuple[int, tuple[str, ...]], dict[int, list[dict[str, Any]]]] = {}
    checks: set[str] = set()
    for action_id in _bound(api):
        action = api.call("actions.get", id=action_id)
        deployed = action.get("deployed_version") if isinstance(action, dict) else None
        code = deployed.get("code") if isinstance(deployed, dict) else None
        blocks = configuration_blocks(code) if isinstance(code, str) else 0
        if blocks > 1 and _named_as_ours(action, config):
            raise DeployedRulesUnusable(
                f"the deployed code of the Action {action.get('name')!r} holds "
                f"{blocks} configuration blocks (edited by hand, one "
                "kept in a comment?), so which rule logins run cannot be told from it. Run "
                "pulumi up to deploy the rendered code again, then this command again; nothing "
                "was changed"
            )
        block = stacks_block(code, config)
        if block is None or action.get("name") != action_name(config, block.shard, block.shards):
            continue
        split = splits.setdefault((block.shards, block.suffixes), {})
        split[block.shard] = block.organizations
        checks.add(block.connection_check)
    if not splits:
        return _Split({}, "static")
    ((shards, _), split), *others = splits.items()
    if others or sorted(split) != list(range(shards)):
        raise DeployedRulesUnusable(
            f"the login flow holds {_described(splits)} of this stack's Actions, not one whole "
            f"split: a deploy did not finish. {_AGAIN}"
        )
    if len(checks) > 1:
        raise DeployedRulesUnusable(
            f"this stack's deployed Actions differ in connectionCheck ({', '.join(sorted(checks))})"
            f": a deploy did not finish. {_AGAIN}"
        )
    return _Split(_merged(split), checks.pop())


def not_enabled(
    api: ManagementClient, rules: Mapping[str, Mapping[str, Any]], names: Mapping[str, str]
) -> dict[str, list[str]]:
    """The connections each of ``rules`` (by organization id) lists that are not enabled on its
    organization now, where some are: with ``connectionCheck: api`` a login through one is not
    assigned (``post_login.js``, ``assign``). Each is named on stderr (``names``: the
    organizations' names)."""
    disabled: dict[str, list[str]] = {}
    for organization_id, rule in rules.items():
        enabled = enabled_connections(api, organization_id)
        for name in rule["connections"]:
            if name not in enabled:
                disabled.setdefault(organization_id, []).append(name)
                print(
                    f"{names.get(organization_id, organization_id)}: the connection {name} is "
                    "not enabled on the organization now, so with connectionCheck: api a login "
                    "through it is not assigned (the backfill adds nobody through it; reconcile "
                    "keeps and lists those it let in)",
                    file=sys.stderr,
                )
    return disabled


def with_enabled(rule: Mapping[str, Any], disabled: Collection[str]) -> dict[str, Any]:
    """A deployed organization's rule admitting through the connections it lists that are
    enabled alone (``Deployed.disabled``)."""
    return {**rule, "connections": [c for c in rule["connections"] if c not in disabled]}


class Block(NamedTuple):
    """The configuration block of one of this stack's Actions: its organizations' rules and
    which shard of which split it is."""

    organizations: list[dict[str, Any]]
    shard: int
    shards: int
    suffixes: tuple[str, ...]
    connection_check: str
    """``static``, or ``api`` when a login asks the tenant whether its connection is enabled."""


def stacks_block(code: Any, config: StackConfig) -> Block | None:
    """The configuration block of an Action's ``code`` when it marks with this stack's prefix
    (``marker_key``), else None: another stack's, another team's, or no rendered code."""
    configuration = configuration_of(code) if isinstance(code, str) else None
    if configuration is None or configuration["settings"].get("markerPrefix") != marker_key(
        config, ""
    ):
        return None
    routing = configuration.get("routing") or {"shard": 0, "shards": 1, "suffixes": []}
    return Block(
        configuration["organizations"],
        int(routing["shard"]),
        int(routing["shards"]),
        tuple(routing["suffixes"]),
        str(configuration["settings"].get("connectionCheck", "static")),
    )


def _merged(split: Mapping[int, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    rules: dict[str, dict[str, Any]] = {}
    for shard in sorted(split):
        for rule in split[shard]:
            merged = rules.setdefault(rule["id"], {**rule, **{key: [] for key in SHARDED}})
            if _unsharded(merged) != _unsharded(rule):
                raise DeployedRulesUnusable(
                    f"organization {rule['id']}'s rule differs between this stack's deployed "
                    f"Actions: a deploy did not finish. {_AGAIN}"
                )
            for key in SHARDED:
                merged[key] = sorted({*merged[key], *rule.get(key, [])})
    for rule in rules.values():
        for key in SHARDED:
            if not rule[key]:
                del rule[key]
    return rules


def _named_as_ours(action: Mapping[str, Any], config: StackConfig) -> bool:
    """Whether an Action bears a name this stack gives its Actions (one, or a shard's)."""
    name = action.get("name")
    lone = action_name(config, 0)
    return (
        isinstance(name, str)
        and re.fullmatch(rf"{re.escape(lone)}({SHARD_SUFFIX})?", name) is not None
    )


def not_held(config: StackConfig, organization: str, consequence: str) -> str:
    """The warning for a declared ``organization`` whose rule no Action of this stack's that is
    bound to the login flow holds, and its ``consequence`` for the command."""
    return (
        f"warning: {organization}: no Action bound to the login flow holds its rule (this "
        f"stack's are named {action_name(config, 0)!r}, or that with a shard's suffix, and "
        f"mark with {marker_key(config, '')!r}): deploy it with pulumi up first (from the "
        f"configuration the tenant runs, not a branch's); {consequence}"
    )


def _unsharded(rule: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in rule.items() if key not in SHARDED}


def _described(splits: Mapping[tuple[int, tuple[str, ...]], Mapping[int, Any]]) -> str:
    return " and ".join(
        f"shards {', '.join(str(s + 1) for s in sorted(split))} of {shards}"
        for (shards, _), split in splits.items()
    )


def _bound(api: ManagementClient) -> list[str]:
    """The ids of the Actions the post-login flow runs, in its order."""
    bindings = api.pages("actions.bindings.get", "bindings", trigger=TRIGGER)
    return [binding["action"]["id"] for binding in bindings]


def patterns(rule: Mapping[str, Any]) -> list[str]:
    """A rule's email domains as the configuration writes them (``*.acme.com`` for a domain
    whose subdomains it admits)."""
    return [*rule.get("domains", []), *(f"*.{d}" for d in rule.get("subdomainsOf", []))]


def held_to_proofs(rule: Mapping[str, Any], proven: Collection[str] | None) -> dict[str, Any]:
    """A deployed organization's rule admitting through its ``proven`` email domains alone (all
    when None): those whose record DNS still has, of those the deploy found proven."""
    return {**rule, **domain_clauses(patterns(rule), proven)}


def with_domains(rule: Mapping[str, Any], more: Iterable[str]) -> dict[str, Any]:
    """A deployed organization's rule admitting through ``more`` email domains too (patterns as
    the configuration writes them), whether proven or not."""
    return {**rule, **domain_clauses(sorted({*patterns(rule), *more}))}
