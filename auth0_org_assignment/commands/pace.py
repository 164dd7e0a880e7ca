"""The commands' pace within a tier's documented rate limits, and the bound those limits set on
how fast a backfill or reconcile can go.

The tiers are ``rate_limits.json`` (read by ``auth0_org_assignment.rate_limits``, the one table
of them): the Management API's bucket and the endpoint buckets a request also falls in.

**The bound.** Auth0's algorithm (Rate Limit Policy, "Rate limit algorithm",
https://auth0.com/docs/troubleshoot/customer-support/operational-policies/rate-limit-policy)
is a token bucket per API and per endpoint: it holds at most its burst ``B`` and is refilled
``r`` a second, and a request goes on only when its API's bucket and its endpoint's bucket each
have one ("Tenant request limits order"). So a run that sends ``n_b`` requests counted by bucket
``b`` cannot take less than

    T = max over buckets b of  max(0, n_b - B_b) / r_b

(``rate_limits.floor_seconds`` at a share of 1), and a run that makes ``M`` memberships (added or
removed) reaches at most ``M / T`` of them a second (``bound``). The commands count their own
writes (``backfill.requests``, ``reconcile.requests``), so the bound is the tier's figures
applied to what a run must send.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping

from auth0_org_assignment import rate_limits
from auth0_org_assignment.rate_limits import Bucket, Tier

Requests = Mapping[tuple[str, str], int]
"""How many requests of each (method, path under the tenant's root, e.g. ``/api/v2/users/{id}``)."""


def even(per_second: float) -> Tier:
    """One bucket of ``per_second`` and no burst: an explicit, even pace (``--rate``)."""
    return Tier(f"{per_second:g} requests a second", Bucket("Management API", 1, per_second), ())


def seconds(tier: Tier, requests: Requests) -> float:
    """The least time ``requests`` take within ``tier``'s limits, each bucket starting full."""
    return rate_limits.floor_seconds(tier, 1.0, requests)


def bound(tier: Tier, memberships: int, requests: Requests) -> float:
    """The most memberships a second a run making ``memberships`` with ``requests`` can reach
    (infinite when the buckets' bursts hold the whole run)."""
    least = seconds(tier, requests)
    return math.inf if least == 0 else memberships / least


def documented(tier: Tier) -> bool:
    """Whether ``tier`` is one of the table's (not an even ``--rate``)."""
    return tier.name in rate_limits.tier_names()


class Pace:
    """Requests kept within a tier: the client's own copy of each of its buckets, which a
    request waits for (``take``) before it is sent.

    Each copy holds less than Auth0's bucket: one request less, and one second of refill less,
    since Auth0 refills a rate per minute by the second (the copy refills continuously) and the
    tenant's buckets may start a moment after the client's. (``rate_limits.Pacer``, the
    deploy's, holds a share of each bucket and no such headroom: at a share of 1 it is refused
    now and then, which ``tests/commands/test_pace.py`` shows of this one without it.)
    Thread-safe."""

    def __init__(
        self,
        tier: Tier,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.tier = tier
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        now = clock()
        self._state = {
            bucket: [float(self.capacity(bucket)), now]
            for bucket in (tier.management, *tier.endpoints)
        }

    @staticmethod
    def capacity(bucket: Bucket) -> int:
        """What the client's copy of ``bucket`` holds at most."""
        return max(1, bucket.burst - 1 - math.ceil(bucket.per_second))

    def take(self, method: str, path: str, query: Mapping[str, str] | None = None) -> None:
        """Wait until each bucket of the request (``path`` from ``/api/v2``, without its query)
        has one, and take it."""
        buckets = self.tier.buckets_of(method, path, query)
        while True:
            with self._lock:
                now = self._clock()
                wait = 0.0
                for bucket in buckets:
                    state = self._state[bucket]
                    state[0] = min(
                        float(self.capacity(bucket)),
                        state[0] + (now - state[1]) * bucket.per_second,
                    )
                    state[1] = now
                    if state[0] < 1:
                        wait = max(wait, (1 - state[0]) / bucket.per_second)
                if wait == 0:
                    for bucket in buckets:
                        self._state[bucket][0] -= 1
                    return
            self._sleep(wait)
