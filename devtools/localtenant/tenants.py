"""Tenant settings, read-only: what a new tenant answers to ``GET /api/v2/tenants/settings``.

Clients read them on start (the Deploy CLI's tenant, pages and prompts handlers; ``enabled_locales``
decides which prompts' custom text it reads). The answer is a near-new real tenant's, recorded
in go-auth0's TestTenantManager_CIMDAndResourceParameterProfile.yaml (its first GET, before the
test changed anything). Changing them is not emulated (501).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from devtools.localtenant.fields import select
from devtools.localtenant.route_names import RouteName
from devtools.localtenant.routes import Request, Response, route

if TYPE_CHECKING:
    from devtools.localtenant.tenant import Tenant

NEW_TENANT_SETTINGS: dict[str, Any] = {
    "change_password": {"enabled": False},
    "enabled_locales": ["en"],
    "flags": {
        "allow_changing_enable_sso": False,
        "allow_legacy_delegation_grant_types": True,
        "allow_legacy_ro_grant_types": True,
        "allow_other_legacy_grant_types": True,
        "disable_impersonation": True,
        "enable_sso": True,
        "universal_login": True,
        "revoke_refresh_token_grant": False,
        "disable_clickjack_protection_headers": False,
    },
    "guardian_mfa_page": {"enabled": False},
    "idle_session_lifetime": 72,
    "ephemeral_session_lifetime": 1,
    "idle_ephemeral_session_lifetime": 1,
    "sandbox_version": "22",
    "session_lifetime": 168,
    "oidc_logout": {"rp_logout_end_session_endpoint_discovery": True},
    "resource_parameter_profile": "audience",
    "phone_consolidated_experience": True,
    "client_id_metadata_document_supported": True,
    "sandbox_versions_available": ["22", "18"],
}


def _settings(tenant: Tenant, request: Request) -> Response:
    return 200, select(copy.deepcopy(NEW_TENANT_SETTINGS), request)


ROUTES = [
    route(
        RouteName.TENANT_SETTINGS_GET,
        "GET",
        "/api/v2/tenants/settings",
        "read:tenant_settings",
        _settings,
    ),
]
