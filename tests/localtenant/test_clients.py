"""Applications and their grants: scopes, client keys, client metadata, Auth0's validation rules."""

from __future__ import annotations

from typing import Any

import pytest

from devtools.localtenant.testing import LocalTenant
from tests.localtenant.calls import error_of


def test_a_missing_scope_is_auth0s_403(tenant: LocalTenant) -> None:
    reader = tenant.m2m_client("reader", ["read:organizations"])
    client = tenant.https_api(reader)
    assert client.call("GET", "/api/v2/organizations") == []
    status, body = error_of(lambda: client.call("POST", "/api/v2/organizations", {"name": "x"}))
    assert status == 403
    assert body == {
        "statusCode": 403,
        "error": "Forbidden",
        "message": "Insufficient scope, expected any of: create:organizations",
        "errorCode": "insufficient_scope",
    }


def test_client_keys_need_their_own_scope(tenant: LocalTenant) -> None:
    reader = tenant.m2m_client("reader", ["read:clients"])
    client = tenant.https_api(reader)
    shown = client.call("GET", f"/api/v2/clients/{reader['client_id']}")
    assert "client_secret" not in shown
    assert tenant.call("GET", f"/api/v2/clients/{reader['client_id']}")["client_secret"]


def test_client_metadata_merges_and_a_null_removes_its_key(tenant: LocalTenant) -> None:
    """Auth0's documented PATCH semantics, which the provider relies on to remove a key."""
    client = tenant.call("POST", "/api/v2/clients", {"name": "m", "client_metadata": {"a": "1"}})
    path = f"/api/v2/clients/{client['client_id']}"
    assert tenant.call("PATCH", path, {"client_metadata": {"b": "2"}})["client_metadata"] == {
        "a": "1",
        "b": "2",
    }
    assert tenant.call("PATCH", path, {"client_metadata": {"a": None}})["client_metadata"] == {
        "b": "2"
    }


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/api/v2/organizations", {"name": "Not Valid"}, "does not match pattern"),
        ("/api/v2/clients", {"name": "x", "description": "d" * 141}, "maximum 140"),
        (
            "/api/v2/actions/actions",
            {
                "name": "a",
                "supported_triggers": [{"id": "post-login", "version": "v3"}],
                "runtime": "node16",
            },
            "Invalid runtime",
        ),
    ],
)
def test_auth0s_validation_rules(
    tenant: LocalTenant, path: str, body: dict[str, Any], message: str
) -> None:
    status, error = error_of(lambda: tenant.call("POST", path, body))
    assert status == 400
    assert message in error["message"]
