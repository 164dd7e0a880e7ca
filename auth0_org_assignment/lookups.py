"""Every name the stack looks up in the tenant (connections, roles), resolved before the first
resource is registered.

A name the tenant does not have must fail the deploy before anything is created, in
``pulumi up --skip-preview`` too: so the component resolves them all here first, each distinct
name once, whatever the number of organizations that list it, and an unknown one fails naming
the configuration keys that list it and the value. The look-ups are the provider's own invokes
(``auth0.get_connection``, ``auth0.get_role``), made through the provider the component's
resources would use, and waited for: a plain invoke returns its result before the component
registers anything.

A pull request's preview holds no Auth0 credential (``read:connections`` may read more than
names: docs/security.md, Previews). It takes the ids the last deploy looked up instead: the
stack's ``lookups`` output, which the preview job writes to a file it names in
``AUTH0_ORG_ASSIGNMENT_LOOKUPS`` (``RECORDED_VARIABLE``). A name the last deploy did not look up
(one the pull request adds) shows as ``(id of connection <name>, looked up at deploy)``, with a
warning; the deploy looks it up in the tenant.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_auth0 as auth0

from auth0_org_assignment.config import PROJECT, StackConfig
from auth0_org_assignment.connection_options import refuse_connection_options

PACKAGE = "auth0"
"""The provider package whose invokes look the names up."""


@dataclass(frozen=True)
class Kind:
    """One kind of name the stack looks up: how it is found, and what to say when it is not."""

    noun: str
    key: str
    """Its key in the ``lookups`` output (``OUTPUT``)."""
    not_found: str
    """What the provider's error says when the tenant has no such name (terraform-provider-auth0
    v1.54.1's data sources: ``No connection found with "name" = "..."``)."""
    where_to_look: str


CONNECTION = Kind(
    noun="connection",
    key="connections",
    not_found="no connection found",
    where_to_look="Authentication in the Auth0 dashboard lists the connections",
)
ROLE = Kind(
    noun="role",
    key="roles",
    not_found="no role found",
    where_to_look="User Management > Roles in the Auth0 dashboard lists the roles",
)


@dataclass(frozen=True)
class Resolved:
    """The ids of every name the stack looks up, by name."""

    connections: dict[str, str]
    roles: dict[str, str]

    def as_output(self) -> dict[str, dict[str, str]]:
        """What the program exports as ``OUTPUT``: what a credential-less preview reads."""
        return {CONNECTION.key: dict(self.connections), ROLE.key: dict(self.roles)}


OUTPUT = "lookups"
"""The stack output that holds the ids a deploy looked up (``Resolved.as_output``); the name
``scripts/pull-request-preview`` reads."""
RECORDED_VARIABLE = "AUTH0_ORG_ASSIGNMENT_LOOKUPS"
"""Names a JSON file of the ids the last deploy looked up (``pulumi stack output lookups
--json``), for a preview that holds no Auth0 credential; previews only."""
CREDENTIAL_VARIABLES = (
    "AUTH0_CLIENT_ID",
    "AUTH0_CLIENT_SECRET",
    "AUTH0_API_TOKEN",
    "AUTH0_CLIENT_ASSERTION_PRIVATE_KEY",
)
"""The auth0 provider's credentials: a run holding any looks names up in the tenant itself."""


def listed_at(config: StackConfig) -> dict[Kind, dict[str, list[str]]]:
    """Each name the configuration makes the stack look up, in order of first appearance, with
    the configuration keys that list it (``auth0-org-assignment:organizations[2].roles[0]``)."""
    found: dict[Kind, dict[str, list[str]]] = {CONNECTION: {}, ROLE: {}}
    single = config.organization is not None
    for index, organization in enumerate(config.organizations):
        where = f"{PROJECT}:organization" if single else f"{PROJECT}:organizations[{index}]"
        connections_key = f"{PROJECT}:connections" if single else f"{where}.connections"
        for position, name in enumerate(organization.connections or []):
            found[CONNECTION].setdefault(name, []).append(f"{connections_key}[{position}]")
        for position, name in enumerate(organization.roles):
            found[ROLE].setdefault(name, []).append(f"{where}.roles[{position}]")
    return found


