"""The commands' pace within a tier (``commands.pace``), the bound the tier sets on a backfill or
a reconcile, and the ``--tier`` flag. The table itself: tests/test_rate_limits.py."""

from __future__ import annotations

import argparse
import math

import pytest

from auth0_org_assignment import rate_limits
from auth0_org_assignment.commands import pace, parser
from auth0_org_assignment.commands.management_client import UsageError, pace_of
from devtools.localtenant import ratelimits as local
from devtools.localtenant.route_names import RouteName

ENTERPRISE = rate_limits.tier("enterprise-production")
MEMBERS = "/api/v2/organizations/{id}/members"
USER = "/api/v2/users/{id}"
MEMBERS_OF_ONE = "/api/v2/organizations/org_1/members"
ONE_USER = "/api/v2/users/auth0|1"


def test_the_enterprise_bound_is_the_formula_of_its_documented_buckets() -> None:
    # 8,000 users added to one organization, as the backfill does it: 800 members requests
    # (10 a request), and a marker on each user.
    requests = {("POST", MEMBERS): 800, ("PATCH", USER): 8000}
    # The API's bucket (50, 16 a second) counts all 8,800; Write Organization Members
    # (20, 200 a minute) the 800.
    api = (8800 - 50) / 16
    members = (800 - 20) / (200 / 60)
    assert api > members
    assert pace.seconds(ENTERPRISE, requests) == pytest.approx(api)
    assert pace.bound(ENTERPRISE, 8000, requests) == pytest.approx(8000 / api)
    # The members endpoint alone allows about 34 a second (issue 27's figure).
    alone = {("POST", MEMBERS): 800}
    assert pace.bound(ENTERPRISE, 8000, alone) == pytest.approx(8000 / members)
    assert 34 < pace.bound(ENTERPRISE, 8000, alone) < 35


def test_the_free_tier_has_one_bucket_of_two_a_second() -> None:
    free = rate_limits.tier("free")
    requests = {("POST", MEMBERS): 100, ("PATCH", USER): 1000}
    assert pace.seconds(free, requests) == pytest.approx((1100 - 2) / 2)


def test_a_run_its_bursts_hold_is_bounded_by_nothing() -> None:
    assert pace.bound(ENTERPRISE, 10, {("POST", MEMBERS): 1, ("PATCH", USER): 10}) == math.inf


@pytest.mark.parametrize(
    ("tier", "users"), [(local.ENTERPRISE_PRODUCTION, 3000), (local.FREE, 300)]
)
def test_the_pace_meets_no_refusal_and_reaches_the_bound(tier: local.Tier, users: int) -> None:
    """The backfill's writes (a members request, then ten markers) paced by the client against
    the local tenant's limiter, on one clock: no request is refused, and they go at 0.9 of the
    bound or better."""
    clock = [1_000_000.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    table = rate_limits.tier(tier.name)
    paced = rate_limits.Pacer(table, 1.0, clock=lambda: clock[0], sleep=sleep, headroom=True)
    tenant = local.RateLimiter(tier, clock=lambda: clock[0])
    started = clock[0]
    for _batch in range(users // 10):
        paced.take("POST", MEMBERS_OF_ONE)
        admitted = tenant.admit(
            "management", RouteName.ORGANIZATIONS_MEMBERS_CREATE, {}, "POST", MEMBERS_OF_ONE
        )
        assert admitted.allowed, admitted.bucket
        for _user in range(10):
            paced.take("PATCH", ONE_USER)
            admitted = tenant.admit("management", RouteName.USERS_UPDATE, {}, "PATCH", ONE_USER)
            assert admitted.allowed, admitted.bucket
            clock[0] += 0.001  # each request takes a moment
    achieved = users / (clock[0] - started)
    bound = pace.bound(table, users, {("POST", MEMBERS): users // 10, ("PATCH", USER): users})
    assert achieved >= 0.9 * bound


def parse(*args: str) -> argparse.Namespace:
    return parser().parse_args(["backfill", "prod", *args])


def test_the_tier_flag_names_a_documented_tier(capsys: pytest.CaptureFixture[str]) -> None:
    assert pace_of(parse("--tier", "enterprise-production")).tier == ENTERPRISE
    with pytest.raises(SystemExit):
        parse("--tier", "gold")
    error = capsys.readouterr().err
    assert "--tier" in error
    assert "invalid choice: 'gold'" in error
    assert "enterprise-production" in error
    assert "free" in error


def test_a_tier_and_a_rate_are_refused_together(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse("--tier", "free", "--rate", "3")
    assert "--rate: not allowed with argument --tier" in capsys.readouterr().err


def test_without_a_tier_the_free_tiers_pace_with_a_note(capsys: pytest.CaptureFixture[str]) -> None:
    assert pace_of(parse(), note=True, environment={}).tier == rate_limits.tier("free")
    note = capsys.readouterr().err
    assert "free tier" in note
    assert "--tier (enterprise-production, free)" in note


def test_without_a_tier_the_deploys_tier_variable_names_it() -> None:
    environment = {"AUTH0_RATE_LIMIT_TIER": "enterprise-production"}
    assert pace_of(parse(), environment=environment).tier == ENTERPRISE
    # The flag wins.
    assert pace_of(parse("--tier", "free"), environment=environment).tier.name == "free"
    with pytest.raises(UsageError, match=r"AUTH0_RATE_LIMIT_TIER: .*'gold'.*enterprise-production"):
        pace_of(parse(), environment={"AUTH0_RATE_LIMIT_TIER": "gold"})


def test_a_rate_is_an_even_pace() -> None:
    tier = pace_of(parse("--rate", "5")).tier
    assert (tier.management.burst, tier.management.per_second, tier.endpoints) == (1, 5.0, ())
    with pytest.raises(UsageError, match="--rate must be a positive number"):
        pace_of(parse("--rate", "0"))


def test_an_unknown_tier_names_the_choices() -> None:
    with pytest.raises(ValueError, match="use one of enterprise-production, free"):
        rate_limits.tier("gold")
