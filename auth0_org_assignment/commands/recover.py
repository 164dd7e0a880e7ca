"""Put back under a stack what an interrupted ``pulumi up`` created but did not record.

    pulumi cancel --stack prod --yes    # a bucket backend: the lock the killed `up` left
    pulumi stack export --stack prod --file prod.state.json
    AUTH0_RECOVER_CLIENT_ID=... AUTH0_RECOVER_CLIENT_SECRET=... auth0-org-assignment recover \\
        prod --state prod.state.json --tier enterprise-production

An ``up`` run with ``PULUMI_SKIP_CHECKPOINTS=true`` (a bulk load of organizations,
docs/deploy.md) writes the stack's state once, when it ends. Killed outright before that (a
runner lost, a process killed), it leaves the state as it was before it started, and in the
tenant what it had created: the next ``up`` would create those again, and be refused (an
organization's name is unique).

With read-only credentials (the scopes of its ``CALLS``) this finds, for each resource the
program declares that the exported state does not hold, the one the tenant has in its place:
each organization by its name, the connections enabled on it, its discovery domains, and each
post-login Action by its name. It takes only what the load can have made: an organization
exactly as the configuration declares it, an Action created after the state was last written
holding the stack's rule (its code as the load rendered it); anything else is refused, named.
It prints what it found and what the tenant lacks, and writes ``.recover/STACK.json`` for
``pulumi import --file``. It writes nothing to the tenant.

Run it with the configuration the load ran with. It refuses a state that does not hold both of
the stack's M2M applications: an application's name is not unique, so one that an interrupted
first deploy created cannot be told from another by it.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auth0_org_assignment import desired_state
from auth0_org_assignment.action_code import TRIGGER, marker_key, plan_shards
from auth0_org_assignment.action_credential import SLOTS
from auth0_org_assignment.commands import deployed_rules, pulumi_import
from auth0_org_assignment.commands.adopt import (
    Adoption,
    auto_membership_outside,
    compare_organization,
)
from auth0_org_assignment.commands.management_client import (
    ManagementClient,
    UsageError,
    add_stack_arguments,
    connect,
    enabled_connections,
    reported,
)
from auth0_org_assignment.component import COMPONENT_TYPE, LogicalNames
from auth0_org_assignment.config import OrganizationConfig, StackConfig, email_domains
from auth0_org_assignment.config.sources import project_name, project_root

CALLS = (
    "organizations.get_by_name",
    "organizations.enabled_connections.list",
    "organizations.discovery_domains.get_by_name",
    "actions.list",
    "actions.get",
)


@dataclass
class Recovery:
    """What the tenant holds that the state does not, and what is in neither."""

    imports: list[dict[str, Any]] = field(default_factory=list)
    """Entries of the ``pulumi import`` file."""
    found: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    """Declared, in neither the state nor the tenant: the next ``up`` creates them."""
    refused: list[str] = field(default_factory=list)
    """Found where the state has nothing, but not what the interrupted ``up`` can have made."""
    organization_ids: set[str] = field(default_factory=set)
    """The ids of the stack's organizations: those the state holds and those recovered (what
    the load's Actions can hold the rules of)."""

    def recover(self, kind: str, name: str, import_id: str, what: str) -> None:
        self.imports.append(pulumi_import.entry(kind, name, import_id))
        self.found.append(f"{what} -> {name}")


