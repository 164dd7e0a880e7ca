"""The floor the tier's write limits set (bench/deploycli_bench.py), against the figures of
Auth0's Rate Limit Configurations pages worked out by hand; and the Deploy CLI's file for the
scale benchmark's organizations."""

from __future__ import annotations

from collections import Counter

import pytest

from auth0_org_assignment import rate_limits
from auth0_org_assignment.config import parse_config
from bench.deploycli_bench import (
    SIDE_BY_SIDE,
    Floor,
    Measured,
    floor,
    side_by_side_row,
    tenant_yaml,
    writes,
)
from bench.scale_bench import DATABASE, stack
from devtools.localtenant.route_names import RouteName

ORGANIZATIONS = RouteName.ORGANIZATIONS_CREATE
CONNECTIONS = RouteName.ORGANIZATIONS_CONNECTIONS_CREATE
ENABLED = RouteName.ORGANIZATIONS_ENABLED_CONNECTIONS_CREATE
DOMAINS = RouteName.ORGANIZATIONS_DISCOVERY_DOMAINS_CREATE


def test_the_benchmarks_organizations_make_one_create_each_and_one_per_connection_and_domain() -> (
    None
):
    # 3 email domains each, under 2 registered domains; one connection.
    assert writes(parse_config(stack(7), "bench")) == Counter(
        {ORGANIZATIONS: 7, CONNECTIONS: 7, DOMAINS: 14}
    )


def test_a_bucket_admits_its_burst_at_once() -> None:
    within = floor(Counter({ORGANIZATIONS: 5, CONNECTIONS: 5, DOMAINS: 40}))
    assert (within.seconds, within.bucket) == (0.0, "none")
    # One past the burst of "Write Organizations": 1 / 2.5 a second.
    assert floor(Counter({ORGANIZATIONS: 6})).seconds == pytest.approx(0.4)


def test_at_enterprise_production_100_organizations_take_38_s_of_write_organizations() -> None:
    # "Write Organizations" and "Write Organization Connections": 5, then 150 a minute:
    # (100 - 5) / 2.5 = 38 s each; the API's bucket, 50 then 16 a second: (400 - 50) / 16.
    found = floor(Counter({ORGANIZATIONS: 100, CONNECTIONS: 100, DOMAINS: 200}))
    assert found.seconds == pytest.approx(38.0)
    assert found.bucket == "Write Organizations"
    assert found.requests == 100


def test_organization_connections_have_their_own_bucket_whichever_route_enables_them() -> None:
    found = floor(Counter({ORGANIZATIONS: 10, CONNECTIONS: 100, ENABLED: 100}))
    assert (found.bucket, found.requests) == ("Write Organization Connections", 200)
    assert found.seconds == pytest.approx((200 - 5) / 2.5)


def test_the_apis_own_bucket_sets_the_floor_when_no_endpoint_bucket_holds_the_writes() -> None:
    found = floor(Counter({ORGANIZATIONS: 5, DOMAINS: 1000}))
    assert (found.bucket, found.requests) == ("Management API", 1005)
    assert found.seconds == pytest.approx((1005 - 50) / 16, abs=0.001)


def test_at_the_free_tier_the_apis_bucket_of_2_a_second_sets_it() -> None:
    found = floor(Counter({ORGANIZATIONS: 100, CONNECTIONS: 100}), rate_limits.tier("free"))
    assert found.bucket == "Management API"
    assert found.seconds == pytest.approx((200 - 2) / 2, abs=0.001)


def test_the_deploy_cli_file_holds_the_organizations_connections_and_discovery_domains() -> None:
    document = tenant_yaml(parse_config(stack(2), "bench"))
    assert document["organizations"][1] == {
        "name": "customer-00001",
        "display_name": "Customer 00001",
        "connections": [
            {
                "name": DATABASE,
                "assign_membership_on_login": False,
                "organization_access_level": "none",
            }
        ],
        "discovery_domains": [
            {
                "domain": domain,
                "status": "pending",
                "use_for_organization_discovery": False,
            }
            for domain in ("customer00001.com", "customer00001-group.co.uk")
        ],
    }


def test_the_side_by_side_row_sets_up_beside_the_import_and_each_against_the_floor() -> None:
    imported = Measured(100, 76.0, 500, 100, Floor(38.0, "Write Organizations", 100))
    cells = side_by_side_row((127.0, 1657, 985), imported).strip("|").split("|")
    assert [cell.strip() for cell in cells] == [
        "100",
        "127.0 s",
        "1657, 985",
        "76.0 s",
        "500, 100",
        "1.67",  # 127 / 76
        "38.0 s (Write Organizations)",
        "3.34",  # 127 / 38
        "2.00",  # 76 / 38
    ]
    assert len(cells) == SIDE_BY_SIDE.splitlines()[0].count("|") - 1
    not_measured = side_by_side_row(None, imported).strip("|").split("|")
    assert [cell.strip() for cell in not_measured][1:3] == ["-", "-"]
