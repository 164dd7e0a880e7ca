"""Put a setup made by hand under a stack, without recreating it.

    AUTH0_ADOPT_CLIENT_ID=... AUTH0_ADOPT_CLIENT_SECRET=... auth0-org-assignment adopt prod \\
        [--organization-id org_...] [--client-id ...] [--action-id ...]

With read-only credentials (the scopes of its ``CALLS``) it finds, in the tenant of
``Pulumi.STACK.yaml``, what the support article has people click: the organization (by its
configured name, or ``--organization-id``), the connections enabled on it, the M2M application
that may add members (the one granted ``create:organization_members`` on the Management API
and nothing an assigning Action would not use, or ``--client-id``), its grant, the post-login
Action (by the configured name, the article's "Assign User to Organization", the article's
secrets, or ``--action-id``) and its binding. It writes nothing to the tenant.

It prints what it found and every change the first ``pulumi up`` will make to it, property by
property, and writes ``.adopt/STACK.json`` for ``pulumi import --file``, which puts each found
resource in the stack's state under the logical name the program gives it. Edit the stack's
configuration until the changes are the ones you want, then import with the deployer's
credentials; ``pulumi preview`` then shows exactly these changes, and no resource is replaced,
so the organization keeps its id and its members.

Secrets cannot be read back: the Action's secrets are set anew on the first ``up``, from the
stack's outputs, and secrets the stack does not use (the article's ``ORGANIZATION_ID``) are
removed. The M2M application's own secret is kept, not rotated.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auth0_org_assignment import action_credential, desired_state
from auth0_org_assignment.action_code import (
    TRIGGER,
    RenderedAction,
    management_calls,
    render_actions,
)
from auth0_org_assignment.commands import pulumi_import
from auth0_org_assignment.commands.management_client import (
    ApiError,
    ManagementClient,
    UsageError,
    add_stack_arguments,
    connect,
    enabled_connections,
    reported,
)
from auth0_org_assignment.component import LogicalNames
from auth0_org_assignment.config import PROJECT, OrganizationConfig, StackConfig
from auth0_org_assignment.config.sources import project_name

CALLS = (
    "organizations.get_by_name",
    "organizations.get",
    "organizations.enabled_connections.list",
    "client_grants.list",
    "clients.get",
    "actions.list",
    "actions.get",
    "actions.bindings.get",
)
"""The Management API calls it makes, every one a read: its credentials need exactly their
scopes, and never ``read:client_keys``."""

ARTICLE_ACTION_NAME = "Assign User to Organization"
"""The name the support article gives its Action."""
ARTICLE_SECRETS = {"CLIENT_ID", "CLIENT_SECRET", "ORGANIZATION_ID"}
"""Secrets the article's Action reads: how an Action renamed by hand is still recognised."""
MEMBERS_SCOPE = "create:organization_members"
ASSIGNER_SCOPES = {
    MEMBERS_SCOPE,
    "read:organizations",
    "read:organization_connections",
    *(call.scope for call in management_calls()),
}
"""Every scope the article's or this stack's Action uses. An application granted more (an admin
or a deployer application) is not taken for the Action's: pass --client-id to adopt it anyway."""
AUTHENTICATION_METHOD = "client_secret_post"
UNMANAGED_CLIENT_FIELDS = {
    "logo_uri": "logoUri",
    "sso": "sso",
    "sso_disabled": "ssoDisabled",
    "cross_origin_auth": "crossOriginAuth",
    "cross_origin_loc": "crossOriginLoc",
    "custom_login_page": "customLoginPage",
    "initiate_login_uri": "initiateLoginUri",
    "form_template": "formTemplate",
    "require_pushed_authorization_requests": "requirePushedAuthorizationRequests",
    "require_proof_of_possession": "requireProofOfPossession",
    "compliance_level": "complianceLevel",
}
"""Application fields the program does not set and the provider neither computes nor clears:
its schema's optional, non-computed ones, which it leaves out of a PATCH when unset. One set by
hand would stay, and show as a change in every preview after adoption."""


