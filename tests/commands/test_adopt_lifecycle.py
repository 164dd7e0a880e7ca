"""Adopting the article's hand-made setup with the real engine and provider, on a local tenant:
``auth0-org-assignment adopt``, ``pulumi import``, a preview showing exactly the reported
changes, ``up``, logins, ``destroy``. Like test_lifecycle, it fails under CI when the engine is
missing.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from auth0_org_assignment import action_credential, credentials
from devtools.localstack.local_stack import LocalProject
from devtools.localtenant.testing import DATABASE, LocalTenant
from tests.support.article_setup import article_setup
from tests.support.commands import command_line, operator_environment, run
from tests.support.engine import require_engine

pytestmark = pytest.mark.lifecycle

require_engine()


@pytest.fixture(scope="module")
def adopted(tenant: LocalTenant, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Runs the adoption once, in order; each test below checks one part of what it saw."""
    seen: dict[str, Any] = {"made": article_setup(tenant, "acme-by-hand")}
    made = seen["made"]
    project = LocalProject(tmp_path_factory.mktemp("adopt"), tenant)
    project.init(tenant.m2m_client("pulumi deployer", sorted(credentials.DEPLOY)))
    environment = operator_environment(tenant, "adopt")

    def adopt() -> subprocess.CompletedProcess[str]:
        return run(
            command_line(
                *("adopt", "local", project.directory, "--json", "--rate", "50"),
                *("--organization-id", made["organization_id"]),
            ),
            environment,
        )

    # The article's organization has a logo the stack does not declare: adoption stops, naming
    # it, and goes on once the stack declares it.
    seen["undeclared_branding"] = adopt()
    config = project.config
    organization_config = config["auth0-org-assignment:organization"]
    project.write_config(
        {
            **config,
            "auth0-org-assignment:organization": {
                **organization_config,
                "branding": {"logoUrl": made["logo_url"]},
            },
        }
    )
    result = adopt()
    assert result.returncode == 0, result.stderr
    seen["report"] = json.loads(result.stdout)
    seen["import"] = project.pulumi(
        "import",
        *("--file", ".adopt/local.json"),
        *("--generate-code=false", "--protect=false", "--yes"),
    )
    seen["preview"] = json.loads(project.pulumi("preview", "--json").stdout)
    # The up, then, once the email domain's owner has published its proof, the up that admits.
    seen["up"] = project.up_proven()
    seen["outputs"] = project.outputs()
    seen["preview_after_up"] = project.pulumi(
        "preview", "--diff", "--expect-no-changes", check=False
    )
    seen["action"] = tenant.call("GET", f"/api/v2/actions/actions/{made['action_id']}")
    seen["bound_after_up"] = tenant.bound_action_ids()
    organization = made["organization_id"]
    seen["organization"] = tenant.call("GET", f"/api/v2/organizations/{organization}")
    seen["members"] = tenant.members(organization)
    user = tenant.sign_up("late@example.com", DATABASE, verified=True)
    seen["login"] = tenant.login(user["user_id"], DATABASE)
    seen["new_member"] = user["user_id"]
    seen["members_after_login"] = tenant.members(organization)
    seen["destroy"] = project.pulumi("destroy", "--yes", "--skip-preview")
    seen["organizations_after_destroy"] = [
        o["id"] for o in tenant.call("GET", "/api/v2/organizations")
    ]
    seen["clients_after_destroy"] = [c["client_id"] for c in tenant.call("GET", "/api/v2/clients")]
    seen["bound_after_destroy"] = tenant.bound_action_ids()
    return seen


def test_branding_the_stack_does_not_declare_stops_adoption_naming_it(
    adopted: dict[str, Any],
) -> None:
    stopped = adopted["undeclared_branding"]
    assert stopped.returncode == 2
    assert "has branding (logo_url https://static.example.com/acme.png)" in stopped.stderr
    assert "auth0-org-assignment:organization.branding does not declare" in stopped.stderr


def test_the_import_adopts_every_resource_and_the_component(adopted: dict[str, Any]) -> None:
    # The client, its grant, the organization, its connection, the Action, its binding, the
    # component: no ClientCredentials, which would read the application's secret into state.
    assert "7 imported" in adopted["import"].output


def test_the_first_preview_changes_exactly_what_adopt_reported_and_replaces_nothing(
    adopted: dict[str, Any],
) -> None:
    steps = adopted["preview"]["steps"]
    assert {step["op"] for step in steps} <= {"same", "update", "create"}, [
        (s["op"], s["urn"]) for s in steps if s["op"] not in ("same", "update", "create")
    ]
    # Created, as reported: the second application and its grant, and the Action's credential,
    # which writes the secrets (the report's change of them is the credential's).
    created = {step["urn"].rsplit("::", 1)[1] for step in steps if step["op"] == "create"}
    assert {
        "org-assignment-m2m-client-b",
        "org-assignment-management-api-grant-b",
        "org-assignment-action-credential",
    } <= created
    previewed = {
        (step["urn"].rsplit("::", 1)[1], reason)
        for step in steps
        if step["op"] == "update"
        for reason in step.get("diffReasons", [])
    }
    reported = {(c["resource"], c["property"]) for c in adopted["report"]["changes"]}
    assert previewed == {change for change in reported if change[0] not in created}
    assert ("org-assignment-action-credential", "secrets") in reported
    assert len(reported) >= 8, reported


def test_up_keeps_the_organization_its_members_and_the_action_in_its_place(
    adopted: dict[str, Any],
) -> None:
    made = adopted["made"]
    assert adopted["outputs"]["organization_id"] == made["organization_id"]
    # The adopted application is kept (the first slot), its secret, pasted by hand, retired:
    # the Action uses the second application, whose secret only the Action holds.
    assert adopted["outputs"]["m2m_client_id"] != made["client_id"]
    assert adopted["outputs"]["action_id"] == made["action_id"]
    assert made["member"] in adopted["members"]
    assert adopted["organization"]["name"] == "acme-local"
    assert adopted["organization"]["branding"]["logo_url"] == adopted["made"]["logo_url"]
    assert adopted["bound_after_up"] == [made["other_action_id"], made["action_id"]]
    assert adopted["preview_after_up"].returncode == 0, adopted["preview_after_up"].output


def test_the_action_gets_the_stack_secrets_and_loses_the_article_ones(
    adopted: dict[str, Any],
) -> None:
    action = adopted["action"]
    names = sorted(s["name"] for s in action["secrets"])
    assert [name for name in names if not name.startswith(action_credential.MARKER)] == [
        "CLIENT_ID",
        "CLIENT_SECRET",
        "TENANT_DOMAIN",
    ]
    assert len(names) == 4
    assert action["dependencies"] == []
    assert action["runtime"] == "node22"


def test_a_login_after_adoption_assigns(adopted: dict[str, Any]) -> None:
    assert adopted["new_member"] in adopted["members_after_login"], adopted["login"]


def test_destroy_removes_what_was_adopted_and_nothing_else(adopted: dict[str, Any]) -> None:
    made = adopted["made"]
    assert made["organization_id"] not in adopted["organizations_after_destroy"]
    assert made["client_id"] not in adopted["clients_after_destroy"]
    assert adopted["bound_after_destroy"] == [made["other_action_id"]]
