"""Auth0's own SDKs against the local tenant: the Node SDK at the support article's major
(``auth0-v5``, the one bench/article_action.js is written for) and at the current one
(``auth0``), and auth0-python. Each makes every Management API call the stack, the Action,
adopt, backfill and reconcile make (``node_sdk.js``, ``python_sdk.py``), and meets Auth0's
refusals as Auth0 sends them."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auth0_org_assignment import contract
from auth0_org_assignment.commands.management_client import CALLS
from auth0_org_assignment.node import action_node
from devtools.localtenant import coverage
from devtools.localtenant.testing import LocalTenant
from tests.conformance.conftest import HERE, answer_of, client_env

STACK_CALLS = {
    # What the stack's resources are created with (infra/, auth0_org_assignment/desired_state.py):
    # a connection, the organization and its enabled connection, the Action's application and
    # its grant, a role, the Action deployed and bound to the Login flow.
    "connections.create",
    "organizations.create",
    "organizations.enabled_connections.create",
    "clients.create",
    "client_grants.create",
    "roles.create",
    "actions.create",
    "actions.deploy",
    "actions.bindings.update",
    # What the stack looks up by name (auth0_org_assignment/lookups.py, through the provider):
    # a role (connections.list is a command's call too).
    "roles.list",
    # What a client reads on start: the Management API's resource server, the tenant settings.
    "resource_servers.get",
    "tenants.settings.get",
    # The set-up of a login and of an email domain's proof.
    "users.create",
    "organizations.discovery_domains.create",
}


def expected_calls() -> set[str]:
    routes = coverage.management_routes()
    action_calls = set()
    for endpoint in contract.endpoints():
        route = coverage.serving_route(endpoint.method, endpoint.path, routes)
        assert route is not None, endpoint
        action_calls.add(str(route.name))
    return set(CALLS) | action_calls | STACK_CALLS


# Auth0's answers, as recorded from real tenants by terraform-provider-auth0
# (test/data/recordings/, the file named), or as its documentation gives them.
REFUSALS: dict[str, tuple[int, dict[str, Any]]] = {
    # TestAccDataSourceOrganization.yaml
    "organization-not-found": (
        404,
        {
            "statusCode": 404,
            "error": "Not Found",
            "message": "No organization found by that id or name",
        },
    ),
    # TestAccDataSourceUser.yaml
    "user-not-found": (
        404,
        {
            "statusCode": 404,
            "error": "Not Found",
            "message": "The user does not exist.",
            "errorCode": "inexistent_user",
        },
    ),
    # TestAccDataSourceClientNonexistentID.yaml
    "client-not-found": (
        404,
        {
            "statusCode": 404,
            "error": "Not Found",
            "message": "The client does not exist",
            "errorCode": "inexistent_client",
        },
    ),
    # TestAccDataSourceAction.yaml
    "action-not-found": (
        404,
        {"statusCode": 404, "error": "Not Found", "message": "That action does not exist."},
    ),
}

CLIENTS = ["auth0-v5", "auth0", "auth0-python"]


def run_client(name: str, tenant: LocalTenant, limited: dict[str, str]) -> dict[str, Any]:
    if name == "auth0-python":
        command = [sys.executable, str(HERE / "python_sdk.py")]
    else:
        command = [action_node(), str(HERE / "node_sdk.js"), name]
    env = {
        **client_env(tenant),
        "AUTH0_LIMITED_CLIENT_ID": limited["client_id"],
        "AUTH0_LIMITED_CLIENT_SECRET": limited["client_secret"],
    }
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, cwd=HERE)
    assert done.returncode == 0, done.stderr[-3000:]
    return answer_of(done.stdout)


@pytest.fixture(scope="module", params=CLIENTS)
def answers(
    request: pytest.FixtureRequest, node_modules: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[dict[str, Any], LocalTenant]]:
    """One client's run against a tenant of its own, once for all the checks on it."""
    state = tmp_path_factory.mktemp(request.param) / "state.json"
    with LocalTenant.spawn(state) as tenant:
        limited = tenant.m2m_client("limited", ["read:connections", "update:connections"])
        yield run_client(request.param, tenant, limited), tenant


def test_each_client_makes_every_call_the_project_makes(
    answers: tuple[dict[str, Any], LocalTenant],
) -> None:
    answer, tenant = answers
    assert expected_calls() <= set(answer["calls"])
    # Each call reached the route it is named after (the SDK's path is the tenant's).
    counted = {name for name, count in tenant.calls().items() if count}
    assert set(answer["calls"]) <= counted
    assert tenant.not_emulated() == {"GET /api/v2/rules": 1}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_each_client_meets_auth0s_refusal(
    answers: tuple[dict[str, Any], LocalTenant], case: str
) -> None:
    status, body = REFUSALS[case]
    assert answers[0]["errors"][case] == {"statusCode": status, "body": body}


def test_what_is_not_emulated_says_so(answers: tuple[dict[str, Any], LocalTenant]) -> None:
    refusal = answers[0]["errors"]["not-emulated"]
    assert refusal["statusCode"] == 501
    assert refusal["body"]["errorCode"] == "not_emulated"
    assert "GET /api/v2/rules is not emulated" in refusal["body"]["message"]


def test_a_connections_options_need_the_options_scopes(
    answers: tuple[dict[str, Any], LocalTenant],
) -> None:
    """Get Connection and Get All Connections answer ``options`` only to a token holding
    read:connections_options, and an update of them needs update:connections_options
    (https://auth0.com/docs/troubleshoot/product-lifecycle/deprecations-and-migrations/migrate-connection-options-scope)."""
    options = answers[0]["options"]
    assert options["admin-get"]["options"]
    assert "options" not in options["limited-get"]
    assert [connection.get("options") for connection in options["limited-list"]] == [None]
    assert options["limited-update-options"]["statusCode"] == 403
