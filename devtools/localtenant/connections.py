"""Connections (identity sources), and the clients enabled on them.

A connection's ``options`` (a social or enterprise connection's client secret among them) follow
Auth0's connection options scopes
(https://auth0.com/docs/troubleshoot/product-lifecycle/deprecations-and-migrations/migrate-connection-options-scope):
Get All Connections and Get Connection by Id answer ``options`` only to a token holding
``read:connections_options``; an update whose body holds ``options`` fails without
``update:connections_options``, and its answer holds ``options`` only for
``read:connections_options``. A tenant whose "Allow Connections Management without Options
Scopes" migration toggle (Dashboard > Tenant Settings > Advanced > Migrations) is still on
answers as before the migration: ``read:connections`` reads options and ``update:connections``
writes them. New tenants have it off; tests turn it on with
``LocalTenant.allow_connections_management_without_options_scopes``.
"""

from __future__ import annotations

import copy
import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from devtools.localtenant import ids
from devtools.localtenant.errors import bad_request, conflict, insufficient_scope, not_found
from devtools.localtenant.fields import now, select
from devtools.localtenant.route_names import RouteName
from devtools.localtenant.routes import Request, Response, filtered, paginate, route

if TYPE_CHECKING:
    from devtools.localtenant.tenant import Tenant

NAME = re.compile(r"^[a-zA-Z0-9](-[a-zA-Z0-9]|[a-zA-Z0-9])*$")
NAME_MAX = 128
SECRET_OPTIONS = ("client_secret",)
"""Options Auth0 hides from a caller that asks it to."""
READ_OPTIONS = "read:connections_options"
UPDATE_OPTIONS = "update:connections_options"
FIELD_SCOPES = (READ_OPTIONS, UPDATE_OPTIONS)
"""Scopes that widen what a route answers or takes: a connection's ``options``."""
LEGACY_OPTIONS_ACCESS = "allow_connections_management_without_options_scopes"
"""The tenant's state key for Auth0's "Allow Connections Management without Options Scopes"
migration toggle: true answers and takes ``options`` with the connection scopes alone."""
ALWAYS_SHOWN = ("id", "is_domain_connection", "authentication", "connected_accounts")
"""Fields Auth0 returns whatever ``fields`` asks for (recorded)."""
ENTERPRISE_STRATEGIES = {
    "okta",
    "samlp",
    "oidc",
    "waad",
    "adfs",
    "ad",
    "google-apps",
    "pingfederate",
}
DATABASE_OPTIONS = {
    "mfa": {"active": True, "return_enroll_settings": True},
    "passwordPolicy": "good",
    "strategy_version": 2,
    "brute_force_protection": True,
}
"""What Auth0 fills in for a new database connection (strategy ``auth0``)."""
GOOGLE_OPTIONS = {"email": True, "scope": ["email", "profile"], "profile": True}
"""The options of the google-oauth2 connection a new tenant has, as a real one answered them
(terraform-provider-auth0's TestAccDataSourceConnection.yaml)."""


