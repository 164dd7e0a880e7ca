"""COVERAGE.md is generated from the route table and the Node SDK's endpoint list, and is kept
up to date."""

from __future__ import annotations

from pathlib import Path

from devtools.localtenant import coverage


def test_coverage_list_is_up_to_date(node_modules: Path) -> None:
    assert coverage.main(["--check"]) == 0, "run python -m devtools.localtenant.coverage"


def test_every_route_is_an_endpoint_of_auth0s(node_modules: Path) -> None:
    """A route the SDK's list does not name would be one Auth0 does not have (a misspelt path)."""
    endpoints = coverage.sdk_endpoints()
    routes = coverage.management_routes()
    served = {
        route.name
        for method, path in endpoints
        if (route := coverage.serving_route(method, path, routes)) is not None
    }
    assert [route.name for route in routes if route.name not in served] == []


def test_the_list_marks_served_and_not_served(node_modules: Path) -> None:
    text = coverage.render(coverage.sdk_endpoints(), coverage.sdk_version())
    assert "- [x] `GET /organizations/{id}/enabled_connections/{connectionId}`" in text
    assert "- [ ] `GET /rules`" in text
