"""The local tenant's own endpoints under ``/localtenant/``, for tests and the CLI.

Not part of Auth0's API: call counts, fault injection, logins, users in bulk, token revocation,
rate limits, the round trip and token lifetime, and the Actions' cache. Only the admin client's
token may use them; ``devtools.localtenant.testing`` is their client.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any
from urllib.parse import unquote

from devtools.localtenant import authentication, connections, ratelimits
from devtools.localtenant.errors import Auth0Error
from devtools.localtenant.route_names import RouteName
from devtools.localtenant.tenant import Fault, Tenant
from devtools.localtenant.users import import_users

TIERS = {
    tier.name: tier
    for tier in (ratelimits.ENTERPRISE_PRODUCTION, ratelimits.FREE, ratelimits.UNLIMITED)
}


def handle_control(
    tenant: Tenant, method: str, path: str, headers: dict[str, str], body: Any
) -> tuple[int, Any]:
    """A request to ``/localtenant/``: the admin client's token, then ``answer``."""
    try:
        claims = authentication.verify_bearer(tenant, headers.get("authorization"))
        if claims["azp"] != tenant.store.data["admin_client_id"]:
            raise Auth0Error(
                403, "Only the admin client may use /localtenant/", "insufficient_scope"
            )
    except Auth0Error as error:
        return error.status, error.body()
    return answer(tenant, method, path, body)


def answer(tenant: Tenant, method: str, path: str, body: Any) -> tuple[int, Any]:
    """The admin's request to ``/localtenant/``, once authenticated
    (``devtools.localtenant.testing`` calls it directly for a tenant in its own process)."""
    try:
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise Auth0Error(
                400, "Payload validation error: 'Expected type object'.", "invalid_body"
            )
        exact = _ENDPOINTS.get((method, path))
        if exact is not None:
            return exact(tenant, body)
        for prefix, handler in _UNDER.items():
            if path.startswith(prefix):
                return handler(tenant, method, path.removeprefix(prefix), body)
        raise Auth0Error(404, "Not Found", None)
    except Auth0Error as error:
        return error.status, error.body()


def _calls(tenant: Tenant, body: dict[str, Any]) -> tuple[int, Any]:
    return 200, {
        "calls": dict(tenant.calls),
        "denied_scopes": dict(tenant.denied_scopes),
        "rate_limited": dict(tenant.rate_limited),
        "not_emulated": dict(tenant.not_emulated),
    }


def _clear_calls(tenant: Tenant, body: dict[str, Any]) -> tuple[int, Any]:
    tenant.calls.clear()
    tenant.rate_limited.clear()
    tenant.not_emulated.clear()
    return 204, None


def _clear_faults(tenant: Tenant, body: dict[str, Any]) -> tuple[int, Any]:
    tenant.faults.clear()
    return 204, None


def _login(tenant: Tenant, body: dict[str, Any]) -> tuple[int, Any]:
    from devtools.localtenant.logins import login

    return 200, login(tenant, body)


def _import_users(tenant: Tenant, body: dict[str, Any]) -> tuple[int, Any]:
    # {"users": [user, ...]}: users as Auth0 stores them, in bulk (localtenant.users).
    return 200, {"imported": import_users(tenant, body.get("users"))}


def _revoke_tokens(tenant: Tenant, body: dict[str, Any]) -> tuple[int, Any]:
    tenant.revoke_tokens()
    return 204, None


def _rate_limits(tenant: Tenant, body: dict[str, Any]) -> tuple[int, Any]:
    # {"tier": "free" | "enterprise-production" | "unlimited"} and/or
    # {"management_per_second": N | null} (Tenant.rate_limit_per_second).
    if "tier" in body:
        if body["tier"] not in TIERS:
            raise Auth0Error(400, f"tier must be one of {', '.join(TIERS)}", None)
        tenant.rate_limiter.tier = TIERS[body["tier"]]
    if "management_per_second" in body:
        tenant.rate_limit_per_second = body["management_per_second"]
    return 200, {
        "tier": tenant.rate_limiter.tier.name,
        "management_per_second": tenant.rate_limit_per_second,
    }