@dataclass(frozen=True)
class StateResources:
    """The resources an exported state (``pulumi stack export``) holds, by logical name."""

    ids: dict[tuple[str, str], str]
    """``(type, logical name)``: the resource's id."""
    component_urn: str
    written: datetime
    """The last time a step the state recorded created or changed a resource."""

    @classmethod
    def read(cls, path: Path, project: str, stack: str) -> StateResources:
        """The state of ``project``'s ``stack`` in ``path``; a ``UsageError`` naming the file
        when it is not one."""

        def refuse(problem: str) -> UsageError:
            return UsageError(
                f"--state {path}: {problem}; write it with "
                f"`pulumi stack export --stack {stack} --file {path}`"
            )

        try:
            exported = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise refuse(f"not a state `pulumi stack export` wrote ({error})") from None
        deployment = exported.get("deployment") if isinstance(exported, dict) else None
        resources = deployment.get("resources") if isinstance(deployment, dict) else None
        if not isinstance(resources, list) or not all(
            isinstance(r, dict) and isinstance(r.get("urn"), str) for r in resources
        ):
            raise refuse("no deployment.resources, each with its urn")
        prefix = f"urn:pulumi:{stack}::{project}::"
        strangers = [r["urn"] for r in resources if not r["urn"].startswith(prefix)]
        if strangers:
            raise refuse(f"holds {strangers[0]}, not a resource of {project}'s stack {stack}")
        component = next((r["urn"] for r in resources if r.get("type") == COMPONENT_TYPE), None)
        if component is None:
            described = desired_state.m2m_client_description(project, stack)
            raise UsageError(
                f"--state {path}: holds no {COMPONENT_TYPE}: no deploy of the stack was "
                "recorded, so nothing can be recovered into it. Delete what the killed `up` "
                f"created (the applications described {described!r}, the organizations, the "
                "post-login Actions), then deploy without PULUMI_SKIP_CHECKPOINTS"
            )
        # The last step the state recorded: a refused `up` or a `preview` after the kill
        # writes the state again, but changes no resource's time.
        times = [t for r in resources for t in (r.get("created"), r.get("modified")) if t]
        try:
            written = max(instant(str(t)) for t in times)
        except ValueError as error:
            raise refuse(f"no readable created/modified time on its resources ({error})") from None
        ids = {
            (str(r.get("type")), r["urn"].rsplit("::", 1)[-1]): str(r.get("id", ""))
            for r in resources
        }
        return cls(ids, component, written)

    def holds(self, kind: str, *names: str) -> bool:
        """Whether it holds a resource of ``kind`` under any of ``names``."""
        return self.id_of(kind, *names) is not None

    def id_of(self, kind: str, *names: str) -> str | None:
        """The id of the resource of ``kind`` under the first of ``names`` it holds."""
        kind_type = pulumi_import.RESOURCE_TYPES[kind]
        return next((self.ids[kind_type, n] for n in names if (kind_type, n) in self.ids), None)


def instant(text: str) -> datetime:
    """An ISO 8601 time with its zone (Auth0's ``…:38.131Z``, Pulumi's ``…:38.844363927Z`` or
    ``+01:00``), in UTC; a ``ValueError`` without a zone."""
    read = datetime.fromisoformat(text)
    if read.tzinfo is None:
        raise ValueError(f"{text!r} names no time zone")
    return read.astimezone(UTC)


def refuse_without_applications(state: StateResources, project: str, stack: str) -> None:
    """Both of the stack's applications must be in the state: one a killed first deploy
    created cannot be told from another by name."""
    names = LogicalNames()
    lacking = [
        names.slot_client(slot)
        for slot in SLOTS
        if not state.holds("client", names.slot_client(slot))
    ]
    if lacking:
        raise UsageError(
            f"the state does not hold the stack's M2M application(s) {', '.join(lacking)}: a "
            "bulk load is for a stack deployed once before, and an application created by an "
            "interrupted first deploy cannot be told from another by its name, so nothing is "
            "recovered. Delete the applications described "
            f"{desired_state.m2m_client_description(project, stack)!r} that the state does "
            "not hold; import the organizations and Action the killed `up` created with "
            "`auth0-org-assignment adopt`, or delete them; then deploy without "
            "PULUMI_SKIP_CHECKPOINTS"
        )


def discover(
    api: ManagementClient,
    config: StackConfig,
    state: StateResources,
    since: datetime | None = None,
) -> Recovery:
    """What the tenant holds in place of each declared resource the state lacks (an Action:
    created after ``since``, by default the state's last step). Reads only; a ``UsageError``
    listing every refusal."""
    recovery = Recovery()
    for index, organization in enumerate(config.organizations):
        _recover_organization(recovery, api, state, index, organization)
    _recover_actions(recovery, api, config, state, since or state.written)
    if recovery.refused:
        raise UsageError(
            f"{len(recovery.refused)} refused, nothing written:\n  - "
            + "\n  - ".join(recovery.refused)
        )
    return recovery


