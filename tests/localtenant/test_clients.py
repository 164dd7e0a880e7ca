"""Applications and their grants: scopes, client keys, client metadata, Auth0's validation rules."""

from __future__ import annotations

import time
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


def test_rotating_a_secret_needs_update_client_keys_and_the_old_one_stops_working(
    tenant: LocalTenant,
) -> None:
    """Auth0's "Rotate Client Secrets": POST /clients/{id}/rotate-secret, update:client_keys."""
    app = tenant.m2m_client("app", ["read:organizations"])
    rotator = tenant.https_api(tenant.m2m_client("rotator", ["update:client_keys"]))
    path = f"/api/v2/clients/{app['client_id']}/rotate-secret"
    status, _ = error_of(lambda: tenant.https_api(app).call("POST", path))
    assert status == 403
    # Without read:client_keys the answer leaves the secret out, as every client answer does.
    assert "client_secret" not in rotator.call("POST", path)
    new = tenant.call("POST", path)["client_secret"]
    assert new != app["client_secret"]
    assert (
        tenant.https_api({**app, "client_secret": new}).call("GET", "/api/v2/organizations") == []
    )
    status, _ = error_of(lambda: tenant.https_api(app).token())
    assert status == 401


def test_a_rotated_secret_can_take_a_while_to_be_accepted(tenant: LocalTenant) -> None:
    """ "New secrets may be delayed up to thirty seconds while rotating": meanwhile the previous
    one still works, and the rotation's answer never shows it."""
    tenant.set_secret_rotation_delay_s(1.5)
    app = tenant.m2m_client("app", ["read:organizations"])
    rotated = tenant.call("POST", f"/api/v2/clients/{app['client_id']}/rotate-secret")
    assert "previous_secret" not in rotated
    assert "secret_accepted_at" not in rotated
    new = {**app, "client_secret": rotated["client_secret"]}
    status, _ = error_of(lambda: tenant.https_api(new).token())
    assert status == 401
    assert tenant.https_api(app).token()
    time.sleep(1.6)
    assert tenant.https_api(new).token()
    status, _ = error_of(lambda: tenant.https_api(app).token())
    assert status == 401
