"""APIs (resource servers): the Management API's own, the one every tenant has, read-only.

Every Auth0 tenant lists the Management API as a system resource server named "Auth0 Management
API" whose identifier is ``https://<tenant domain>/api/v2/`` and whose scopes are the API's
permissions; clients' grants name it as their audience. The shape is real tenants' (recorded in
terraform-provider-auth0's TestAccResourceServerAuth0APIManagementImport.yaml and go-auth0's
TestResourceServer_ExpressConfiguration.yaml); its scopes are the ones this local tenant knows
(``scopes.known_scopes``). Creating, changing or deleting APIs is not emulated (501).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from devtools.localtenant import authentication
from devtools.localtenant.errors import not_found
from devtools.localtenant.fields import select
from devtools.localtenant.route_names import RouteName
from devtools.localtenant.routes import Request, Response, paginate, route
from devtools.localtenant.scopes import known_scopes

if TYPE_CHECKING:
    from devtools.localtenant.tenant import Tenant

MANAGEMENT_API_NAME = "Auth0 Management API"
"""The name Auth0 gives it; the Deploy CLI recognises the system API by it
(constants.RESOURCE_SERVERS_MANAGEMENT_API_NAME) and leaves it out of an export."""


def _description(scope: str) -> str:
    """``read:client_grants`` -> ``Read Client Grants``, as the recorded list words them."""
    verb, _, resource = scope.partition(":")
    return f"{verb.capitalize()} {resource.replace('_', ' ').title()}"


def management_api(tenant: Tenant) -> dict[str, Any]:
    """The Management API as ``GET /api/v2/resource-servers`` lists it."""
    return {
        "id": tenant.store.data["management_api_id"],
        "name": MANAGEMENT_API_NAME,
        "identifier": authentication.management_audience(tenant),
        "allow_offline_access": False,
        "skip_consent_for_verifiable_first_party_clients": False,
        "subject_type_authorization": {
            "client": {"policy": "require_client_grant"},
            "user": {"policy": "allow_all"},
        },
        "token_lifetime": 86400,
        "token_lifetime_for_web": 7200,
        "signing_alg": "RS256",
        "is_system": True,
        "scopes": [{"description": _description(s), "value": s} for s in known_scopes()],
    }


def _list(tenant: Tenant, request: Request) -> Response:
    servers = [management_api(tenant)]
    # ?identifiers=a&identifiers=b filters by identifier (Auth0's "Get resource servers").
    wanted = request.query.get("identifiers")
    if wanted is not None:
        servers = [server for server in servers if server["identifier"] == wanted]
    return 200, paginate([select(s, request) for s in servers], request, "resource_servers")


def _get(tenant: Tenant, request: Request) -> Response:
    server = management_api(tenant)
    # By id, or by its identifier (recorded: GET /resource-servers/https%3A%2F%2F...%2Fapi%2Fv2%2F).
    if request.params["id"] not in (server["id"], server["identifier"]):
        # Recorded (TestResourceServer_Delete.yaml): 404 inexistent_resource_server.
        raise not_found("resource server")
    return 200, select(server, request)


ROUTES = [
    route(
        RouteName.RESOURCE_SERVERS_LIST,
        "GET",
        "/api/v2/resource-servers",
        "read:resource_servers",
        _list,
    ),
    route(
        RouteName.RESOURCE_SERVERS_GET,
        "GET",
        "/api/v2/resource-servers/{id}",
        "read:resource_servers",
        _get,
        ("search",),  # GET /resource-servers/search, an endpoint of its own, is not emulated
    ),
]