def _recover_organization(
    recovery: Recovery,
    api: ManagementClient,
    state: StateResources,
    index: int,
    organization: OrganizationConfig,
) -> None:
    names = LogicalNames()
    resource = names.organization(organization)
    connections = {
        connection: names.connection(organization, connection)
        for connection in organization.connections or []
    }
    domains = {
        domain: names.discovery_domain(organization, domain)
        for domain in email_domains.discovery_domains(organization.email_domains)
    }
    # A state from before organizations' resources were named by their names holds the first
    # organization's under their names of before (the next `up` renames them).
    organization_id = state.id_of(
        "organization", resource, *names.before(index, names.first_organization_before_names)
    )
    enabled: dict[str, dict[str, Any]] | None = None
    if organization_id is None:
        hanging = [f"{c} enabled on {organization.name} ({n})" for c, n in connections.items()]
        hanging += [
            f"discovery domain {d} of {organization.name} ({n})" for d, n in domains.items()
        ]
        made = _organization_the_load_made(recovery, api, resource, organization, hanging)
        if made is None:
            return
        organization_id, enabled = made
    recovery.organization_ids.add(organization_id)
    lacking = {
        c: name
        for c, name in connections.items()
        if not state.holds(
            "connection", name, *names.before(index, names.first_connection_before_names(c))
        )
    }
    if lacking:
        if enabled is None:
            enabled = enabled_connections(api, organization_id)
        for connection, name in lacking.items():
            what = f"{connection} enabled on {organization.name}"
            if connection in enabled:
                connection_id = enabled[connection]["connection_id"]
                recovery.recover("connection", name, f"{organization_id}::{connection_id}", what)
            else:
                recovery.missing.append(f"{what} ({name})")
    for domain, name in domains.items():
        if state.holds(
            "discovery_domain",
            name,
            *names.before(index, names.first_discovery_domain_before_names(domain)),
        ):
            continue
        what = f"discovery domain {domain} of {organization.name}"
        found = api.find(
            "organizations.discovery_domains.get_by_name", id=organization_id, domain=domain
        )
        if found is None:
            recovery.missing.append(f"{what} ({name})")
        else:
            recovery.recover("discovery_domain", name, f"{organization_id}::{found['id']}", what)


def _organization_the_load_made(
    recovery: Recovery,
    api: ManagementClient,
    resource: str,
    organization: OrganizationConfig,
    hanging: list[str],
) -> tuple[str, dict[str, dict[str, Any]]] | None:
    """The id of the organization the tenant has under the configured name, recovered when it
    is as the configuration declares it (what the load made), with its enabled connections;
    None when there is none (it is missing, with what ``hanging`` on it says) or it is another
    (refused)."""
    found = api.find("organizations.get_by_name", name=organization.name)
    if found is None:
        recovery.missing += [f"organization {organization.name} ({resource})", *hanging]
        return None
    probe = Adoption()
    try:
        compare_organization(probe, resource, found, organization)
        differences = [f"{c.property}: {c.before} -> {c.after}" for c in probe.changes]
    except UsageError:  # branding the configuration does not declare
        differences = ["branding the configuration does not declare"]
    # A load enables only the configured connections: one more, the load did not make (and with
    # auto-membership it would admit anyone who logs in to the organization through it).
    enabled = enabled_connections(api, found["id"])
    configured = organization.connections or []
    admitting = set(auto_membership_outside(enabled, configured))
    differences += [
        f"{name} enabled but not configured"
        + (" (with auto-membership: it admits anyone)" if name in admitting else "")
        for name in sorted(set(enabled) - set(configured))
    ]
    if differences:
        recovery.refused.append(
            f"the organization {organization.name!r} ({found['id']}) is not as the "
            f"configuration declares it ({'; '.join(differences)}), so the interrupted `up` "
            "did not make it: adopt it deliberately (`auth0-org-assignment adopt`, which shows "
            "every change) or rename the configured one"
        )
        return None
    organization_id: str = found["id"]
    recovery.recover(
        "organization",
        resource,
        organization_id,
        f"organization {organization.name} ({organization_id})",
    )
    return organization_id, enabled


