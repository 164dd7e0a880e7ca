"""The Authentication API's client-credentials grant, and the access tokens it issues.

Tokens are JWTs signed with the tenant's key (HS256 here, RS256 at Auth0), so they survive a
restart of the tenant and carry their own scopes and expiry, as Auth0's do.

A custom domain (``Tenant.custom_domain``) is served as Auth0's Custom Domains documentation
says (https://auth0.com/docs/customize/custom-domains/configure-features-to-use-custom-domains,
"APIs"): a token may be requested there, but the Management API's audience stays the canonical
``https://<tenant domain>/api/v2/``; the token's ``iss`` is the domain it was requested from,
and it must be used on the Management API at that same domain. An audience naming the custom
domain is no API of the tenant: 403, as for any unknown audience.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from typing import TYPE_CHECKING, Any

from devtools.localtenant import clients
from devtools.localtenant.errors import Auth0Error, OAuthError
from devtools.localtenant.route_names import RouteName
from devtools.localtenant.routes import Request, Response, Route

if TYPE_CHECKING:
    from devtools.localtenant.tenant import Tenant

DEFAULT_TOKEN_LIFETIME_S = 86400
"""The Management API's default token lifetime."""


def management_audience(tenant: Tenant) -> str:
    """Always the canonical domain's, whichever domain the request came to."""
    return f"https://{tenant.domain}/api/v2/"


def request_host(tenant: Tenant, headers: dict[str, str]) -> str:
    """The domain a request was sent to (the canonical one when it names none)."""
    return headers.get("host", tenant.domain).lower()


def issue_token(tenant: Tenant, request: Request) -> Response:
    """``POST /oauth/token`` with ``grant_type=client_credentials``."""
    form = request.body if isinstance(request.body, dict) else {}
    client_id, client_secret, method = _client_authentication(form, request.headers)
    if form.get("grant_type") != "client_credentials":
        raise OAuthError(403, "unsupported_grant_type", "Unsupported grant type")
    with tenant.store.lock:
        client = tenant.store["clients"].get(client_id or "")
        if client is None or not hmac.compare_digest(
            clients.accepted_secret(client).encode(), (client_secret or "").encode()
        ):
            raise OAuthError(401, "access_denied", "Unauthorized")
        expected = client.get("token_endpoint_auth_method", "client_secret_post")
        if method != expected:
            raise OAuthError(
                401,
                "invalid_client",
                f"The client is configured for {expected}, not {method}",
            )
        if "client_credentials" not in client.get("grant_types", []):
            raise OAuthError(
                403,
                "unauthorized_client",
                "Grant type 'client_credentials' not allowed for the client.",
            )
        audience = form.get("audience")
        if audience != management_audience(tenant):
            raise OAuthError(403, "access_denied", f"Service not enabled within domain: {audience}")
        grant = next(
            (
                grant
                for grant in tenant.store["client_grants"].values()
                if grant["client_id"] == client_id and grant["audience"] == audience
            ),
            None,
        )
        if grant is None:
            raise OAuthError(
                403,
                "access_denied",
                f'Client is not authorized to access "{audience}". You need to create a '
                '"client-grant" associated to this API.',
            )
        scopes = sorted(grant["scope"])
    lifetime = tenant.token_lifetime_s
    now = int(time.time())
    claims = {
        "iss": f"https://{request_host(tenant, request.headers)}/",
        "sub": f"{client_id}@clients",
        "aud": audience,
        "iat": now,
        "exp": now + lifetime,
        "scope": " ".join(scopes),
        "gty": "client-credentials",
        "azp": client_id,
        # Which signing key generation issued it: Tenant.revoke_tokens moves to the next.
        "gen": tenant.store.data.get("token_generation", 0),
    }
    return 200, {
        "access_token": _sign(claims, tenant.store["signing_key"]),
        "scope": " ".join(scopes),
        "expires_in": lifetime,
        "token_type": "Bearer",
    }


def verify_bearer(
    tenant: Tenant, authorization: str | None, host: str | None = None
) -> dict[str, Any]:
    """The claims of a valid Management API token used at ``host`` (the canonical domain by
    default); Auth0's 401 otherwise. A token is valid only at the domain that issued it."""
    if not authorization or not authorization.startswith("Bearer "):
        raise Auth0Error(401, "Missing authentication", None)
    claims = _verify(authorization.removeprefix("Bearer "), tenant.store["signing_key"])
    if claims is None or claims.get("aud") != management_audience(tenant):
        raise Auth0Error(401, "Invalid token", None)
    if claims.get("iss") != f"https://{host or tenant.domain}/":
        raise Auth0Error(401, "Invalid token", None)
    if claims["exp"] <= time.time():
        raise Auth0Error(401, "Expired token received for JSON Web Token validation", None)
    if claims.get("gen") != tenant.store.data.get("token_generation", 0):
        raise Auth0Error(401, "Invalid signature received for JSON Web Token validation", None)
    return claims


def _client_authentication(
    form: dict[str, Any], headers: dict[str, str]
) -> tuple[str | None, str | None, str]:
    basic = headers.get("authorization", "")
    if basic.startswith("Basic "):
        try:
            user, _, password = base64.b64decode(basic[6:], validate=True).decode().partition(":")
        except ValueError:
            raise OAuthError(401, "invalid_client", "Invalid authorization header") from None
        return user, password, "client_secret_basic"
    return form.get("client_id"), form.get("client_secret"), "client_secret_post"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _sign(claims: dict[str, Any], key: str) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(key.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def _verify(token: str, key: str) -> dict[str, Any] | None:
    try:
        header, payload, signature = token.split(".")
        expected = hmac.new(key.encode(), f"{header}.{payload}".encode(), hashlib.sha256)
        if not hmac.compare_digest(_b64(expected.digest()).encode(), signature.encode()):
            return None
        claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=="))
        return claims
    except ValueError:
        return None


ROUTES = [
    Route(
        RouteName.OAUTH_TOKEN,
        "POST",
        re.compile(r"^/oauth/token$"),
        (),
        issue_token,
        management=False,
    ),
]
