"""Applications (clients), their credentials, and client grants."""

from __future__ import annotations

import copy
import time
from typing import TYPE_CHECKING, Any

from devtools.localtenant import ids
from devtools.localtenant.errors import Auth0Error, bad_request, conflict, not_found
from devtools.localtenant.fields import now, select
from devtools.localtenant.route_names import RouteName
from devtools.localtenant.routes import Request, Response, filtered, paginate, route
from devtools.localtenant.scopes import known_scopes

if TYPE_CHECKING:
    from devtools.localtenant.tenant import Tenant

APP_TYPES = {
    "native",
    "spa",
    "regular_web",
    "non_interactive",
    "resource_server",
    "express_configuration",
}
AUTH_METHODS = {"none", "client_secret_post", "client_secret_basic"}
GRANT_TYPES = {
    "authorization_code",
    "implicit",
    "refresh_token",
    "client_credentials",
    "password",
    "http://auth0.com/oauth/grant-type/password-realm",
    "http://auth0.com/oauth/grant-type/mfa-oob",
    "http://auth0.com/oauth/grant-type/mfa-otp",
    "http://auth0.com/oauth/grant-type/mfa-recovery-code",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:openid:params:grant-type:ciba",
    "urn:ietf:params:oauth:grant-type:token-exchange",
}
DEFAULT_GRANT_TYPES = ["authorization_code", "implicit", "refresh_token", "client_credentials"]
PUBLIC_APP_TYPES = ("spa", "native")
"""Applications that keep no secret: created without ``grant_types``, they get no
``client_credentials`` (recorded: terraform-provider-auth0's ``TestAccClientOIDCLogout``,
``TestAccClientMobile``)."""
DESCRIPTION_MAX = 140
KEY_FIELDS = ("client_secret", "signing_keys")
INTERNAL_FIELDS = ("previous_secret", "secret_accepted_at")
"""What the tenant keeps of a rotation in progress; never answered."""
"""Returned only to tokens with read:client_keys."""
FIELD_SCOPES = ("read:client_keys",)
"""Scopes that widen what a route answers: client secrets (Auth0's Clients reference)."""


# --- models --------------------------------------------------------------------------------


def create_client(
    tenant: Tenant, body: dict[str, Any], client_id: str | None = None
) -> dict[str, Any]:
    """Validate and store a new client, as ``POST /api/v2/clients`` does."""
    if not isinstance(body.get("name"), str) or not body["name"].strip():
        raise bad_request("'Missing required property: name'.")
    _validate_client(body)
    client = {
        "is_first_party": True,
        "is_token_endpoint_ip_header_trusted": False,
        "oidc_conformant": False,
        "jwt_configuration": {"secret_encoded": False, "lifetime_in_seconds": 36000},
        "sso_disabled": False,
        "cross_origin_authentication": False,
        "grant_types": _default_grant_types(body),
        "custom_login_page_on": True,
        "token_endpoint_auth_method": "client_secret_post",
        "refresh_token": {
            "rotation_type": "non-rotating",
            "expiration_type": "non-expiring",
            "leeway": 0,
            "token_lifetime": 2592000,
            "infinite_token_lifetime": True,
            "infinite_idle_token_lifetime": True,
            "idle_token_lifetime": 1296000,
        },
        **copy.deepcopy(body),
        "client_id": client_id or ids.client_id(),
        "client_secret": ids.client_secret(),
        "signing_keys": [{"cert": "-----BEGIN CERTIFICATE-----\nlocal\n-----END CERTIFICATE-----"}],
    }
    tenant.store["clients"][client["client_id"]] = client
    tenant.store["credentials"][client["client_id"]] = []
    return client


def _default_grant_types(body: dict[str, Any]) -> list[str]:
    """A new client's grant types when it names none (recorded: terraform-provider-auth0's
    cassettes): a public application's lack ``client_credentials``, a third-party
    application's in strict mode are ``authorization_code`` alone
    (``TestAccClient_ThirdPartySecurityMode``)."""
    if body.get("app_type") in PUBLIC_APP_TYPES:
        return [grant for grant in DEFAULT_GRANT_TYPES if grant != "client_credentials"]
    if body.get("is_first_party") is False and body.get("third_party_security_mode") == "strict":
        return ["authorization_code"]
    return list(DEFAULT_GRANT_TYPES)


