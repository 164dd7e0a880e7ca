"""Connections: what a new tenant's are (clients.md D8)."""

from __future__ import annotations

from devtools.localtenant.testing import LocalTenant


def test_the_seeded_google_connection_has_googles_options(tenant: LocalTenant) -> None:
    [google] = tenant.call("GET", "/api/v2/connections?name=google-oauth2")
    assert google["options"] == {"email": True, "scope": ["email", "profile"], "profile": True}
