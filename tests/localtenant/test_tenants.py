"""Tenant settings: what a new tenant answers, read by clients on start (issue 26)."""

from __future__ import annotations

from devtools.localtenant.testing import LocalTenant
from tests.localtenant.calls import error_of


def test_the_settings_are_a_new_tenants(tenant: LocalTenant) -> None:
    settings = tenant.call("GET", "/api/v2/tenants/settings")
    assert settings["enabled_locales"] == ["en"]
    assert settings["flags"]["enable_sso"] is True
    assert settings["session_lifetime"] == 168


def test_they_need_their_scope_and_cannot_be_changed_here(tenant: LocalTenant) -> None:
    reader = tenant.https_api(tenant.m2m_client("reader", ["read:organizations"]))
    status, error = error_of(lambda: reader.call("GET", "/api/v2/tenants/settings"))
    assert (status, error["message"]) == (
        403,
        "Insufficient scope, expected any of: read:tenant_settings",
    )
    status, error = error_of(
        lambda: tenant.call("PATCH", "/api/v2/tenants/settings", {"friendly_name": "x"})
    )
    assert status == 501