def get_client(tenant: Tenant, client_id: str) -> dict[str, Any]:
    return tenant.store.one("clients", client_id, "client")


def update_client(tenant: Tenant, client_id: str, body: dict[str, Any]) -> dict[str, Any]:
    client = get_client(tenant, client_id)
    if "client_id" in body:
        raise bad_request("'Additional properties not allowed: client_id'.")
    _validate_client(body)
    changes = copy.deepcopy(body)
    if isinstance(changes.get("client_metadata"), dict):
        # Documented: keys merge into the application's metadata; a null value removes its key.
        merged = {**client.get("client_metadata", {}), **changes["client_metadata"]}
        changes["client_metadata"] = {k: v for k, v in merged.items() if v is not None}
    client.update(changes)
    return client


def delete_client(tenant: Tenant, client_id: str) -> None:
    get_client(tenant, client_id)
    del tenant.store["clients"][client_id]
    tenant.store["credentials"].pop(client_id, None)
    # A deleted client's grants go with it.
    for grant_id, grant in list(tenant.store["client_grants"].items()):
        if grant["client_id"] == client_id:
            del tenant.store["client_grants"][grant_id]


def create_grant(tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    for name in ("client_id", "audience"):
        if not isinstance(body.get(name), str):
            raise bad_request(f"'Missing required property: {name}'.")
    scope = body.get("scope", [])
    if not isinstance(scope, list) or not all(isinstance(item, str) for item in scope):
        raise bad_request("'Expected type array but found type string' on property scope.")
    if body["client_id"] not in tenant.store["clients"]:
        raise not_found("client")
    if body["audience"] != f"https://{tenant.domain}/api/v2/":
        raise Auth0Error(
            404,
            f"No resource server found for audience {body['audience']}",
            "inexistent_resource_server",
        )
    _check_scopes(scope)
    for grant in tenant.store["client_grants"].values():
        if grant["client_id"] == body["client_id"] and grant["audience"] == body["audience"]:
            raise conflict(
                "A client grant for this client and audience already exists",
                "client_grant_conflict",
            )
    grant = {"id": ids.prefixed("cgr"), **copy.deepcopy(body)}
    tenant.store["client_grants"][grant["id"]] = grant
    return grant


def get_grant(tenant: Tenant, grant_id: str) -> dict[str, Any]:
    return tenant.store.one("client_grants", grant_id, "client grant")


def _check_scopes(scope: list[str]) -> None:
    unknown = sorted(set(scope) - set(known_scopes()))
    if unknown:
        raise bad_request(f"'Scopes not defined by the resource server: {', '.join(unknown)}'.")


def _validate_client(body: dict[str, Any]) -> None:
    description = body.get("description")
    if isinstance(description, str) and len(description) > DESCRIPTION_MAX:
        raise bad_request(
            f"'String is too long ({len(description)} chars), maximum {DESCRIPTION_MAX}' "
            "on property description (Free text description of the purpose of the Client)."
        )
    if "app_type" in body and body["app_type"] not in APP_TYPES:
        raise bad_request(f"'No enum match for: \"{body['app_type']}\"' on property app_type.")
    method = body.get("token_endpoint_auth_method")
    if method is not None and method not in AUTH_METHODS:
        raise bad_request(
            f"'No enum match for: \"{method}\"' on property token_endpoint_auth_method."
        )
    for grant_type in body.get("grant_types") or []:
        if grant_type not in GRANT_TYPES:
            raise bad_request(f"'No enum match for: \"{grant_type}\"' on property grant_types.")


def _visible(client: dict[str, Any], request: Request) -> dict[str, Any]:
    client = {k: v for k, v in client.items() if k not in INTERNAL_FIELDS}
    if "read:client_keys" not in request.scopes:
        return select({k: v for k, v in client.items() if k not in KEY_FIELDS}, request)
    # Recorded: signing keys come back whatever ``fields`` asks for.
    return {**select(client, request), "signing_keys": client["signing_keys"]}


# --- routes --------------------------------------------------------------------------------


def _create_client(tenant: Tenant, request: Request) -> Response:
    return 201, _visible(create_client(tenant, request.json_object()), request)


def _list_clients(tenant: Tenant, request: Request) -> Response:
    clients = [_visible(client, request) for client in tenant.store["clients"].values()]
    return 200, paginate(clients, request, "clients")


def _get_client(tenant: Tenant, request: Request) -> Response:
    return 200, _visible(get_client(tenant, request.params["id"]), request)


def _update_client(tenant: Tenant, request: Request) -> Response:
    body = request.json_object()
    if "client_secret" in body and "update:client_keys" not in request.scopes:
        raise Auth0Error(
            403, "Insufficient scope, expected any of: update:client_keys", "insufficient_scope"
        )
    return 200, _visible(update_client(tenant, request.params["id"], body), request)


def _delete_client(tenant: Tenant, request: Request) -> Response:
    delete_client(tenant, request.params["id"])
    return 204, None


def _rotate_secret(tenant: Tenant, request: Request) -> Response:
    """A new secret, answered like the client (``client_secret`` only to read:client_keys).

    Auth0's "Rotate Client Secrets" (https://auth0.com/docs/get-started/applications/rotate-client-secret):
    scope update:client_keys, and "New secrets may be delayed up to thirty seconds while
    rotating": for ``Tenant.secret_rotation_delay_s`` (0 by default) the token endpoint still
    takes the previous secret and not yet the new one (``accepted_secret``). The endpoint's
    reference: https://auth0.com/docs/api/management/v2/clients/post-rotate-secret."""
    client = get_client(tenant, request.params["id"])
    client["previous_secret"] = accepted_secret(client)
    client["client_secret"] = ids.client_secret()
    client["secret_accepted_at"] = time.time() + tenant.secret_rotation_delay_s
    return 200, _visible(client, request)


def accepted_secret(client: dict[str, Any]) -> str:
    """The secret the token endpoint takes for ``client`` now."""
    if time.time() < client.get("secret_accepted_at", 0):
        return str(client.get("previous_secret", ""))
    return str(client.get("client_secret", ""))


def _list_credentials(tenant: Tenant, request: Request) -> Response:
    get_client(tenant, request.params["id"])
    # Auth0 answers a bare array here, even with include_totals.
    return 200, list(tenant.store["credentials"][request.params["id"]])


def _find_credential(tenant: Tenant, request: Request) -> dict[str, Any]:
    get_client(tenant, request.params["id"])
    for credential in tenant.store["credentials"][request.params["id"]]:
        if credential["id"] == request.params["credential_id"]:
            return credential
    raise not_found("credential")


def _get_credential(tenant: Tenant, request: Request) -> Response:
    return 200, _find_credential(tenant, request)


def _create_credential(tenant: Tenant, request: Request) -> Response:
    get_client(tenant, request.params["id"])
    body = request.json_object()
    if body.get("credential_type") not in {"public_key", "cert_subject_dn", "x509_cert"}:
        raise bad_request("'Missing required property: credential_type'.")
    stamp = now()
    credential = {
        "id": ids.prefixed("cred", 22),
        "credential_type": body["credential_type"],
        "name": body.get("name", ""),
        "alg": body.get("alg", "RS256"),
        "created_at": stamp,
        "updated_at": stamp,
    }
    tenant.store["credentials"][request.params["id"]].append(credential)
    return 201, credential


def _update_credential(tenant: Tenant, request: Request) -> Response:
    credential = _find_credential(tenant, request)
    credential.update({"expires_at": request.json_object().get("expires_at"), "updated_at": now()})
    return 200, credential


def _delete_credential(tenant: Tenant, request: Request) -> Response:
    credential = _find_credential(tenant, request)
    tenant.store["credentials"][request.params["id"]].remove(credential)
    return 204, None


def _create_grant(tenant: Tenant, request: Request) -> Response:
    return 201, create_grant(tenant, request.json_object())


def _list_grants(tenant: Tenant, request: Request) -> Response:
    grants = filtered(tenant.store["client_grants"].values(), request, "audience", "client_id")
    return 200, paginate(grants, request, "client_grants")


def _get_grant(tenant: Tenant, request: Request) -> Response:
    return 200, get_grant(tenant, request.params["id"])


def _update_grant(tenant: Tenant, request: Request) -> Response:
    grant = get_grant(tenant, request.params["id"])
    body = request.json_object()
    if "scope" in body:
        _check_scopes(body["scope"])
    for key in ("client_id", "audience"):
        if key in body:
            raise bad_request(f"'Additional properties not allowed: {key}'.")
    grant.update(copy.deepcopy(body))
    return 200, grant


def _delete_grant(tenant: Tenant, request: Request) -> Response:
    get_grant(tenant, request.params["id"])
    del tenant.store["client_grants"][request.params["id"]]
    return 204, None


CLIENT = "/api/v2/clients/{id}"
ROUTES = [
    route(RouteName.CLIENTS_LIST, "GET", "/api/v2/clients", "read:clients", _list_clients),
    route(RouteName.CLIENTS_CREATE, "POST", "/api/v2/clients", "create:clients", _create_client),
    route(RouteName.CLIENTS_GET, "GET", CLIENT, "read:clients", _get_client),
    route(RouteName.CLIENTS_UPDATE, "PATCH", CLIENT, "update:clients", _update_client),
    route(RouteName.CLIENTS_DELETE, "DELETE", CLIENT, "delete:clients", _delete_client),
    route(
        RouteName.CLIENTS_ROTATE_SECRET,
        "POST",
        CLIENT + "/rotate-secret",
        "update:client_keys",
        _rotate_secret,
    ),
    route(
        RouteName.CLIENTS_CREDENTIALS_LIST,
        "GET",
        CLIENT + "/credentials",
        "read:client_credentials",
        _list_credentials,
    ),
    route(
        RouteName.CLIENTS_CREDENTIALS_CREATE,
        "POST",
        CLIENT + "/credentials",
        "create:client_credentials",
        _create_credential,
    ),
    route(
        RouteName.CLIENTS_CREDENTIALS_GET,
        "GET",
        CLIENT + "/credentials/{credential_id}",
        "read:client_credentials",
        _get_credential,
    ),
    route(
        RouteName.CLIENTS_CREDENTIALS_UPDATE,
        "PATCH",
        CLIENT + "/credentials/{credential_id}",
        "update:client_credentials",
        _update_credential,
    ),
    route(
        RouteName.CLIENTS_CREDENTIALS_DELETE,
        "DELETE",
        CLIENT + "/credentials/{credential_id}",
        "delete:client_credentials",
        _delete_credential,
    ),
    route(
        RouteName.CLIENT_GRANTS_LIST,
        "GET",
        "/api/v2/client-grants",
        "read:client_grants",
        _list_grants,
    ),
    route(
        RouteName.CLIENT_GRANTS_CREATE,
        "POST",
        "/api/v2/client-grants",
        "create:client_grants",
        _create_grant,
    ),
    route(
        RouteName.CLIENT_GRANTS_GET,
        "GET",
        "/api/v2/client-grants/{id}",
        "read:client_grants",
        _get_grant,
    ),
    route(
        RouteName.CLIENT_GRANTS_UPDATE,
        "PATCH",
        "/api/v2/client-grants/{id}",
        "update:client_grants",
        _update_grant,
    ),
    route(
        RouteName.CLIENT_GRANTS_DELETE,
        "DELETE",
        "/api/v2/client-grants/{id}",
        "delete:client_grants",
        _delete_grant,
    ),
]