def _settings(tenant: Tenant, body: dict[str, Any]) -> tuple[int, Any]:
    # {"rtt_ms": N}: a round trip added to every Management and Authentication API request;
    # {"token_lifetime_s": N}: how long the access tokens issued from now last;
    # {"allow_connections_management_without_options_scopes": true | false}: Auth0's migration
    # toggle of that name (localtenant.connections), kept in the tenant's state.
    # {"secret_rotation_delay_s": N}: how long a rotated client secret takes to be accepted.
    # {"discovery_domain_lag_s": N}: how long a discovery domain's change takes to show.
    # {"member_list_lag_s": N}: how long a membership's change takes to show in the members list.
    if "rtt_ms" in body:
        tenant.rtt_ms = float(body["rtt_ms"])
    if "token_lifetime_s" in body:
        tenant.token_lifetime_s = int(body["token_lifetime_s"])
    legacy = connections.LEGACY_OPTIONS_ACCESS
    if legacy in body:
        if not isinstance(body[legacy], bool):
            raise Auth0Error(400, f"{legacy} must be true or false", None)
        with tenant.store.lock:
            tenant.store.data[legacy] = body[legacy]
            tenant.store.save()
    if "secret_rotation_delay_s" in body:
        tenant.secret_rotation_delay_s = float(body["secret_rotation_delay_s"])
    if "discovery_domain_lag_s" in body:  # for the changes from now on: reads catch up
        tenant.discovery_domain_lag_s = float(body["discovery_domain_lag_s"])
        tenant.discovery_domain_views.clear()
    if "member_list_lag_s" in body:  # likewise
        tenant.member_list_lag_s = float(body["member_list_lag_s"])
        tenant.member_views.clear()
    return 200, {
        "rtt_ms": tenant.rtt_ms,
        "token_lifetime_s": tenant.token_lifetime_s,
        "secret_rotation_delay_s": tenant.secret_rotation_delay_s,
        "discovery_domain_lag_s": tenant.discovery_domain_lag_s,
        "member_list_lag_s": tenant.member_list_lag_s,
        legacy: connections.options_without_scopes(tenant),
    }


def _fault(tenant: Tenant, method: str, route: str, body: dict[str, Any]) -> tuple[int, Any]:
    """``PUT /localtenant/faults/{route}`` sets that route's fault, ``DELETE`` clears it; a
    route that does not exist is refused, naming the known ones."""
    if route not in set(RouteName):
        raise Auth0Error(
            404, f"no route named {route!r}; routes: {', '.join(sorted(RouteName))}", None
        )
    if method == "PUT":
        known = {field.name for field in fields(Fault)}
        tenant.faults[route] = Fault(**{k: v for k, v in body.items() if k in known})
        return 204, None
    if method == "DELETE":
        tenant.faults.pop(route, None)
        return 204, None
    raise Auth0Error(404, "Not Found", None)


def _cache(tenant: Tenant, method: str, rest: str, body: dict[str, Any]) -> tuple[int, Any]:
    return _action_cache(tenant, method, rest)


_ENDPOINTS = {
    ("GET", "/localtenant/calls"): _calls,
    ("DELETE", "/localtenant/calls"): _clear_calls,
    ("DELETE", "/localtenant/faults"): _clear_faults,
    ("POST", "/localtenant/logins"): _login,
    ("POST", "/localtenant/users"): _import_users,
    ("DELETE", "/localtenant/tokens"): _revoke_tokens,
    ("PUT", "/localtenant/rate-limits"): _rate_limits,
    ("PUT", "/localtenant/settings"): _settings,
}
"""The admin's endpoints, by method and path."""
_UNDER = {
    "/localtenant/faults/": _fault,
    "/localtenant/action-cache/": _cache,
}
"""The admin's endpoints under a path, any method: the rest of the path is the route or
the trigger."""


def _action_cache(tenant: Tenant, method: str, rest: str) -> tuple[int, Any]:
    """``GET /localtenant/action-cache/{trigger}``: the trigger's api.cache entries;
    ``DELETE`` it to evict them all, ``DELETE .../{trigger}/{key}`` to evict one."""
    from devtools.localtenant.logins import cache_snapshot, evict_cache

    trigger, _, key = rest.partition("/")
    if method == "GET" and not key:
        return 200, cache_snapshot(tenant, trigger)
    if method == "DELETE":
        evict_cache(tenant, trigger, unquote(key) if key else None)
        return 204, None
    raise Auth0Error(404, "Not Found", None)
