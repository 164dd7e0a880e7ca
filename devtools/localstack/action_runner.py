"""The rendered Action run in Node against a local tenant set up as ``pulumi up`` sets it up, with
no engine: the tests of the Action, who gets in and reconcile, and the Action's benchmark.

``ActionTenant`` is a local tenant in this process (``devtools.localtenant.testing.LocalTenant``, as
``local``) holding what the stack would create: the Action's M2M client with a grant of exactly
the rendered scopes, the organizations, their connections and roles. ``ActionProcess`` is one
Actions container running the rendered code with that client's secrets; each login is one
execution against the tenant, as the Login flow would run it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auth0_org_assignment.action_code import RenderedAction, render_action, render_actions
from auth0_org_assignment.config import StackConfig
from auth0_org_assignment.desired_state import action_name
from devtools.localtenant import connections
from devtools.localtenant.route_names import RouteName
from devtools.localtenant.testing import DATABASE, Fault, LocalTenant

TOKEN = RouteName.OAUTH_TOKEN
MEMBERS = RouteName.ORGANIZATIONS_MEMBERS_CREATE
ENABLED_CONNECTION = RouteName.ORGANIZATIONS_ENABLED_CONNECTIONS_GET
DEFAULT_CONNECTION = DATABASE
STRATEGIES = {"google-oauth2": "google-oauth2", "github": "github", "acme-okta": "okta"}
"""Strategies of the connections tests log in through; any other is a database connection."""

__all__ = [
    "DEFAULT_CONNECTION",
    "ENABLED_CONNECTION",
    "MEMBERS",
    "STRATEGIES",
    "TOKEN",
    "ActionProcess",
    "ActionTenant",
    "Fault",
    "Login",
    "deploy_rules",
]


@dataclass(frozen=True)
class Login:
    """What one execution of the Action did."""

    logs: list[str]
    denied: str | None
    app_metadata_set: dict[str, Any] | None
    ms: float
    thrown: str | None
    modules_loaded: int
    failed: dict[str, Any] | None = None
    """Why the execution failed the login (it threw, or ran out of time), or None."""
    claims: dict[str, dict[str, Any]] | None = None
    """The custom claims the execution set: ``{"id_token": {...}, "access_token": {...}}``."""

    @property
    def report(self) -> dict[str, Any]:
        """The Action's one structured log line for this login."""
        (line,) = self.logs
        report: dict[str, Any] = json.loads(line)
        return report

    @property
    def outcome(self) -> str:
        return str(self.report["outcome"])


class ActionTenant:
    """A local tenant with the Action's client, grant, organizations and connections, and the
    Action rendered with the ids the tenant gave them (``rendered``)."""

    def __init__(
        self,
        config: StackConfig,
        workdir: Path,
        granted_scopes: set[str] | None = None,
        token_lifetime_s: int | None = None,
    ) -> None:
        self.local = LocalTenant.start(workdir / "tenant.json")
        if token_lifetime_s is not None:
            self.local.set_token_lifetime_s(token_lifetime_s)
        # A new tenant has Username-Password-Authentication and google-oauth2 already.
        self.connection_ids = {
            name: self.local.ensure_connection(name, STRATEGIES.get(name, "auth0"))["id"]
            for name in sorted({DEFAULT_CONNECTION, "github", *_valid(config.all_connections)})
        }
        self.organization_ids: dict[str, str] = {}
        for spec in config.organizations:
            organization = self.local.create_organization(
                spec.name,
                spec.display_name,
                [self.connection_ids[name] for name in _valid(tuple(spec.connections or ()))],
            )
            self.organization_ids[spec.name] = organization["id"]
        self.role_ids = {
            role: self.local.create_role(role)["id"]
            for role in dict.fromkeys(r for spec in config.organizations for r in spec.roles)
        }
        self.organization_id = self.organization_ids[config.organizations[0].name]
        self.rendered: RenderedAction = render_action(
            config, organization_ids=self.organization_ids, role_ids=self.role_ids
        )
        scopes = self.rendered.scopes if granted_scopes is None else sorted(granted_scopes)
        self.client = self.local.m2m_client("org assignment", scopes)

    @property
    def secrets(self) -> dict[str, str]:
        return action_secrets(self.local, self.client)

    @property
    def calls(self) -> Counter[str]:
        return self.local.calls()

    @property
    def tokens_issued(self) -> int:
        return self.calls[TOKEN]

    @property
    def management_calls(self) -> int:
        return sum(count for name, count in self.calls.items() if name != TOKEN)

    @property
    def rate_limited(self) -> int:
        """Requests the tenant's rate limits refused (429), token requests included."""
        return sum(self.local.rate_limited().values())

    @property
    def members(self) -> set[str]:
        return set(self.local.members(self.organization_id))

    def members_of(self, organization: str) -> set[str]:
        """The members of the stack's organization named ``organization``."""
        return set(self.local.members(self.organization_ids[organization]))

    @property
    def denied_scopes(self) -> Counter[str]:
        return self.local.denied_scopes()

    def disable_connections(self) -> None:
        self.local.disable_connections(self.organization_id)

    def connection_event(self, name: str) -> dict[str, Any]:
        return {
            "id": self.connection_ids.get(name, f"con_{name}"),
            "name": name,
            "strategy": STRATEGIES.get(name, "auth0"),
        }

    def close(self) -> None:
        self.local.stop()