Lookup = Callable[[str, pulumi.InvokeOptions], str]
"""Finds one name's id in the tenant, or raises the provider's error."""


def connection_id(name: str, opts: pulumi.InvokeOptions) -> str:
    """A connection's id. Only its id is needed, not the paginated list of its enabled clients,
    nor its options: a tenant that answers them is refused (``refuse_connection_options``).
    (Pulumi keeps no invoke result in state, so options never reach it; ``hide_client_secret``
    is left out because terraform-provider-auth0 v1.54.1, which the offline engine builds, does
    not know it.)"""
    found = auth0.get_connection(name=name, skip_enabled_clients=True, opts=opts)
    return refuse_connection_options(name, found.id, found.options)


def role_id(name: str, opts: pulumi.InvokeOptions) -> str:
    """A role's id: not its permissions, nor the paginated list of its users."""
    return auth0.get_role(name=name, skip_permissions=True, skip_users=True, opts=opts).id


LOOKUPS: dict[Kind, Lookup] = {CONNECTION: connection_id, ROLE: role_id}


def resolve(config: StackConfig, opts: pulumi.ResourceOptions | None = None) -> Resolved:
    """Look up every connection and role name the configuration lists, each once, through the
    auth0 provider ``opts`` gives the component (or the default one). Every name the tenant
    lacks is named in one error, with the keys that list it; nothing is registered before.
    In a preview given the last deploy's ids (``RECORDED_VARIABLE``), nothing is looked up."""
    recorded = recorded_lookups()
    if recorded is not None:
        return from_record(config, recorded)
    invoke_opts = invoke_options(opts)
    ids: dict[Kind, dict[str, str]] = {}
    problems: list[str] = []
    for kind, names in listed_at(config).items():
        ids[kind] = {}
        for name, keys in names.items():
            try:
                ids[kind][name] = LOOKUPS[kind](name, invoke_opts)
            except pulumi.RunError:
                raise  # the stack's own refusal (connection options), which says what to do
            except Exception as error:  # the provider raises plain Exceptions
                problems.append(_problem(kind, name, keys, error))
    if problems:
        raise pulumi.RunError(
            "; ".join(problems) + ". Nothing was created: fix the configuration, then run "
            "pulumi up again"
        )
    return Resolved(connections=ids[CONNECTION], roles=ids[ROLE])


KEYS_NAMED = 3
"""How many of the keys that list a name a refusal names, with how many others there are: a
connection misspelt in a stack of thousands of organizations is one readable line, not one key
for each organization."""


def _problem(kind: Kind, name: str, keys: list[str], error: Exception) -> str:
    unnamed = len(keys) - KEYS_NAMED
    others = keys[1:KEYS_NAMED] + ([f"{unnamed} more"] if unnamed > 0 else [])
    listed = keys[0] + (f" (and {', '.join(others)})" if others else "")
    if kind.not_found in str(error).lower():
        return (
            f"{listed}: the tenant has no {kind.noun} named {name!r}; {kind.where_to_look} "
            "(names are case-sensitive): correct the name, or create the "
            f"{kind.noun} first"
        )
    return (
        f"{listed}: could not look up the {kind.noun} {name!r} ({error}); check the "
        "deployer's credentials and the tenant's domain (auth0:domain)"
    )