def create_connection(tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    name = body.get("name")
    if not isinstance(name, str):
        raise bad_request("'Missing required property: name'.")
    if not NAME.match(name) or len(name) > NAME_MAX:
        raise bad_request(f"'String does not match pattern' on property name (got {name!r}).")
    if not isinstance(body.get("strategy"), str):
        raise bad_request("'Missing required property: strategy'.")
    if any(connection["name"] == name for connection in tenant.store["connections"].values()):
        raise conflict("A connection with the same name already exists", "connection_conflict")
    options = DATABASE_OPTIONS if body["strategy"] == "auth0" else {}
    connection = {
        "is_domain_connection": False,
        "authentication": {"active": True},
        "connected_accounts": {"active": False},
        "realms": [name],
        **({"show_as_button": True} if body["strategy"] in ENTERPRISE_STRATEGIES else {}),
        **copy.deepcopy(body),
        "options": {**copy.deepcopy(options), **copy.deepcopy(body.get("options", {}))},
        "id": ids.prefixed("con"),
        "enabled_clients": list(body.get("enabled_clients", [])),
    }
    tenant.store["connections"][connection["id"]] = connection
    return connection


def get_connection(tenant: Tenant, connection_id: str) -> dict[str, Any]:
    return tenant.store.one("connections", connection_id, "connection")


def connection_by_name(tenant: Tenant, name: str) -> dict[str, Any]:
    for connection in tenant.store["connections"].values():
        if connection["name"] == name:
            return connection
    raise not_found("connection")


def delete_connection(tenant: Tenant, connection_id: str) -> None:
    get_connection(tenant, connection_id)
    del tenant.store["connections"][connection_id]
    for enabled in tenant.store["organization_connections"].values():
        enabled.pop(connection_id, None)


def options_without_scopes(tenant: Tenant) -> bool:
    """Whether the tenant still has "Allow Connections Management without Options Scopes" on."""
    return bool(tenant.store.data.get(LEGACY_OPTIONS_ACCESS, False))


def _may(tenant: Tenant, request: Request, scope: str) -> bool:
    return scope in request.scopes or options_without_scopes(tenant)


def _shown(tenant: Tenant, connection: dict[str, Any], request: Request) -> dict[str, Any]:
    shown = copy.deepcopy(connection)
    if not _may(tenant, request, READ_OPTIONS):
        shown.pop("options", None)
    # Newer Management API versions leave the client list out of the connection itself.
    if request.flag("skip_enabled_clients"):
        shown.pop("enabled_clients", None)
    if request.flag("hide_client_secret") or request.flag("hide_secrets"):
        for key in SECRET_OPTIONS:
            shown.get("options", {}).pop(key, None)
    return {**select(shown, request), **{k: shown[k] for k in ALWAYS_SHOWN if k in shown}}


def _create(tenant: Tenant, request: Request) -> Response:
    return 201, create_connection(tenant, request.json_object())


def _list(tenant: Tenant, request: Request) -> Response:
    found = filtered(tenant.store["connections"].values(), request, "name", "strategy")
    connections = [_shown(tenant, connection, request) for connection in found]
    return 200, paginate(connections, request, "connections")


def _get(tenant: Tenant, request: Request) -> Response:
    return 200, _shown(tenant, get_connection(tenant, request.params["id"]), request)


def _update(tenant: Tenant, request: Request) -> Response:
    connection = get_connection(tenant, request.params["id"])
    body = request.json_object()
    for key in ("name", "strategy", "id"):
        if key in body:
            raise bad_request(f"'Additional properties not allowed: {key}'.")
    if "options" in body and not _may(tenant, request, UPDATE_OPTIONS):
        tenant.denied_scopes[UPDATE_OPTIONS] += 1
        raise insufficient_scope((UPDATE_OPTIONS,))
    connection.update(copy.deepcopy(body))
    return 200, _shown(tenant, connection, request)


def _delete(tenant: Tenant, request: Request) -> Response:
    delete_connection(tenant, request.params["id"])
    # Deletion completes in the background at Auth0: 202 Accepted.
    return 202, {"deleted_at": now()}


CLIENTS_TAKE_MAX = 1000


def _list_clients(tenant: Tenant, request: Request) -> Response:
    """Checkpoint pagination only: ``take`` "Defaults to 50" (1 to 1000), ``take`` sent or not
    (Get enabled clients for a connection,
    https://auth0.com/docs/api/management/v2/connections/get-connection-clients); a ``next``
    after a full page, as ``paginate`` gives it."""
    connection = get_connection(tenant, request.params["id"])
    clients = [{"client_id": client_id} for client_id in connection["enabled_clients"]]
    by_checkpoint = replace(request, query={"take": "50", **request.query})
    return 200, paginate(clients, by_checkpoint, "clients", CLIENTS_TAKE_MAX)


CLIENTS_PER_PATCH_MAX = 50


def _update_clients(tenant: Tenant, request: Request) -> Response:
    """At least one change, and "the limit per PATCH request is 50 clients" (Update enabled
    clients for a connection,
    https://auth0.com/docs/api/management/v2/connections/patch-clients)."""
    connection = get_connection(tenant, request.params["id"])
    if not isinstance(request.body, list):
        raise bad_request("'Expected type array'.")
    if not request.body:
        raise bad_request("'Array is too short (0), minimum 1'.")
    if len(request.body) > CLIENTS_PER_PATCH_MAX:
        raise bad_request(
            f"'Array is too long ({len(request.body)}), maximum {CLIENTS_PER_PATCH_MAX}'."
        )
    for change in request.body:
        if change.get("client_id") not in tenant.store["clients"]:
            raise not_found("client")
    for change in request.body:
        client_id, enabled = change.get("client_id"), change.get("status")
        if enabled and client_id not in connection["enabled_clients"]:
            connection["enabled_clients"].append(client_id)
        if not enabled and client_id in connection["enabled_clients"]:
            connection["enabled_clients"].remove(client_id)
    return 204, None


ONE = "/api/v2/connections/{id}"
ROUTES = [
    route(RouteName.CONNECTIONS_LIST, "GET", "/api/v2/connections", "read:connections", _list),
    route(
        RouteName.CONNECTIONS_CREATE, "POST", "/api/v2/connections", "create:connections", _create
    ),
    route(RouteName.CONNECTIONS_GET, "GET", ONE, "read:connections", _get),
    route(RouteName.CONNECTIONS_UPDATE, "PATCH", ONE, "update:connections", _update),
    route(RouteName.CONNECTIONS_DELETE, "DELETE", ONE, "delete:connections", _delete),
    route(
        RouteName.CONNECTIONS_CLIENTS_GET,
        "GET",
        ONE + "/clients",
        "read:connections",
        _list_clients,
    ),
    route(
        RouteName.CONNECTIONS_CLIENTS_UPDATE,
        "PATCH",
        ONE + "/clients",
        "update:connections",
        _update_clients,
    ),
]
