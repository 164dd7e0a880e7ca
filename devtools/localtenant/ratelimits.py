"""Auth0's rate limits: token buckets per API and per endpoint, and the documented tiers.

The algorithm is the one Auth0's Rate Limit Policy describes
(https://auth0.com/docs/troubleshoot/customer-support/operational-policies/rate-limit-policy,
"Rate limit algorithm"): a bucket holds at most its burst limit of requests and is refilled at
the sustained rate; a sustained rate per second refills by the millisecond, one per minute by
the second. A request is first checked against the API's global bucket, then against its
endpoint's bucket ("Tenant request limits order"), and goes on only when both have a request
left. What a response reports is Rate Limit Use Cases'
(https://auth0.com/docs/troubleshoot/customer-support/operational-policies/rate-limit-policy/rate-limit-use-cases,
"Predict when requests to a tenant will be rate limited"): ``x-ratelimit-limit`` (the bucket's
size), ``x-ratelimit-remaining`` and ``x-ratelimit-reset``, the Unix time in seconds when more
requests are added. Auth0 documents ``Retry-After`` only for custom rate limit policies, which
this tenant does not have, so it never sends one.

No HTTP here: the server asks ``RateLimiter.admit`` and sends what it answers.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from auth0_org_assignment import rate_limits
from devtools.localtenant.route_names import RouteName


@dataclass(frozen=True)
class Limit:
    """One bucket's configuration: ``burst`` requests at most, refilled ``sustained`` a
    ``per`` (``"second"`` or ``"minute"``)."""

    burst: int
    sustained: float
    per: str = "second"

    @property
    def refill_per_second(self) -> float:
        return self.sustained / (60 if self.per == "minute" else 1)

    @property
    def step_s(self) -> float:
        """How often requests are added: by the millisecond for a rate per second, by the
        second for a rate per minute (Rate Limit Policy)."""
        return 0.001 if self.per == "second" else 1.0


@dataclass(frozen=True)
class EndpointLimit:
    """A documented endpoint (or endpoint group) bucket, shared by the requests it names: by
    ``methods`` and a regular expression on the path (the Management API's rows, from the
    table), or by route (``routes``, the Authentication API's). ``query`` restricts it to
    requests carrying that query parameter (Auth0's "Read Clients, only applies to the usage of
    the q parameter")."""

    name: str
    limit: Limit
    routes: tuple[str, ...] = ()
    query: str | None = None
    api: str = "management"
    methods: frozenset[str] = frozenset()
    path_pattern: str = ""

    def counts(self, method: str, path: str, route: str | None, query: dict[str, str]) -> bool:
        if self.query is not None and self.query not in query:
            return False
        if self.path_pattern:
            return method in self.methods and re.search(self.path_pattern, path) is not None
        return route in self.routes


@dataclass(frozen=True)
class Tier:
    """The limits of one subscription, as its Rate Limit Configurations page lists them."""

    name: str
    management: Limit | None
    authentication: Limit | None
    endpoints: tuple[EndpointLimit, ...] = ()

    def with_management(self, per_second: float | None) -> Tier:
        """This tier with its Management API limits replaced by one bucket of
        ``per_second`` (burst and sustained), or by none: a test's knob, not an Auth0 tier.
        The Authentication API's limits stay."""
        return Tier(
            f"{self.name}, Management API {per_second or 'unlimited'}/second",
            management=None
            if per_second is None
            else Limit(max(1, math.ceil(per_second)), per_second),
            authentication=self.authentication,
            endpoints=tuple(e for e in self.endpoints if e.api != "management"),
        )


def _limit(row: dict[str, Any]) -> Limit:
    if "perMinute" in row:
        return Limit(row["burst"], row["perMinute"], "minute")
    return Limit(row["burst"], row["perSecond"])


def documented(
    name: str, authentication: Limit, authentication_endpoints: tuple[EndpointLimit, ...] = ()
) -> Tier:
    """The Management API limits of tier ``name`` from the product's table
    (``auth0_org_assignment/rate_limits.json``, the one a deploy is paced by, with each
    tier's page), with the Authentication API's, which the table does not hold."""
    row = rate_limits.table()["tiers"][name]
    return Tier(
        name,
        management=_limit(row["management"]),
        authentication=authentication,
        endpoints=(
            *(
                EndpointLimit(
                    e["name"],
                    _limit(e),
                    query=e.get("query"),
                    methods=frozenset(e["methods"]),
                    path_pattern=e["pathPattern"],
                )
                for e in row["endpoints"]
            ),
            *authentication_endpoints,
        ),
    )


# https://auth0.com/docs/troubleshoot/customer-support/operational-policies/rate-limit-policy/rate-limit-configurations/enterprise-public
# Management API, "Production" tenant environment, and the endpoint rows that name routes
# this tenant serves (the table). The Authentication API row for a production tenant is
# 100/second; the page lists no separate row for /oauth/token, so the API's own bucket limits it.
ENTERPRISE_PRODUCTION = documented("enterprise-production", authentication=Limit(100, 100))

# https://auth0.com/docs/troubleshoot/customer-support/operational-policies/rate-limit-policy/rate-limit-configurations/free-public
# Management API 2 (burst) / 2 a second (the table); Authentication API 300 / 300 a minute, and
# its Get Token row, POST /oauth/token 30 / 30 a second. None of the page's Management endpoint
# rows is a route this tenant serves.
FREE = documented(
    "free",
    authentication=Limit(300, 300, "minute"),
    authentication_endpoints=(
        EndpointLimit("Get Token", Limit(30, 30), (RouteName.OAUTH_TOKEN,), api="authentication"),
    ),
)

UNLIMITED = Tier("unlimited", management=None, authentication=None)

DEFAULT_TIER = ENTERPRISE_PRODUCTION
"""What a new local tenant enforces: Auth0's Enterprise subscription, production tenant. The
most generous public tier, so Pulumi's provider (which retries a 429 twice) and the Action's
tests run as they would against a paying customer's production tenant; ``FREE`` is what a
free or trial tenant enforces."""


class _Bucket:
    def __init__(self, limit: Limit, now: float) -> None:
        self.limit = limit
        self.tokens = float(limit.burst)
        self.updated = now

    def refill(self, now: float) -> None:
        steps = math.floor((now - self.updated) / self.limit.step_s + 1e-6)
        if steps > 0:
            self.updated += steps * self.limit.step_s
            added = steps * self.limit.step_s * self.limit.refill_per_second
            self.tokens = min(float(self.limit.burst), self.tokens + added)

    def reset_at(self, now: float) -> int:
        """The Unix second by which one more request is added (now, when full)."""
        if self.tokens >= self.limit.burst:
            return math.ceil(now)
        missing = math.floor(self.tokens) + 1 - self.tokens
        steps = math.ceil(missing / (self.limit.refill_per_second * self.limit.step_s) - 1e-9)
        return math.ceil(self.updated + steps * self.limit.step_s)

    def headers(self, now: float) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.limit.burst),
            "x-ratelimit-remaining": str(max(0, math.floor(self.tokens))),
            "x-ratelimit-reset": str(self.reset_at(now)),
        }