def invoke_options(opts: pulumi.ResourceOptions | None) -> pulumi.InvokeOptions:
    """Invoke options that reach the auth0 provider the component's resources would use: an
    explicit ``provider`` or ``providers`` entry, else its parent's, else the default."""
    opts = opts or pulumi.ResourceOptions()
    provider = opts.provider if opts.provider and opts.provider.package == PACKAGE else None
    if provider is None and opts.providers:
        given = opts.providers
        listed = given.values() if isinstance(given, Mapping) else given
        provider = next(
            (p for p in listed if isinstance(p, pulumi.ProviderResource) and p.package == PACKAGE),
            None,
        )
    return pulumi.InvokeOptions(parent=opts.parent, provider=provider)


def recorded_lookups() -> dict[Kind, dict[str, str]] | None:
    """The ids the last deploy looked up, from the file ``RECORDED_VARIABLE`` names; None when
    it names none. Only a preview that holds no Auth0 credential may use them: a deploy, and a
    drift check, look every name up in the tenant."""
    path = os.environ.get(RECORDED_VARIABLE)
    if not path:
        return None
    if not pulumi.runtime.is_dry_run():
        raise pulumi.RunError(
            f"{RECORDED_VARIABLE} is set, but this is a deploy, not a preview: a deploy looks "
            "every connection and role up in the tenant; unset it"
        )
    held = [name for name in CREDENTIAL_VARIABLES if os.environ.get(name)]
    if held:
        raise pulumi.RunError(
            f"{RECORDED_VARIABLE} is set, and so is {', '.join(held)}: the last deploy's ids "
            "are for a preview that holds no Auth0 credential (scripts/pull-request-preview); "
            "a run with credentials looks every name up in the tenant: unset one or the other"
        )
    write = f"pulumi stack output {OUTPUT} --json > {path}"
    try:
        document: Any = json.loads(Path(path).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError) as error:
        raise pulumi.RunError(
            f"{RECORDED_VARIABLE}={path}: cannot read the last deploy's look-ups ({error}); "
            f"write them with: {write}"
        ) from None
    if not isinstance(document, dict):
        raise pulumi.RunError(
            f"{RECORDED_VARIABLE}={path}: holds a {type(document).__name__}, not the stack's "
            f"{OUTPUT} output (an object of {CONNECTION.key} and {ROLE.key}); write it with: "
            f"{write}"
        )
    recorded: dict[Kind, dict[str, str]] = {}
    for kind in (CONNECTION, ROLE):
        ids = document.get(kind.key, {})
        if not isinstance(ids, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in ids.items()
        ):
            raise pulumi.RunError(
                f"{RECORDED_VARIABLE}={path}: {kind.key!r} must map each {kind.noun} name to its "
                f"id, as the stack's {OUTPUT} output does; write it with: {write}"
            )
        recorded[kind] = ids
    return recorded


PLACEHOLDER = "(id of {noun} {name}, looked up at deploy)"
"""What a preview shows for the id of a name the last deploy did not look up."""


def from_record(config: StackConfig, recorded: Mapping[Kind, Mapping[str, str]]) -> Resolved:
    """The ids of the names the configuration lists, as the last deploy looked them up; a name
    it did not (one added since, or every name before a deploy first exported them) gets a
    placeholder the preview shows, and a warning."""
    ids: dict[Kind, dict[str, str]] = {}
    unknown: list[str] = []
    for kind, names in listed_at(config).items():
        ids[kind] = {}
        for name in names:
            found = recorded.get(kind, {}).get(name)
            if found is None:
                found = PLACEHOLDER.format(noun=kind.noun, name=name)
                unknown.append(f"{kind.noun} {name!r}")
            ids[kind][name] = found
    if unknown:
        never = not any(recorded.values())
        pulumi.log.warn(
            f"the last deploy did not look up {', '.join(unknown)}: this preview, which holds "
            "no Auth0 credential, shows each id as looked up at deploy (resources that hold it "
            "may show as replaced); the deploy looks it up in the tenant, and fails there if "
            "the tenant has no such name"
            + (
                f". The stack has no {OUTPUT} output yet: its next deploy exports it"
                if never
                else ""
            )
        )
    return Resolved(connections=ids[CONNECTION], roles=ids[ROLE])