@dataclass(frozen=True)
class Change:
    """One property the first ``pulumi up`` changes on an adopted resource."""

    resource: str
    """Its logical name."""
    property: str
    """The property's name as Pulumi shows it."""
    before: str
    after: str


@dataclass
class Adoption:
    """What adopting a tenant's hand-made setup into a stack means."""

    imports: list[dict[str, Any]] = field(default_factory=list)
    """Entries of the ``pulumi import`` file."""
    changes: list[Change] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    """What the stack will create because nothing was found for it."""
    notes: list[str] = field(default_factory=list)
    """Found, not adopted, left as it is."""
    found: list[str] = field(default_factory=list)

    def adopt(self, kind: str, name: str, import_id: str, what: str, **extra: Any) -> None:
        self.imports.append(pulumi_import.entry(kind, name, import_id, **extra))
        self.found.append(f"{what} -> {name}")

    def compare(self, resource: str, prop: str, before: Any, after: Any) -> None:
        if _normal(before) != _normal(after):
            self.changes.append(Change(resource, prop, _shown(before), _shown(after)))

    def import_file(self) -> dict[str, Any]:
        return pulumi_import.with_component(self.imports)

    def as_json(self) -> dict[str, Any]:
        return {
            "found": self.found,
            "changes": [vars(change) for change in self.changes],
            "created": self.created,
            "notes": self.notes,
        }


def discover(
    api: ManagementClient,
    config: StackConfig,
    project: str,
    stack: str,
    *,
    own_client_id: str,
    organization_id: str | None = None,
    client_id: str | None = None,
    action_id: str | None = None,
) -> Adoption:
    """Find the hand-made setup and compare it with what ``config`` declares. Reads only."""
    names = LogicalNames()
    adoption = Adoption()
    organization_ids: dict[str, str] = {}
    for index, organization in enumerate(config.organizations):
        found = _organization(api, organization, organization_id if index == 0 else None)
        resource = names.organization(organization)
        if found is None:
            adoption.created.append(f"organization {organization.name} ({resource})")
            continue
        organization_ids[organization.name] = found["id"]
        adoption.adopt(
            "organization", resource, found["id"], f"organization {found['name']} ({found['id']})"
        )
        compare_organization(adoption, resource, found, organization)
        _adopt_connections(adoption, api, config, organization, found)

    # The code holds every organization's id: with one still to create, it cannot be rendered
    # exactly yet (and differs from the tenant's anyway).
    complete = len(organization_ids) == len(config.organizations)
    planned = render_actions(config, organization_ids if complete else None)
    audience = f"https://{config.tenant_domain}/api/v2/"
    client = _m2m_client(api, audience, own_client_id, client_id)
    # The second application (slot b) is always new: the first `up` rotates its secret into the
    # Action, then retires the adopted one's, which the article had pasted into the Action.
    second = [
        f"second M2M application ({names.slot_client('b')}) and its grant "
        f"({names.slot_grant('b')})",
        f"the Action's credential ({names.credential}), which writes the Action's secrets",
    ]
    if client is None:
        adoption.created += [f"M2M application ({names.m2m_client})", f"its grant ({names.grant})"]
        adoption.created += second
    else:
        what = f"M2M application {client['name']!r} ({client['client_id']})"
        adoption.adopt("client", names.m2m_client, client["client_id"], what)
        adoption.created += second
        want = desired_state.m2m_client(config, project, stack)
        for field_name in ("name", "description", "app_type", "grant_types"):
            adoption.compare(
                names.m2m_client,
                _pulumi_name(field_name),
                client.get(field_name, "" if field_name == "description" else None),
                getattr(want, field_name),
            )
        stuck = [f for f in UNMANAGED_CLIENT_FIELDS if client.get(f) not in (None, "", False)]
        if stuck:
            raise UsageError(
                f"the M2M application {client['name']!r} has {', '.join(stuck)} set, which the "
                "stack does not set and the provider cannot clear (it leaves unset fields out), "
                "so every preview after adoption would show it: clear it on the application "
                "(dashboard or PATCH /api/v2/clients/{id}), then run this again"
            )
        # The provider removes each metadata key the program does not set (a null per key).
        adoption.compare(
            names.m2m_client, "clientMetadata", client.get("client_metadata") or {}, {}
        )
        method = client.get("token_endpoint_auth_method")
        if method != desired_state.AUTHENTICATION_METHOD:
            raise UsageError(
                f"the M2M application {client['name']!r} authenticates with {method}, but the "
                f"Action sends its secret as {desired_state.AUTHENTICATION_METHOD}: set its "
                "authentication method to Post (dashboard: Credentials tab, or PATCH "
                "/api/v2/clients/{id} token_endpoint_auth_method), then run this again"
            )
        grant = _first(
            api, "client_grants.list", {"audience": audience, "client_id": client["client_id"]}
        )
        if grant is None:
            adoption.created.append(f"its grant on the Management API ({names.grant})")
        else:
            adoption.adopt("grant", names.grant, grant["id"], f"its grant {grant['id']}")
            adoption.compare(
                names.grant,
                "scopes",
                sorted(grant.get("scope", [])),
                desired_state.grant(config, client["client_id"]).scopes,
            )

    action = _action(api, config, action_id)
    if action is None:
        adoption.created.append(
            f"post-login Action ({names.action(0, len(planned))}) and its binding"
        )
    else:
        _adopt_action(adoption, api, config, action, planned[0])
    adoption.created += [
        f"post-login Action ({names.action(s, len(planned))})" for s in range(1, len(planned))
    ]
    adoption.notes.append(
        "Secrets are never read back: the first `pulumi up` writes the Action's "
        f"{', '.join(planned[0].secrets)} anew with the second application's rotated secret, "
        "then, once the Action's time budget has passed, rotates the adopted application's "
        "secret and drops it, so the one pasted into the Action stops working."
    )
    return adoption