@dataclass
class Admission:
    """Whether a request may go on, and the rate-limit headers its response carries."""

    allowed: bool
    headers: dict[str, str] = field(default_factory=dict)
    bucket: str | None = None
    """The bucket that refused the request (``"management"``, ``"authentication"`` or an
    endpoint's name)."""


class RateLimiter:
    """The buckets of one tenant under ``tier``; thread-safe."""

    def __init__(self, tier: Tier = DEFAULT_TIER, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self.tier = tier

    @property
    def tier(self) -> Tier:
        return self._tier

    @tier.setter
    def tier(self, tier: Tier) -> None:
        """A new tier starts with full buckets."""
        with self._lock:
            self._tier = tier
            self._buckets.clear()

    def admit(
        self, api: str, route: str | None, query: dict[str, str], method: str = "", path: str = ""
    ) -> Admission:
        """Take one request from ``api``'s (``"management"`` or ``"authentication"``) bucket
        and from its endpoint's bucket (by ``method`` and ``path``, or by ``route``), if it has
        one; when either is empty, take none and refuse."""
        with self._lock:
            now = self._clock()
            buckets = [(api, getattr(self._tier, api))]
            for endpoint in self._tier.endpoints:
                if endpoint.api == api and endpoint.counts(method, path, route, query):
                    buckets.append((endpoint.name, endpoint.limit))
            live = []
            for name, limit in buckets:
                if limit is None:
                    continue
                bucket = self._buckets.get(name)
                if bucket is None or bucket.limit != limit:
                    bucket = self._buckets[name] = _Bucket(limit, now)
                bucket.refill(now)
                live.append((name, bucket))
            if not live:
                return Admission(True)
            for name, bucket in live:
                if bucket.tokens < 1:
                    return Admission(False, bucket.headers(now), name)
            for _, bucket in live:
                bucket.tokens -= 1
            # The headers of the bucket closest to refusing the next request.
            _, tightest = min(live, key=lambda item: item[1].tokens / item[1].limit.burst)
            return Admission(True, tightest.headers(now))
