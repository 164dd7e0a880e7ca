"""Rate limits: Auth0's buckets, headers and 429s, per tier."""

from __future__ import annotations

import time
from pathlib import Path

from devtools.localtenant import ratelimits
from devtools.localtenant.route_names import RouteName
from devtools.localtenant.testing import LocalTenant
from tests.localtenant.calls import fetch, token_request

# Row: rate limits. https://auth0.com/docs/troubleshoot/customer-support/operational-policies/rate-limit-policy


def test_every_management_api_response_says_where_its_rate_limit_stands(
    in_process: LocalTenant,
) -> None:
    token = in_process.https_api().token()
    answers = [
        fetch(in_process, "GET", "/api/v2/organizations", token=token),
        fetch(in_process, "GET", "/api/v2/organizations/org_missing", token=token),
        fetch(in_process, "GET", "/api/v2/organizations"),  # no token: 401
        fetch(in_process, "GET", "/api/v2/no-such-endpoint", token=token),
    ]
    assert [a.status for a in answers] == [200, 404, 401, 501]
    for answer in answers:
        assert answer.headers["x-ratelimit-limit"] == "50"  # Enterprise, production tenant
        assert 0 <= int(answer.headers["x-ratelimit-remaining"]) < 50
        assert abs(int(answer.headers["x-ratelimit-reset"]) - time.time()) <= 2
        assert "retry-after" not in answer.headers


def test_past_the_global_limit_auth0s_429_carries_the_bucket(in_process: LocalTenant) -> None:
    token = in_process.https_api().token()
    in_process.rate_limit_tier("free")  # 2 requests, 2 a second
    answers = [fetch(in_process, "GET", "/api/v2/organizations", token=token) for _ in range(3)]
    assert [a.status for a in answers] == [200, 200, 429]
    limited = answers[2]
    assert limited.body == {
        "statusCode": 429,
        "error": "Too Many Requests",
        "message": "Global limit has been reached",
        "errorCode": "too_many_requests",
    }
    assert limited.headers["x-ratelimit-limit"] == "2"
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert int(limited.headers["x-ratelimit-reset"]) >= int(time.time())
    assert "retry-after" not in limited.headers
    time.sleep(1.1)  # refilled at 2 a second
    assert fetch(in_process, "GET", "/api/v2/organizations", token=token).status == 200


def test_an_endpoint_bucket_limits_its_endpoint_only(in_process: LocalTenant) -> None:
    organization = in_process.create_organization("members")
    path = f"/api/v2/organizations/{organization['id']}/members"
    users = [in_process.sign_up(f"u{n}@a.io")["user_id"] for n in range(1)]
    token = in_process.https_api().token()
    # Write Organization Members: 20, refilled 200 a minute.
    statuses = [
        fetch(in_process, "POST", path, {"members": users}, token=token).status for _ in range(21)
    ]
    assert statuses == [204] * 20 + [429]
    limited = fetch(in_process, "DELETE", path, {"members": users}, token=token)
    assert limited.status == 429
    assert limited.headers["x-ratelimit-limit"] == "20"
    assert limited.body["message"].startswith("Too many requests. Check the X-RateLimit-Limit")
    assert (
        fetch(in_process, "GET", f"/api/v2/organizations/{organization['id']}", token=token).status
        == 200
    )


def test_the_token_endpoint_is_rate_limited_too(tmp_path: Path) -> None:
    # A slow Authentication API bucket, so the test outruns its refill.
    slow = ratelimits.Tier("slow", management=None, authentication=ratelimits.Limit(2, 1, "minute"))
    with LocalTenant.start(tmp_path / "state.json", rate_limits=slow) as tenant:
        answers = [
            fetch(tenant, "POST", "/oauth/token", token_request(tenant), form=True)
            for _ in range(3)
        ]
    assert [a.status for a in answers] == [200, 200, 429]
    assert answers[-1].body == {
        "error": "access_denied",
        "error_description": "Global rate limit exceeded",
    }
    assert answers[0].headers["x-ratelimit-limit"] == "2"
    assert answers[-1].headers["x-ratelimit-remaining"] == "0"


def test_a_free_tenant_gets_30_tokens_a_second() -> None:
    clock = [1_000_000.0]
    limiter = ratelimits.RateLimiter(ratelimits.FREE, clock=lambda: clock[0])
    admitted = [limiter.admit("authentication", RouteName.OAUTH_TOKEN, {}) for _ in range(31)]
    assert [a.allowed for a in admitted] == [True] * 30 + [False]
    assert admitted[-1].bucket == "Get Token"
    clock[0] += 0.1  # refilled by the millisecond: 3 more
    assert [
        limiter.admit("authentication", RouteName.OAUTH_TOKEN, {}).allowed for _ in range(4)
    ] == [
        True,
        True,
        True,
        False,
    ]


def test_the_bucket_refills_as_auth0s_algorithm_says() -> None:
    clock = [1_000_000.0]
    limiter = ratelimits.RateLimiter(
        ratelimits.Tier("t", management=ratelimits.Limit(5, 150, "minute"), authentication=None),
        clock=lambda: clock[0],
    )
    for _ in range(5):
        assert limiter.admit("management", None, {}).allowed
    refused = limiter.admit("management", None, {})
    assert not refused.allowed
    assert refused.bucket == "management"
    # 150 a minute is 2.5 a second, added each whole second: nothing after 0.9 s.
    clock[0] += 0.9
    assert refused.headers["x-ratelimit-reset"] == str(1_000_001)
    assert not limiter.admit("management", None, {}).allowed
    clock[0] += 0.1
    assert [limiter.admit("management", None, {}).allowed for _ in range(3)] == [True, True, False]


def test_the_rate_knob_replaces_the_management_buckets(in_process: LocalTenant) -> None:
    token = in_process.https_api().token()
    assert in_process.management_rate_limit(2)["management_per_second"] == 2
    statuses = [
        fetch(in_process, "GET", "/api/v2/organizations", token=token).status for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    in_process.management_rate_limit(None)
    answer = fetch(in_process, "GET", "/api/v2/organizations", token=token)
    assert answer.status == 200
    assert "x-ratelimit-limit" not in answer.headers