def _given(api: ManagementClient, call: str, option: str, value: str, what: str) -> dict[str, Any]:
    """What an option names by id; an unknown id is the caller's mistake, named."""
    try:
        found: dict[str, Any] = api.call(call, id=value)
    except ApiError as error:
        if error.status == 404:
            raise UsageError(f"{option} {value}: no such {what} in the tenant") from None
        raise
    return found


def _organization(
    api: ManagementClient, organization: OrganizationConfig, organization_id: str | None
) -> dict[str, Any] | None:
    if organization_id:
        return _given(
            api, "organizations.get", "--organization-id", organization_id, "organization"
        )
    return api.find("organizations.get_by_name", name=organization.name)


def compare_organization(
    adoption: Adoption, resource: str, found: dict[str, Any], organization: OrganizationConfig
) -> None:
    want = desired_state.organization(organization)
    adoption.compare(resource, "name", found["name"], want.name)
    adoption.compare(resource, "displayName", found.get("display_name"), want.display_name)
    adoption.compare(resource, "metadata", found.get("metadata") or {}, want.metadata)
    have = {k: v for k, v in (found.get("branding") or {}).items() if v}
    # Declared with plain values (no Output), so read back as they are.
    branding: Any = want.branding
    if branding is None:
        if have:
            # The provider sends no branding when none is declared and cannot clear it, so the
            # program refuses to run over undeclared branding (component.py).
            shown = ", ".join(f"{key} {_shown(value)}" for key, value in sorted(have.items()))
            raise UsageError(
                f"the organization {found['name']!r} has branding ({shown}) that "
                f"{PROJECT}:organization.branding does not declare, and the provider cannot "
                "remove it: declare it there to keep it, or clear it in the dashboard "
                "(Organizations > Branding), then run this again"
            )
        return
    wanted = {"logo_url": branding.logo_url, "colors": branding.colors}
    adoption.compare(resource, "branding", have, {k: v for k, v in wanted.items() if v})


