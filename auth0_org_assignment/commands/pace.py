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
from collections.abc import Mapping

from auth0_org_assignment import rate_limits
from auth0_org_assignment.rate_limits import Bucket, Pacer, Tier

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


def whole(tier: Tier) -> Pacer:
    """A pace at the whole of ``tier``: each of its buckets, with the headroom that keeps a
    tenant of that tier from refusing any of it (``Pacer``'s ``headroom``)."""
    return Pacer(tier, 1.0, headroom=True)
