"""Put back under a stack what an interrupted ``pulumi up`` created but did not record.

    pulumi cancel --stack prod --yes    # a bucket backend: the lock the killed `up` left
    pulumi stack export --stack prod --file prod.state.json
    AUTH0_RECOVER_CLIENT_ID=... AUTH0_RECOVER_CLIENT_SECRET=... auth0-org-assignment recover \\
        prod --state prod.state.json

An ``up`` run with ``PULUMI_SKIP_CHECKPOINTS=true`` (a bulk load of organizations,
docs/deploy.md) writes the stack's state once, when it ends. Killed before that (a runner
lost, a job killed without the time to finish), it leaves the state as it was before it
started, and in the tenant what it had created: the next ``up`` would create those again, and
be refused (an organization's name is unique).

With read-only credentials (the scopes of its ``CALLS``) this finds, for each resource the
program declares that the exported state does not hold, the one the tenant has in its place:
each organization by its name, the connections enabled on it, its discovery domains, and each
post-login Action by its name. It prints what it found and what the next ``up`` will create,
and writes ``.recover/STACK.json`` for ``pulumi import --file``. It writes nothing to the tenant.

It refuses a state that holds none of the stack's M2M applications: an application's name is
not unique, so one that an interrupted first deploy created cannot be told from another. Bulk
loads are for a stack deployed once before, with its applications and credential recorded.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auth0_org_assignment import desired_state, domain_proof
from auth0_org_assignment.action_code import TRIGGER, plan_shards
from auth0_org_assignment.commands.adopt import RESOURCE_TYPES
from auth0_org_assignment.commands.management_client import (
    ApiError,
    ManagementClient,
    UsageError,
    add_stack_arguments,
    connect,
    reported,
)
from auth0_org_assignment.component import COMPONENT_TYPE, LogicalNames
from auth0_org_assignment.config import StackConfig
from auth0_org_assignment.config.email_domains import mailbox_provider

CALLS = (
    "organizations.get_by_name",
    "organizations.enabled_connections.list",
    "organizations.discovery_domains.get_by_name",
    "actions.list",
)

DISCOVERY_DOMAIN = "auth0:index/organizationDiscoveryDomain:OrganizationDiscoveryDomain"
TYPES = RESOURCE_TYPES | {"discovery_domain": DISCOVERY_DOMAIN}


@dataclass
class Recovery:
    """What the tenant holds that the state does not, and what is in neither."""

    imports: list[dict[str, Any]] = field(default_factory=list)
    """Entries of the ``pulumi import`` file."""
    found: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    """Declared, in neither the state nor the tenant: the next ``up`` creates them."""

    def recover(self, kind: str, name: str, import_id: str, what: str) -> None:
        self.imports.append(
            {"type": TYPES[kind], "name": name, "id": import_id, "parent": "component"}
        )
        self.found.append(f"{what} -> {name}")

    def import_file(self, component_urn: str) -> dict[str, Any]:
        """Each resource under the component the state holds (the file's ``nameTable`` names
        it by its URN)."""
        return {"nameTable": {"component": component_urn}, "resources": self.imports}


@dataclass(frozen=True)
class StateResources:
    """The resources an exported state (``pulumi stack export``) holds, by logical name."""

    ids: dict[tuple[str, str], str]
    """``(type, logical name)``: the resource's id."""
    component_urn: str

    @classmethod
    def read(cls, path: Path) -> StateResources:
        try:
            exported = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise UsageError(
                f"--state {path}: not a state `pulumi stack export` wrote ({error})"
            ) from None
        resources = (exported.get("deployment") or {}).get("resources")
        if not isinstance(resources, list):
            raise UsageError(
                f"--state {path}: no deployment.resources; write it with "
                "`pulumi stack export --stack STACK --file FILE`"
            )
        ids = {
            (r["type"], r["urn"].rsplit("::", 1)[-1]): r.get("id", "")
            for r in resources
            if "urn" in r and "type" in r
        }
        component = next((r["urn"] for r in resources if r.get("type") == COMPONENT_TYPE), None)
        if component is None:
            raise UsageError(
                f"--state {path}: holds no {COMPONENT_TYPE}, so no deploy of the stack was "
                "recorded; there is nothing to recover into (deploy once without "
                "PULUMI_SKIP_CHECKPOINTS)"
            )
        return cls(ids, component)

    def holds(self, kind: str, name: str) -> bool:
        return (TYPES[kind], name) in self.ids

    def id_of(self, kind: str, name: str) -> str | None:
        return self.ids.get((TYPES[kind], name))


def discover(api: ManagementClient, config: StackConfig, state: StateResources) -> Recovery:
    """What the tenant holds in place of each declared resource the state lacks. Reads only."""
    names = LogicalNames()
    if not any(state.holds("client", names.slot_client(slot)) for slot in "ab"):
        raise UsageError(
            "the state holds none of the stack's M2M applications "
            f"({names.slot_client('a')}, {names.slot_client('b')}): an interrupted first "
            "deploy's applications cannot be told from others by name, so nothing is "
            "recovered. Delete the applications it created (dashboard: Applications, named "
            "after the stack), then deploy once without PULUMI_SKIP_CHECKPOINTS"
        )
    recovery = Recovery()
    for index, organization in enumerate(config.organizations):
        _recover_organization(recovery, api, state, index, organization)
    _recover_actions(recovery, api, config, state)
    return recovery