def _adopt_connections(
    adoption: Adoption,
    api: ManagementClient,
    config: StackConfig,
    organization: OrganizationConfig,
    found: dict[str, Any],
) -> None:
    enabled = enabled_connections(api, found["id"])
    configured = organization.connections or []
    for connection in configured:
        resource = LogicalNames().connection(organization, connection)
        record = enabled.get(connection)
        if record is None:
            adoption.created.append(f"{connection} enabled on {organization.name} ({resource})")
            continue
        adoption.adopt(
            "connection",
            resource,
            f"{found['id']}::{record['connection_id']}",
            f"{connection} enabled on {found['name']}",
        )
        adoption.compare(
            resource,
            "assignMembershipOnLogin",
            record.get("assign_membership_on_login", False),
            desired_state.connection(
                config, found["id"], record["connection_id"]
            ).assign_membership_on_login,
        )
    signing_up = sign_up_without_auto_membership(enabled, configured, config)
    if signing_up:
        raise UsageError(
            f"{', '.join(signing_up)}: enabled on {found['name']} with organization sign-up "
            "(is_signup_enabled), which Auth0 allows only with auto-membership "
            "(assign_membership_on_login), and the stack turns auto-membership off "
            "(assignMembershipOnLogin: false): its first `pulumi up` would be refused. Turn "
            "sign-up off on it in the tenant, or set assignMembershipOnLogin, then run adopt again"
        )
    admitting = auto_membership_outside(enabled, configured)
    if admitting:
        raise UsageError(
            f"{', '.join(admitting)}: enabled on {found['name']} with auto-membership "
            "(assign_membership_on_login) but not in its configured connections: each admits "
            "whoever logs in to the organization through it, whatever the rule says, and the "
            "stack would not manage it. Turn auto-membership off on it in the tenant, or add it "
            "to the organization's connections, then run adopt again"
        )
    for connection in sorted(set(enabled) - set(configured)):
        adoption.notes.append(
            f"{connection} is enabled on {found['name']} but not configured: the stack leaves it "
            "enabled and does not manage it (add it to the connections to manage it)"
        )


def sign_up_without_auto_membership(
    enabled: Mapping[str, Mapping[str, Any]], configured: Collection[str], config: StackConfig
) -> list[str]:
    """The configured connections enabled with organization sign-up on, when the stack turns
    auto-membership off: Auth0 refuses sign-up without it ("Only database connections with
    assign_membership_on_login = true support is_signup_enabled = true."), so the stack's
    update of the connection would be refused."""
    if config.assign_membership_on_login:
        return []
    return sorted(
        name
        for name, record in enabled.items()
        if name in configured and record.get("is_signup_enabled")
    )


def auto_membership_outside(
    enabled: Mapping[str, Mapping[str, Any]], configured: Collection[str]
) -> list[str]:
    """The connections enabled on an organization (its enabled-connections records, by name)
    outside ``configured`` that have Auth0's auto-membership on: each admits whoever logs in to
    the organization through it, whatever the rule says, and the stack does not manage it."""
    return sorted(
        name
        for name, record in enabled.items()
        if name not in configured and record.get("assign_membership_on_login")
    )


def _m2m_client(
    api: ManagementClient, audience: str, own_client_id: str, client_id: str | None
) -> dict[str, Any] | None:
    """The application given, or the one application granted no more than an assigning Action
    needs, ``create:organization_members`` included."""
    if client_id:
        return _given(api, "clients.get", "--client-id", client_id, "application")
    grants = _all(api, "client_grants.list", query={"audience": audience})
    candidates = []
    for grant in grants:
        scopes = set(grant.get("scope", []))
        assigner = MEMBERS_SCOPE in scopes and scopes <= ASSIGNER_SCOPES
        if assigner and grant.get("client_id") != own_client_id:
            client = api.call("clients.get", id=grant["client_id"])
            if client.get("app_type") == "non_interactive":
                candidates.append(client)
    return _the_one(
        candidates, "client_id", "applications may add organization members", "--client-id"
    )