class ActionProcess:
    """One Actions container running the rendered code (or ``code``, with ``secrets`` and the
    npm packages under ``node_modules``) with the tenant's client secrets."""

    def __init__(
        self,
        tenant: ActionTenant,
        workdir: Path,
        code: str | None = None,
        secrets: dict[str, str] | None = None,
        node_modules: Path | None = None,
    ) -> None:
        self.tenant = tenant
        self.container = tenant.local.action_container(
            code or tenant.rendered.code,
            secrets or tenant.secrets,
            workdir / "containers",
            node_modules,
        )
        self.loaded = self.container.loaded

    def login(
        self,
        user_id: str,
        connection: str = DEFAULT_CONNECTION,
        organization_id: str | None = None,
        client_id: str = "app-client-id",
        **user: Any,
    ) -> Login:
        """One login of ``user_id`` through ``connection``; ``user`` sets fields of the user
        (app_metadata, email, email_verified) before it."""
        event = self._event(user_id, connection, organization_id, client_id, user)
        return _checked(Login(**self.tenant.local.execute(self.container, event)))

    def login_concurrently(self, user_ids: list[str]) -> list[Login]:
        """First logins of several users at once, in this one container."""
        events = [
            self._event(user_id, DEFAULT_CONNECTION, None, "app-client-id", {})
            for user_id in user_ids
        ]
        answers = self.container.ask_many([{"op": "login", "event": e} for e in events])
        return [_checked(Login(**answer)) for answer in answers]

    def advance_clock(self, ms: int) -> None:
        """Move the Action's clock (Date.now) forward, as time passing between logins."""
        self.container.ask_many([{"op": "advance_clock", "ms": ms}])

    def state(self) -> dict[str, Any]:
        """The cache keys, cache errors and unhandled rejections seen so far."""
        return self.container.ask_many([{"op": "state"}])[0]

    def close(self) -> None:
        self.container.close()

    def _event(
        self,
        user_id: str,
        connection: str,
        organization_id: str | None,
        client_id: str,
        fields: dict[str, Any],
    ) -> dict[str, Any]:
        event: dict[str, Any] = {
            "user": self.tenant.local.ensure_user(user_id, **fields),
            "connection": self.tenant.connection_event(connection),
            "client": {"client_id": client_id, "name": "App"},
        }
        if organization_id:
            event["organization"] = {"id": organization_id}
        return event


def _checked(login: Login) -> Login:
    """Auth0 fails the whole login when an Action throws: ours never may."""
    assert login.thrown is None, f"the Action threw {login.thrown}: {login.logs}"
    return login


def _valid(names: tuple[str, ...]) -> list[str]:
    """Connection names the tenant accepts; tests also log in through names it would not."""
    return [name for name in names if connections.NAME.match(name)]


def action_secrets(tenant: LocalTenant, client: Mapping[str, str]) -> dict[str, str]:
    """The secrets the stack's credential writes into its Actions, for the M2M ``client``."""
    return {
        "TENANT_DOMAIN": tenant.domain,
        "CLIENT_ID": client["client_id"],
        "CLIENT_SECRET": client["client_secret"],
    }


def deploy_rules(
    tenant: LocalTenant,
    config: StackConfig,
    organization_ids: dict[str, str],
    proven: Mapping[str, Collection[str]] | None = None,
    secrets: Mapping[str, str] | None = None,
) -> list[str]:
    """Deploy and bind the Actions ``pulumi up`` would render for ``config`` (the email domains
    ``proven`` for each organization in them, every configured one when None; each role by its
    name), named as it names them, as it leaves them for the backfill to read back
    (``commands.deployed_rules``): an Action of that name already there is updated and deployed
    again; a new one holds ``secrets`` (:func:`action_secrets`), so logins can run it. Their ids,
    bound in order."""
    roles = {r: r for organization in config.organizations for r in organization.roles}
    listed = tenant.call("GET", "/api/v2/actions/actions")["actions"]
    existing = {action["name"]: action["id"] for action in listed}
    ids = []
    for action in render_actions(config, organization_ids, roles, proven):
        name = action_name(config, action.shard, action.shards)
        if name in existing:
            path = f"/api/v2/actions/actions/{existing[name]}"
            tenant.call("PATCH", path, {"code": action.code})
            tenant.deploy(existing[name])
            ids.append(existing[name])
        else:
            given = [{"name": k, "value": v} for k, v in (secrets or {}).items()]
            ids.append(
                tenant.deploy_action(name, action.code, runtime=action.runtime, secrets=given)
            )
    tenant.bind_actions(*ids)
    return ids