def _recover_organization(
    recovery: Recovery,
    api: ManagementClient,
    state: StateResources,
    index: int,
    organization: Any,
) -> None:
    names = LogicalNames()
    resource = names.organization(index, organization)
    organization_id = state.id_of("organization", resource)
    if organization_id is None:
        found = _found(api, "organizations.get_by_name", name=organization.name)
        if found is None:
            recovery.created.append(f"organization {organization.name} ({resource})")
            return
        organization_id = found["id"]
        recovery.recover(
            "organization",
            resource,
            organization_id,
            f"organization {organization.name} ({organization_id})",
        )
    missing = [
        (connection, names.connection(index, organization, connection))
        for connection in organization.connections or []
        if not state.holds("connection", names.connection(index, organization, connection))
    ]
    if missing:
        enabled = {
            record["connection"]["name"]: record["connection_id"]
            for record in api.pages(
                "organizations.enabled_connections.list", None, None, id=organization_id
            )
        }
        for connection, name in missing:
            if connection in enabled:
                recovery.recover(
                    "connection",
                    name,
                    f"{organization_id}::{enabled[connection]}",
                    f"{connection} enabled on {organization.name}",
                )
            else:
                recovery.created.append(f"{connection} enabled on {organization.name} ({name})")
    for domain in domain_proof.proof_domains(organization.email_domains):
        name = names.discovery_domain(index, organization, domain)
        if mailbox_provider(domain) == "free" or state.holds("discovery_domain", name):
            continue
        found = _found(
            api,
            "organizations.discovery_domains.get_by_name",
            id=organization_id,
            domain=domain,
        )
        if found is None:
            recovery.created.append(f"discovery domain {domain} of {organization.name} ({name})")
        else:
            recovery.recover(
                "discovery_domain",
                name,
                f"{organization_id}::{found['id']}",
                f"discovery domain {domain} of {organization.name}",
            )


def _recover_actions(
    recovery: Recovery, api: ManagementClient, config: StackConfig, state: StateResources
) -> None:
    names = LogicalNames()
    shards = len(plan_shards(config).shards)
    wanted = {
        desired_state.action_name(config, shard, shards): names.action(shard, shards)
        for shard in range(shards)
        if not state.holds("action", names.action(shard, shards))
    }
    if not wanted:
        return
    actions = list(api.pages("actions.list", "actions", {"triggerId": TRIGGER}))
    for action_name, resource in wanted.items():
        named = [action for action in actions if action["name"] == action_name]
        if len(named) > 1:
            listed = ", ".join(action["id"] for action in named)
            raise UsageError(
                f"several post-login Actions are named {action_name!r} ({listed}): delete all "
                "but one (dashboard: Actions > Library), then run this again"
            )
        if named:
            recovery.recover(
                "action", resource, named[0]["id"], f"Action {action_name} ({named[0]['id']})"
            )
        else:
            recovery.created.append(f"Action {action_name} ({resource})")


def _found(api: ManagementClient, call: str, **params: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = api.call(call, None, None, **params)
    except ApiError as error:
        if error.status == 404:
            return None
        raise
    return found


def report(recovery: Recovery, stack: str, import_file: str) -> str:
    lines = ["In the tenant, not in the state, and will be imported:"]
    lines += [f"  {line}" for line in recovery.found] or ["  nothing"]
    if recovery.created:
        lines.append("In neither, so the next `up` creates:")
        lines += [f"  {line}" for line in recovery.created]
    if recovery.found:
        lines += [
            f"Wrote {import_file}. With the deployer's credentials (the import reads only; its",
            "state is written once, at the end):",
            f"  PULUMI_SKIP_CHECKPOINTS=true pulumi import --stack {stack} --file {import_file} "
            "--generate-code=false --protect=false --yes",
        ]
    lines.append(f"  pulumi up --stack {stack}")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_stack_arguments(parser, "the stack whose interrupted `up` to recover from, e.g. prod")
    parser.add_argument(
        "--state",
        type=Path,
        required=True,
        help="the stack's state, as `pulumi stack export --stack STACK --file FILE` writes it",
    )
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")


def run(arguments: argparse.Namespace) -> int:
    return reported(lambda: _recover(arguments))


def _recover(arguments: argparse.Namespace) -> int:
    state = StateResources.read(arguments.state)
    config, api = connect(arguments, "RECOVER", "read-only credentials", CALLS)
    recovery = discover(api, config, state)
    import_file = arguments.project_dir / ".recover" / f"{arguments.stack}.json"
    import_file.parent.mkdir(exist_ok=True)
    import_file.write_text(
        json.dumps(recovery.import_file(state.component_urn), indent=2) + "\n", encoding="utf-8"
    )
    shown_path = os.path.relpath(import_file, Path.cwd())
    if arguments.json:
        print(
            json.dumps(
                {"found": recovery.found, "created": recovery.created, "import_file": shown_path},
                indent=2,
            )
        )
    else:
        print(report(recovery, arguments.stack, shown_path))
    return 0