def _action(
    api: ManagementClient, config: StackConfig, action_id: str | None
) -> dict[str, Any] | None:
    """The Action given, or the post-login Action the stack or the article would have made."""
    if action_id:
        return _given(api, "actions.get", "--action-id", action_id, "Action")
    actions = _all(api, "actions.list", "actions", {"triggerId": TRIGGER})
    for wanted in (config.action_name, ARTICLE_ACTION_NAME):
        named = [a for a in actions if a["name"] == wanted]
        if named:
            return named[0]
    candidates = [
        a for a in actions if {s["name"] for s in a.get("secrets", [])} >= ARTICLE_SECRETS
    ]
    return _the_one(
        candidates, "id", "post-login Actions read the article's secrets", "--action-id"
    )


def _the_one(
    candidates: list[dict[str, Any]], key: str, problem: str, option: str
) -> dict[str, Any] | None:
    """The one candidate, none, or an error naming them all and the option that chooses."""
    if len(candidates) > 1:
        listed = ", ".join(f"{c['name']!r} ({c[key]})" for c in candidates)
        raise UsageError(f"several {problem}: {listed}; pass {option} with the one to adopt")
    return candidates[0] if candidates else None


def _adopt_action(
    adoption: Adoption,
    api: ManagementClient,
    config: StackConfig,
    action: dict[str, Any],
    rendered: RenderedAction,
) -> None:
    names = LogicalNames()
    shards = rendered.shards
    resource = names.action(0, shards)
    if TRIGGER not in {t["id"] for t in action["supported_triggers"]}:
        raise UsageError(f"Action {action['name']!r} does not run on the {TRIGGER} trigger")
    # The provider never reads secrets back, so its import would record none, and it refuses to
    # update an Action with secrets it does not manage. The state is therefore given here: the
    # Action as read, its secrets by name, so the first `up` sets ours and removes the others.
    inputs = {
        "name": action["name"],
        "code": action.get("code", ""),
        "runtime": action.get("runtime"),
        "dependencies": [
            {"name": d["name"], "version": d["version"]} for d in action.get("dependencies", [])
        ],
        "supportedTriggers": {"id": TRIGGER, "version": _trigger_version(action)},
        "secrets": [{"name": s["name"], "value": ""} for s in action.get("secrets", [])],
        "deploy": True,
    }
    outputs = inputs | {"id": action["id"]}
    if action.get("deployed_version"):
        outputs["versionId"] = action["deployed_version"]["id"]
    adoption.adopt(
        "action",
        resource,
        action["id"],
        f"post-login Action {action['name']!r} ({action['id']})",
        inputs=inputs,
        outputs=outputs,
    )
    # Declared with plain values here (no Output), so read back as they are.
    want: Any = desired_state.action(config, 0, rendered, rendered.code)
    adoption.compare(resource, "name", action["name"], want.name)
    if action.get("code") != rendered.code:
        adoption.changes.append(
            Change(
                resource, "code", "the code written by hand", "the code rendered from the templates"
            )
        )
    adoption.compare(resource, "runtime", action.get("runtime"), want.runtime)
    adoption.compare(
        resource,
        "dependencies",
        [f"{d['name']}@{d['version']}" for d in inputs["dependencies"]],
        [f"{d.name}@{d.version}" for d in want.dependencies or []],
    )
    adoption.compare(
        resource, "supportedTriggers", _trigger_version(action), want.supported_triggers.version
    )
    had = [s["name"] for s in inputs["secrets"]]
    removed = sorted(set(had) - set(rendered.secrets))
    # Written by the credential, which the first `up` creates: the Action ignores its secrets.
    adoption.changes.append(
        Change(
            names.credential,
            "secrets",
            ", ".join(had) or "none",
            f"{', '.join(rendered.secrets)} set anew, with {action_credential.MARKER}<client id>"
            + (f"; {', '.join(removed)} removed" if removed else ""),
        )
    )
    binding = next(
        (
            b
            for b in _all(api, "actions.bindings.get", "bindings", trigger=TRIGGER)
            if b["action"]["id"] == action["id"]
        ),
        None,
    )
    if binding is None:
        adoption.created.append(f"its binding to the Login flow ({names.binding(0, shards)})")
        return
    adoption.adopt(
        "binding",
        names.binding(0, shards),
        f"{TRIGGER}::{action['id']}",
        "its binding to the Login flow",
    )
    adoption.compare(
        names.binding(0, shards),
        "displayName",
        binding["display_name"],
        desired_state.binding(config, 0, action["id"], shards).display_name,
    )


