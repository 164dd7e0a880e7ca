"""One tenant: its state, its route table, the calls it has answered and the faults it injects.

``Tenant.handle`` is the whole Management and Authentication API as a function of a parsed
request; ``server`` wraps it in HTTPS.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from devtools.localtenant import (
    actions,
    authentication,
    clients,
    connections,
    ids,
    jobs,
    organizations,
    ratelimits,
    resource_servers,
    roles,
    tenants,
    users,
)
from devtools.localtenant.errors import Auth0Error, insufficient_scope
from devtools.localtenant.logins import ActionContainer
from devtools.localtenant.ratelimits import Admission, RateLimiter
from devtools.localtenant.routes import Request, Route
from devtools.localtenant.scopes import known_scopes
from devtools.localtenant.store import Store

ADMIN_CLIENT_NAME = "Local tenant admin (all Management API scopes)"
DEFAULT_CONNECTIONS = (
    ("Username-Password-Authentication", "auth0"),
    ("google-oauth2", "google-oauth2"),
)
AREAS = (
    authentication,
    clients,
    connections,
    organizations,
    roles,
    actions,
    users,
    jobs,
    resource_servers,
    tenants,
)


@dataclass
class Fault:
    """What a route does instead of answering normally.

    ``status`` answers with that status (and ``retry_after``, seconds or an HTTP date);
    ``hang_s`` holds the request that long; ``latency_ms`` delays a normal answer;
    ``raw_body`` answers ``status`` (200 by default) with that text as ``content_type``.
    ``times`` limits how many requests it affects (None: until cleared).
    """

    status: int | None = None
    retry_after: str | None = None
    hang_s: float | None = None
    latency_ms: float = 0.0
    raw_body: str | None = None
    content_type: str = "text/html"
    times: int | None = None


class Tenant:
    """A local Auth0 tenant whose state lives in ``state_path``, served at ``domain`` (its
    canonical domain) and, when given, at ``custom_domain`` too."""

    def __init__(self, state_path: Path, domain: str, custom_domain: str | None = None) -> None:
        self.store = Store(state_path)
        self.domain = domain
        self.custom_domain = custom_domain
        self.routes: list[Route] = [route for area in AREAS for route in area.ROUTES]
        self.calls: Counter[str] = Counter()
        self.denied_scopes: Counter[str] = Counter()
        self.rate_limited: Counter[str] = Counter()
        """429s answered, by the bucket that refused them."""
        self.not_emulated: Counter[str] = Counter()
        """Requests answered 501 (``not_emulated``), by ``"<method> <path>"``."""
        self.faults: dict[str, Fault] = {}
        self.rtt_ms = 0.0
        self.rate_limiter = RateLimiter(ratelimits.DEFAULT_TIER)
        """Auth0's buckets for the Management and Authentication APIs; ``.tier`` selects a
        documented tier (devtools.localtenant.ratelimits)."""
        self.action_cache: dict[str, dict[str, dict[str, Any]]] = {}
        """api.cache, per trigger: key -> {"value", "expires_at"} (devtools.localtenant.logins)."""
        self.token_lifetime_s = authentication.DEFAULT_TOKEN_LIFETIME_S
        self.secret_rotation_delay_s = 0.0
        """How long a rotated client secret takes to be accepted, the previous one accepted
        meanwhile (``clients._rotate_secret``): Auth0 says up to 30 s; 0, at once, by default."""
        self.discovery_domain_lag_s = 0.0
        """How long a created, updated or deleted discovery domain takes to show in reads (one
        domain, or the list: ``organizations._read_discovery_domains``): Auth0 says they "may
        not immediately appear"; 0, at once, by default."""
        self.discovery_domain_views: dict[str, tuple[float, str, dict[str, Any] | None]] = {}
        """Discovery domain id -> (until when, its organization, what reads show meanwhile: its
        state before the change, None for one just created)."""
        self.member_list_lag_s = 0.0
        """How long adding or removing an organization member (deleting the user included)
        takes to show in the organization's members list (``organizations._listed_members``):
        Auth0 says the list "is subject to eventual consistency" and a removal "takes
        approximately 5 - 10 seconds"; 0, at once, by default."""
        self.member_views: dict[tuple[str, str], tuple[float, bool]] = {}
        """(organization id, user id) -> (until when, whether the list shows the user meanwhile:
        their membership before the change)."""
        self.release = threading.Event()
        """Set at shutdown, so hanging requests end."""
        self.ca_file = state_path.with_name(state_path.name + ".ca.pem")
        """The certificate authority clients trust (the server writes it)."""
        self.containers: dict[str, ActionContainer] = {}
        """Running Action containers, by deployed version id (devtools.localtenant.logins)."""
        with self.store.lock:
            if not self.store.path.is_file():
                self._seed()
            if "management_api_id" not in self.store.data:  # a state file from before it
                self.store.data["management_api_id"] = ids.object_id()
            if "admin_client_id" not in self.store.data:
                admin = self.create_client_with_grant(ADMIN_CLIENT_NAME, known_scopes())
                self.store.data["admin_client_id"] = admin["client_id"]
                self.store.save()
            self._grant_admin_every_scope()
            self._follow_domain()

    def _seed(self) -> None:
        """What every new Auth0 tenant starts with: its default database connection and the
        Google social connection (the recordings' tenant has them; new tenants do too)."""
        for name, strategy in DEFAULT_CONNECTIONS:
            options = connections.GOOGLE_OPTIONS if strategy == "google-oauth2" else {}
            connections.create_connection(
                self, {"name": name, "strategy": strategy, "options": options}
            )

    def _grant_admin_every_scope(self) -> None:
        """A state file from before a scope was known: its admin client gains it."""
        admin = self.store.data["admin_client_id"]
        for grant in self.store["client_grants"].values():
            if grant["client_id"] == admin and set(known_scopes()) - set(grant["scope"]):
                grant["scope"] = sorted({*grant["scope"], *known_scopes()})

    def _follow_domain(self) -> None:
        """The Management API's audience names the host and port; a restart on another port
        moves it, as a tenant on another domain would. Grants follow the move."""
        audience = authentication.management_audience(self)
        for grant in self.store["client_grants"].values():
            if grant["audience"].startswith("https://localhost") and grant["audience"].endswith(
                "/api/v2/"
            ):
                grant["audience"] = audience
        self.store.save()

    @property
    def hosts(self) -> tuple[str, ...]:
        """The host names (with port) this tenant answers on."""
        return (self.domain, *([self.custom_domain] if self.custom_domain else []))

    @property
    def rate_limit_per_second(self) -> float | None:
        """The Management API's sustained requests a second (None: unlimited). Setting it
        replaces the tier's Management API buckets with one of that rate, burst included;
        the Authentication API keeps its limits."""
        limit = self.rate_limiter.tier.management
        return None if limit is None else limit.refill_per_second

    @rate_limit_per_second.setter
    def rate_limit_per_second(self, per_second: float | None) -> None:
        self.rate_limiter.tier = self.rate_limiter.tier.with_management(per_second)

    @property
    def admin_credentials(self) -> dict[str, str]:
        admin = self.store["clients"][self.store.data["admin_client_id"]]
        return {"client_id": admin["client_id"], "client_secret": admin["client_secret"]}

    def create_client_with_grant(
        self, name: str, scopes: tuple[str, ...] | list[str]
    ) -> dict[str, Any]:
        """An M2M application granted ``scopes`` on the Management API: the admin client, made
        with the tenant (``devtools.localtenant.testing`` makes the others through the API)."""
        with self.store.lock:
            client = clients.create_client(
                self,
                {
                    "name": name,
                    "app_type": "non_interactive",
                    "grant_types": ["client_credentials"],
                },
            )
            clients.create_grant(
                self,
                {
                    "client_id": client["client_id"],
                    "audience": authentication.management_audience(self),
                    "scope": list(scopes),
                },
            )
            self.store.save()
            return client

    def close(self) -> None:
        self.store.flush()
        self.release.set()
        for container in self.containers.values():
            container.close()

    def revoke_tokens(self) -> None:
        """Make every token issued so far invalid, as a rotated signing key would."""
        with self.store.lock:
            self.store.data["token_generation"] = self.store.data.get("token_generation", 0) + 1
            self.store.save()

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            if route.method == method:
                found = route.pattern.match(path)
                if found:
                    return route, {k: unquote(v) for k, v in found.groupdict().items()}
        return None

    def admit(
        self, method: str, path: str, route: Route | None, query: dict[str, str]
    ) -> Admission:
        """Take one request from the rate limits of the API ``path`` belongs to."""
        if route is not None and not route.management:
            return self.rate_limiter.admit("authentication", route.name, query, method, path)
        if route is not None or path.startswith("/api/v2/"):
            name = route.name if route else None
            return self.rate_limiter.admit("management", name, query, method, path)
        return Admission(True)

    def answer_not_emulated(self, method: str, path: str) -> tuple[int, Any]:
        """The answer to a Management API request no route serves: 501, naming it, so that
        nobody mistakes it for an answer of Auth0's (which has no 501 of its own).
        ``COVERAGE.md`` lists what is served."""
        self.not_emulated[f"{method} {path}"] += 1
        return 501, {
            "statusCode": 501,
            "error": "Not Implemented",
            "message": f"{method} {path} is not emulated by the local tenant "
            "(devtools/localtenant/COVERAGE.md lists what it serves)",
            "errorCode": "not_emulated",
        }

    def too_many_requests(
        self, route: Route, admission: Admission
    ) -> tuple[int, Any, dict[str, str]]:
        """Auth0's 429 for a request ``admission`` refused, with its bucket's headers."""
        self.rate_limited[admission.bucket or "?"] += 1
        if not route.management:
            # An OAuth endpoint answers access_denied (https://auth0.com/docs/policies/global-limit,
            # "JSON Error").
            body: dict[str, Any] = {
                "error": "access_denied",
                "error_description": "Global rate limit exceeded",
            }
        else:
            # The global bucket's message is the one free tenants see
            # (https://community.auth0.com/t/429-too-many-requests/81374); an endpoint's is
            # the 429 row of the endpoints' pages (e.g.
            # https://auth0.com/docs/manage-users/organizations/configure-organizations/assign-members).
            message = (
                "Global limit has been reached"
                if admission.bucket == "management"
                else "Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining "
                "and X-RateLimit-Reset headers."
            )
            body = {
                "statusCode": 429,
                "error": "Too Many Requests",
                "message": message,
                "errorCode": "too_many_requests",
            }
        return 429, body, admission.headers

    def take_fault(self, name: str) -> Fault | None:
        fault = self.faults.get(name)
        if fault is not None and fault.times is not None:
            fault.times -= 1
            if fault.times <= 0:
                del self.faults[name]
        return fault

    def handle(
        self,
        route: Route,
        params: dict[str, str],
        query: dict[str, str],
        headers: dict[str, str],
        body: Any,
    ) -> tuple[int, Any]:
        """Authenticate the bearer token (Management API routes), then ``call`` the route."""
        host = headers.get("host", self.domain).lower()
        if host not in self.hosts:
            return 404, {"statusCode": 404, "error": "Not Found", "message": "Not Found"}
        if not route.management:
            return self._run(route, Request(route.method, "", params, query, body, headers))
        try:
            claims = authentication.verify_bearer(self, headers.get("authorization"), host)
        except Auth0Error as error:
            return error.status, error.body()
        scopes = frozenset(claims["scope"].split())
        return self.call(route, params, query, body, scopes, headers, claims["azp"])

    def call(
        self,
        route: Route,
        params: dict[str, str],
        query: dict[str, str],
        body: Any,
        scopes: frozenset[str],
        headers: dict[str, str] | None = None,
        subject: str | None = None,
    ) -> tuple[int, Any]:
        """Check the scopes Auth0 requires for ``route``, then run it."""
        if not scopes & set(route.scopes):
            self.denied_scopes[route.scopes[0]] += 1
            error = insufficient_scope(route.scopes)
            return error.status, error.body()
        request = Request(route.method, "", params, query, body, headers or {}, scopes, subject)
        return self._run(route, request)

    def _run(self, route: Route, request: Request) -> tuple[int, Any]:
        """The route's handler under the state lock, then what it changed saved. Handlers check
        everything before they change anything, so an error leaves nothing half-applied."""
        try:
            with self.store.lock:
                status, answer = route.handler(self, request)
                if route.method != "GET":
                    self.store.save()
                return status, answer
        except Auth0Error as error:
            return error.status, error.body()