def _recover_actions(
    recovery: Recovery,
    api: ManagementClient,
    config: StackConfig,
    state: StateResources,
    since: datetime,
) -> None:
    names = LogicalNames()
    shards = len(plan_shards(config).shards)
    wanted = {
        desired_state.action_name(config, shard, shards): (names.action(shard, shards), shard)
        for shard in range(shards)
        if not state.holds("action", names.action(shard, shards))
    }
    if not wanted:
        return
    for action_name, (resource, shard) in wanted.items():
        named = list(api.pages("actions.list", "actions", {"actionName": action_name}))
        if not named:
            recovery.missing.append(f"Action {action_name} ({resource})")
            continue
        # The load created it after the state last recorded a step; one older is not its own.
        listed = ", ".join(f"{a['id']} (created {a['created_at']})" for a in named)
        foreign = [
            a
            for a in named
            if TRIGGER not in {t.get("id") for t in a.get("supported_triggers", [])}
            or instant(a["created_at"]) <= since
        ]
        if foreign or len(named) > 1:
            recovery.refused.append(
                f"the Action(s) named {action_name!r}, {listed}, are not in the state and not "
                f"one post-login Action created after {since.isoformat()} (the last step the "
                "state recorded, or --since): the interrupted `up` did not make them alone. "
                "Rename or delete the one(s) it did not make (dashboard: Actions > Library); "
                "if a command wrote the state after the kill, pass --since with the killed "
                "`up`'s start"
            )
            continue
        # The load creates its Actions with their code rendered, once the organizations exist:
        # one of the stack's name holding no rule of the stack's is another team's, or another
        # stack's (one of this project, whose split reached these names first).
        code = api.call("actions.get", id=named[0]["id"]).get("code")
        if not _holds_the_stacks_rule(code, config, recovery.organization_ids, shard, shards):
            recovery.refused.append(
                f"the Action named {action_name!r}, {listed}, does not hold this stack's rule "
                f"(its marker prefix {marker_key(config, '')!r}, shard {shard + 1} of {shards}, "
                "and only this stack's organizations), so the interrupted `up`, which creates "
                "its Actions with their code, did not make it: it is another team's or another "
                "stack's. Rename the stack's Actions (action.name), or have that one renamed"
            )
            continue
        recovery.recover(
            "action", resource, named[0]["id"], f"Action {action_name} ({named[0]['id']})"
        )


def _holds_the_stacks_rule(
    code: Any, config: StackConfig, organization_ids: set[str], shard: int, shards: int
) -> bool:
    """Whether an Action's ``code`` is one the stack rendered for its ``shard`` of ``shards``:
    its configuration block is the stack's and holds the rules of the stack's organizations
    (``organization_ids``) alone."""
    block = deployed_rules.stacks_block(code, config)
    return (
        block is not None
        and (block.shard, block.shards) == (shard, shards)
        and all(rule.get("id") in organization_ids for rule in block.organizations)
    )


def report(recovery: Recovery, stack: str, import_file: str) -> str:
    lines = ["In the tenant, not in the state, so imported:"]
    lines += [f"  {line}" for line in recovery.found] or ["  nothing"]
    if recovery.missing:
        lines.append("Not in the tenant either, so the next `up` creates:")
        lines += [f"  {line}" for line in recovery.missing]
    lines.append(
        "The next `up` also writes the domain proofs, the Actions' bindings and their "
        "credential again, whatever the killed `up` had done of them."
    )
    if recovery.found:
        lines += [
            f"Wrote {import_file}. With the deployer's credentials (the import reads the tenant",
            "and writes the state once; it shows the resources and asks first):",
            f"  {pulumi_import.command(stack, import_file, 'PULUMI_SKIP_CHECKPOINTS=true')}",
        ]
    lines += [
        f"  pulumi preview --stack {stack} --diff",
        f"  pulumi up --stack {stack}",
    ]
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_stack_arguments(parser, "the stack whose interrupted `up` to recover from, e.g. prod")
    parser.add_argument(
        "--state",
        type=Path,
        required=True,
        help="the stack's state, as `pulumi stack export --stack STACK --file FILE` writes it",
    )
    parser.add_argument(
        "--since",
        type=instant,
        help="when the killed `up` started (ISO 8601 with its zone): an Action created after it "
        "is the load's (default: the last step the state recorded; pass it when a command "
        "wrote the state after the kill)",
    )
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")


def run(arguments: argparse.Namespace) -> int:
    return reported(lambda: _recover(arguments))


def _recover(arguments: argparse.Namespace) -> int:
    if arguments.project_dir is None:
        arguments.project_dir = project_root()
    import_file = arguments.project_dir / ".recover" / f"{arguments.stack}.json"
    # A file left by an earlier run is never what this run found.
    import_file.unlink(missing_ok=True)
    project = project_name(arguments.project_dir)
    state = StateResources.read(arguments.state, project, arguments.stack)
    refuse_without_applications(state, project, arguments.stack)
    config, api = connect(arguments, "RECOVER", "read-only credentials", CALLS, note_tier=True)
    recovery = discover(api, config, state, arguments.since)
    import_file.parent.mkdir(exist_ok=True)
    document = pulumi_import.under_component(state.component_urn, recovery.imports)
    import_file.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    shown_path = os.path.relpath(import_file, Path.cwd())
    if arguments.json:
        print(
            json.dumps(
                {"found": recovery.found, "missing": recovery.missing, "import_file": shown_path},
                indent=2,
            )
        )
    else:
        print(report(recovery, arguments.stack, shown_path))
    return 0