def _pulumi_name(field_name: str) -> str:
    """``app_type`` -> ``appType``: the property's name as Pulumi's diff shows it."""
    head, *rest = field_name.split("_")
    return head + "".join(part.title() for part in rest)


def _trigger_version(action: dict[str, Any]) -> str:
    return str(next(t["version"] for t in action["supported_triggers"] if t["id"] == TRIGGER))


def _all(
    api: ManagementClient,
    call: str,
    key: str | None = None,
    query: dict[str, str] | None = None,
    **params: str,
) -> list[dict[str, Any]]:
    return list(api.pages(call, key, query, **params))


def _first(api: ManagementClient, call: str, query: dict[str, str]) -> dict[str, Any] | None:
    return next(api.pages(call, None, query), None)


def _normal(value: Any) -> Any:
    return json.dumps(value, sort_keys=True)


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def report(adoption: Adoption, stack: str, import_file: str) -> str:
    lines = ["Found, and will be imported:"]
    lines += [f"  {line}" for line in adoption.found] or ["  nothing"]
    lines.append("The first `pulumi up` after the import changes:")
    lines += [
        f"  {c.resource}: {c.property}: {c.before} -> {c.after}" for c in adoption.changes
    ] or ["  nothing"]
    if adoption.created:
        lines.append("Not found, so the stack will create:")
        lines += [f"  {line}" for line in adoption.created]
    lines += [f"Note: {note}" for note in adoption.notes]
    lines += [
        f"Wrote {import_file}. Change the stack's configuration until the changes above are the",
        "ones you want (run this again to check), then, with the deployer's credentials:",
        f"  {pulumi_import.command(stack, import_file)}",
        f"  pulumi preview --stack {stack} --diff    # exactly the changes above",
        f"  pulumi up --stack {stack}",
    ]
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_stack_arguments(parser, "the stack to adopt the setup into, e.g. prod")
    parser.add_argument(
        "--organization-id", help="the (first) organization's id, when its name differs"
    )
    parser.add_argument("--client-id", help="the M2M application the Action uses")
    parser.add_argument("--action-id", help="the post-login Action to adopt")
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")


def run(arguments: argparse.Namespace) -> int:
    return reported(lambda: _adopt(arguments))


def _adopt(arguments: argparse.Namespace) -> int:
    config, api = connect(arguments, "ADOPT", "read-only credentials", CALLS)
    root = arguments.project_dir
    project = project_name(root)
    adoption = discover(
        api,
        config,
        project,
        arguments.stack,
        own_client_id=os.environ["AUTH0_ADOPT_CLIENT_ID"],
        organization_id=arguments.organization_id,
        client_id=arguments.client_id,
        action_id=arguments.action_id,
    )
    import_file = root / ".adopt" / f"{arguments.stack}.json"
    import_file.parent.mkdir(exist_ok=True)
    import_file.write_text(json.dumps(adoption.import_file(), indent=2) + "\n", encoding="utf-8")
    shown_path = os.path.relpath(import_file, Path.cwd())
    if arguments.json:
        print(json.dumps(adoption.as_json() | {"import_file": shown_path}, indent=2))
    else:
        print(report(adoption, arguments.stack, shown_path))
    return 0
