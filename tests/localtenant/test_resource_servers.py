"""APIs: the Management API, the system resource server every tenant lists (issue 26)."""

from __future__ import annotations

from urllib.parse import quote

from devtools.localtenant.scopes import known_scopes
from devtools.localtenant.testing import LocalTenant
from tests.localtenant.calls import error_of


def test_the_management_api_is_listed_as_auth0_lists_it(tenant: LocalTenant) -> None:
    listed = tenant.call("GET", "/api/v2/resource-servers?page=0&per_page=100&include_totals=true")
    assert (listed["total"], listed["start"], listed["limit"]) == (1, 0, 100)
    [api] = listed["resource_servers"]
    assert api["name"] == "Auth0 Management API"
    assert api["identifier"] == tenant.management_audience
    assert api["is_system"] is True
    assert len(api["id"]) == 24
    assert [scope["value"] for scope in api["scopes"]] == list(known_scopes())
    assert {"value": "read:client_grants", "description": "Read Client Grants"} in api["scopes"]


def test_it_is_found_by_id_or_by_identifier(tenant: LocalTenant) -> None:
    [api] = tenant.call("GET", "/api/v2/resource-servers")
    assert tenant.call("GET", f"/api/v2/resource-servers/{api['id']}") == api
    by_identifier = f"/api/v2/resource-servers/{quote(api['identifier'], safe='')}"
    assert tenant.call("GET", by_identifier) == api
    status, error = error_of(lambda: tenant.call("GET", "/api/v2/resource-servers/nope"))
    assert (status, error) == (
        404,
        {
            "statusCode": 404,
            "error": "Not Found",
            "message": "The resource server does not exist",
            "errorCode": "inexistent_resource_server",
        },
    )


def test_it_cannot_be_changed_here(tenant: LocalTenant) -> None:
    [api] = tenant.call("GET", "/api/v2/resource-servers")
    status, error = error_of(
        lambda: tenant.call(
            "PATCH", f"/api/v2/resource-servers/{api['id']}", {"token_lifetime": 60}
        )
    )
    assert (status, error["errorCode"]) == (501, "not_emulated")


def test_searching_resource_servers_is_not_one_whose_id_is_search(tenant: LocalTenant) -> None:
    """``GET /resource-servers/search`` is an endpoint of its own (the Node SDK's), not
    emulated: a 501, not the 404 of a resource server whose id is "search"."""
    status, error = error_of(lambda: tenant.call("GET", "/api/v2/resource-servers/search"))
    assert (status, error["errorCode"]) == (501, "not_emulated")
