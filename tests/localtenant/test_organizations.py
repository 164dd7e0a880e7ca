"""Organizations: their connections and members, within Auth0's limits."""

from __future__ import annotations

import pytest

from devtools.localtenant.testing import LocalTenant
from tests.localtenant.calls import error_of


def test_at_most_ten_connections_per_organization(tenant: LocalTenant) -> None:
    # Eleven quick writes would pass Write Organization Connections' burst of 5.
    tenant.rate_limit_tier("unlimited")
    organization = tenant.call("POST", "/api/v2/organizations", {"name": "many"})
    path = f"/api/v2/organizations/{organization['id']}/enabled_connections"
    for number in range(11):
        connection = tenant.call(
            "POST", "/api/v2/connections", {"name": f"c{number}", "strategy": "auth0"}
        )
        enable = {"connection_id": connection["id"]}
        if number < 10:
            tenant.call("POST", path, enable)
        else:
            status, error = error_of(lambda body=enable: tenant.call("POST", path, body))
            assert (status, error["errorCode"]) == (400, "too_many_connections")


# Row: members per request; Actions per trigger and per tenant.


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_at_most_ten_members_per_request(in_process: LocalTenant, method: str) -> None:
    organization = in_process.create_organization("ten")
    users = [in_process.ensure_user(f"auth0|{n:024x}")["user_id"] for n in range(11)]
    path = f"/api/v2/organizations/{organization['id']}/members"
    in_process.call(method, path, {"members": users[:10]})
    status, error = error_of(lambda: in_process.call(method, path, {"members": users}))
    assert status == 400
    assert error["errorCode"] == "invalid_body"
    assert "maximum 10" in error["message"]
