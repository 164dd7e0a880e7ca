"""The whole lifecycle with the real Pulumi engine and auth0 provider, on a local tenant.

Needs ``scripts/engine`` (``scripts/test`` runs it). Without an engine the test is skipped,
except under CI, where a missing engine fails: a lifecycle that did not run must not pass.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from auth0_org_assignment import credentials
from devtools.localstack.local_stack import STACK, LocalProject
from devtools.localtenant.route_names import RouteName
from devtools.localtenant.testing import DATABASE, LocalTenant
from tests.support.engine import require_engine

pytestmark = pytest.mark.lifecycle

require_engine()

MEMBERS = RouteName.ORGANIZATIONS_MEMBERS_CREATE
TOKEN = RouteName.OAUTH_TOKEN


def inventory(tenant: LocalTenant) -> dict[str, Any]:
    """Everything in the tenant that a stack could create or touch, by id."""
    return {
        "clients": sorted(c["client_id"] for c in tenant.call("GET", "/api/v2/clients")),
        "grants": sorted(g["id"] for g in tenant.call("GET", "/api/v2/client-grants")),
        "organizations": sorted(o["id"] for o in tenant.call("GET", "/api/v2/organizations")),
        "actions": sorted(
            a["id"] for a in tenant.call("GET", "/api/v2/actions/actions")["actions"]
        ),
        "bindings": tenant.bound_action_ids(),
        "connections": sorted(c["id"] for c in tenant.call("GET", "/api/v2/connections")),
    }


def hand_made_action(tenant: LocalTenant) -> str:
    """An Action someone bound in the dashboard, as the support article has them do."""
    action_id = tenant.deploy_action(
        "hand-made-post-login", "exports.onExecutePostLogin = async () => {};", runtime="node22"
    )
    tenant.bind_actions(action_id)
    return action_id


def sign_up(tenant: LocalTenant, email: str) -> dict[str, Any]:
    """A user of the database connection with a verified address: one the local stack admits."""
    return tenant.sign_up(email, DATABASE, verified=True)


@pytest.fixture(scope="module")
def project(tenant: LocalTenant, tmp_path_factory: pytest.TempPathFactory) -> LocalProject:
    local = LocalProject(tmp_path_factory.mktemp("lifecycle"), tenant)
    deployer = tenant.m2m_client("pulumi deployer", sorted(credentials.DEPLOY))
    local.init(deployer)
    return local


def before_names(project: LocalProject) -> list[str]:
    """Rename, in the state, each organization resource to its name from before resources were
    named by their organization (`pulumi state rename`); the names it gave them."""
    exported = json.loads(project.pulumi("stack", "export").stdout)
    prefix = "org-assignment-"
    renamed = []
    for resource in exported["deployment"]["resources"]:
        name = resource["urn"].rsplit("::", 1)[-1]
        for kind in ("organization", "connection", "discovery-domain"):
            if name.startswith(f"{prefix}{kind}-acme-local"):
                before = f"{prefix}{kind}{name.removeprefix(f'{prefix}{kind}-acme-local')}"
                project.pulumi("state", "rename", resource["urn"], before, "--yes")
                renamed.append(before)
    return sorted(renamed)


@pytest.fixture(scope="module")
def lifecycle(tenant: LocalTenant, project: LocalProject) -> dict[str, Any]:
    """Runs the lifecycle once, in order; each test below checks one part of what it saw."""
    seen: dict[str, Any] = {"before": None}
    seen["hand_made"] = hand_made_action(tenant)
    # Drift checks run with read-only credentials; a pull request's preview with none.
    reader = tenant.m2m_client("pulumi drift check", sorted(credentials.DRIFT))
    seen["before"] = inventory(tenant)
    seen["up"] = project.pulumi("up", "--yes", "--skip-preview")
    seen["outputs"] = project.outputs()
    m2m = tenant.call("GET", f"/api/v2/clients/{seen['outputs']['m2m_client_id']}")
    seen["m2m_secret"] = m2m["client_secret"]
    seen["after_up"] = inventory(tenant)
    # The email domain admits nobody until its owner publishes the record Auth0 named for it;
    # the next up finds it.
    seen["proven"] = project.prove_domains()
    seen["proven_up"] = project.pulumi("up", "--yes", "--skip-preview")
    seen["second_up"] = project.pulumi("up", "--yes", "--expect-no-changes")
    # A stack deployed when the first organization's resources had no organization in their
    # names (`…-organization`, `…-connection-<c>`, `…-discovery-domain-<d>`) keeps them: its
    # next up renames them, creating, replacing and deleting nothing.
    seen["before_names"] = before_names(project)
    seen["renamed_up"] = project.pulumi("up", "--yes", "--expect-no-changes")
    seen["renamed_outputs"] = project.outputs()

    project.use_credentials(reader)
    seen["refresh_preview"] = project.pulumi("preview", "--refresh", "--expect-no-changes")
    # A pull request's preview holds no Auth0 credential (the script drops the reader's).
    tenant.call("DELETE", "/localtenant/calls")
    seen["pull_request_preview"] = project.script(
        "pull-request-preview", STACK, "--expect-no-changes"
    )
    seen["pull_request_preview_calls"] = tenant.calls()

    # Logins, through the Action exactly as deployed.
    user = sign_up(tenant, "ada@example.com")
    before_logins = tenant.calls()
    seen["first_login"] = tenant.login(user["user_id"], DATABASE)
    after_first = tenant.calls()
    seen["repeat_logins"] = [tenant.login(user["user_id"], DATABASE) for _ in range(3)]
    seen["calls_first_login"] = {
        k: after_first.get(k, 0) - before_logins.get(k, 0) for k in after_first
    }
    after_repeats = tenant.calls()
    seen["calls_repeat_logins"] = {
        k: after_repeats.get(k, 0) - after_first.get(k, 0) for k in after_repeats
    }

    # A configuration change previews as that diff, then applies.
    project.use_credentials(project.deployer)
    config = project.config
    config["auth0-org-assignment:connections"] = [
        "Username-Password-Authentication",
        "google-oauth2",
    ]
    config["auth0-org-assignment:action"] = {
        **config["auth0-org-assignment:action"],
        "timeBudgetMs": 2000,
    }
    project.write_config(config)
    seen["change_preview"] = project.pulumi("preview", "--diff")
    seen["change_up"] = project.pulumi("up", "--yes", "--skip-preview")
    seen["after_change_up"] = project.pulumi("up", "--yes", "--expect-no-changes")

    # Roles: an unknown one fails the preview naming it; a known one is given on joining, and
    # the grant gains exactly the scope that needs.
    config = project.config
    organization = config["auth0-org-assignment:organization"]
    project.write_config(
        {**config, "auth0-org-assignment:organization": {**organization, "roles": ["auditor"]}}
    )
    seen["unknown_role_preview"] = project.pulumi("preview", check=False)
    role = tenant.call("POST", "/api/v2/roles", {"name": "auditor"})
    seen["roles_up"] = project.pulumi("up", "--yes", "--skip-preview")
    linus = sign_up(tenant, "linus@example.com")
    seen["role_login"] = tenant.login(linus["user_id"], DATABASE)
    organization_id = seen["outputs"]["organization_id"]
    seen["linus_roles"] = tenant.call(
        "GET", f"/api/v2/organizations/{organization_id}/members/{linus['user_id']}/roles"
    )
    seen["role_id"] = role["id"]
    m2m = seen["outputs"]["m2m_client_id"]
    seen["grant_with_roles"] = tenant.call("GET", f"/api/v2/client-grants?client_id={m2m}")

    # Removing every metadata entry clears them in the tenant, with no diff left behind.
    config = project.config
    config["auth0-org-assignment:organization"] = {
        **config["auth0-org-assignment:organization"],
        "metadata": {},
    }
    project.write_config(config)
    seen["metadata_up"] = project.pulumi("up", "--yes", "--skip-preview")
    organization = tenant.call("GET", f"/api/v2/organizations/{seen['outputs']['organization_id']}")
    seen["metadata_after"] = organization.get("metadata")
    seen["metadata_refresh"] = project.pulumi(
        "preview", "--refresh", "--expect-no-changes", check=False
    )

    # Branding removed from the stack file: the provider cannot clear it, so the program
    # refuses to go on until it is cleared by hand; then `up --refresh` passes.
    config = project.config
    organization = config["auth0-org-assignment:organization"]
    branded = {"logoUrl": "https://static.example.com/acme.png"}
    project.write_config(
        {**config, "auth0-org-assignment:organization": {**organization, "branding": branded}}
    )
    seen["branding_up"] = project.pulumi("up", "--yes", "--skip-preview")
    config = project.config
    organization = dict(config["auth0-org-assignment:organization"])
    del organization["branding"]
    project.write_config({**config, "auth0-org-assignment:organization": organization})
    seen["branding_removed_preview"] = project.pulumi("preview", check=False)
    organization_id = seen["outputs"]["organization_id"]
    tenant.call("PATCH", f"/api/v2/organizations/{organization_id}", {"branding": {}})
    seen["branding_cleared_up"] = project.pulumi("up", "--yes", "--refresh", "--skip-preview")
    seen["branding_after"] = tenant.call("GET", f"/api/v2/organizations/{organization_id}").get(
        "branding"
    )

    # The documented secret rotation (docs/deploy.md): raise action.credentialRotation, then
    # `pulumi up`.
    grace = sign_up(tenant, "grace@example.com")
    seen["login_before_rotation"] = tenant.login(grace["user_id"], DATABASE)
    config = project.config
    action = config["auth0-org-assignment:action"]
    project.write_config(
        {**config, "auth0-org-assignment:action": {**action, "credentialRotation": 1}}
    )
    seen["rotation_up"] = project.pulumi("up", "--yes", "--skip-preview")
    seen["rotated_client"] = project.outputs()["m2m_client_id"]
    seen["rotated_secret"] = tenant.call("GET", f"/api/v2/clients/{seen['rotated_client']}")[
        "client_secret"
    ]
    hopper = sign_up(tenant, "hopper@example.com")
    seen["login_with_new_secret"] = tenant.login(hopper["user_id"], DATABASE)

    # A change made by hand in the tenant: the drift check must fail.
    organization_id = seen["outputs"]["organization_id"]
    google = next(
        c for c in tenant.call("GET", "/api/v2/connections") if c["name"] == "google-oauth2"
    )
    tenant.call("DELETE", f"/api/v2/organizations/{organization_id}/connections/{google['id']}")
    project.use_credentials(reader)
    seen["drift"] = project.pulumi("preview", "--refresh", "--expect-no-changes", check=False)
    seen["drift_check"] = project.script("drift-check", "local")
    project.use_credentials({"client_id": reader["client_id"], "client_secret": "wrong"})
    seen["drift_check_bad_credentials"] = project.script("drift-check", "local")
    project.use_credentials(project.deployer)
    seen["repair"] = project.pulumi("up", "--yes", "--refresh", "--skip-preview")

    # Prod's deploy: a plan is saved, reviewed, and `up` applies exactly it, or fails when the
    # tenant moved in between. (Plans are experimental in Pulumi: PULUMI_EXPERIMENTAL.)
    plan = project.workdir / "plan.json"
    config = project.config
    action = config["auth0-org-assignment:action"]
    project.write_config(
        {**config, "auth0-org-assignment:action": {**action, "timeBudgetMs": 2200}}
    )
    seen["plan_preview"] = project.pulumi(
        "preview", "--refresh", "--diff", "--save-plan", str(plan), PULUMI_EXPERIMENTAL="1"
    )
    seen["plan_text"] = plan.read_text(encoding="utf-8")
    seen["plan_up"] = project.pulumi(
        "up", "--yes", "--refresh", "--plan", str(plan), check=False, PULUMI_EXPERIMENTAL="1"
    )
    project.write_config(
        {**config, "auth0-org-assignment:action": {**action, "timeBudgetMs": 2300}}
    )
    project.pulumi("preview", "--refresh", "--save-plan", str(plan), PULUMI_EXPERIMENTAL="1")
    tenant.call("DELETE", f"/api/v2/organizations/{organization_id}/connections/{google['id']}")
    seen["moved_plan_up"] = project.pulumi(
        "up", "--yes", "--refresh", "--plan", str(plan), check=False, PULUMI_EXPERIMENTAL="1"
    )
    project.pulumi("up", "--yes", "--refresh", "--skip-preview")

    seen["export"] = project.pulumi("stack", "export")
    seen["destroy"] = project.pulumi("destroy", "--yes", "--skip-preview")
    seen["after_destroy"] = inventory(tenant)
    seen["other_secrets"] = [
        project.deployer["client_secret"],
        reader["client_secret"],
    ]
    return seen


def test_up_creates_everything_and_a_second_up_changes_nothing(lifecycle: dict[str, Any]) -> None:
    # The two applications (ActionCredential switches between them) and their grants, the
    # organization, its connection, the email domain's discovery domain and proof, the Action,
    # the credential written into it, its binding, the component, the stack.
    assert "13 created" in lifecycle["up"].output
    assert lifecycle["proven"] == ["example.com"]
    assert "2 updated" in lifecycle["proven_up"].output
    before, after = lifecycle["before"], lifecycle["after_up"]
    # The Action's two applications (ActionCredential switches between them), with a grant each.
    assert len(after["clients"]) == len(before["clients"]) + 2
    assert len(after["grants"]) == len(before["grants"]) + 2
    assert len(after["organizations"]) == 1
    assert len(after["actions"]) == len(before["actions"]) + 1
    assert lifecycle["second_up"].returncode == 0


def test_a_stack_deployed_before_resources_were_named_by_organization_keeps_them(
    lifecycle: dict[str, Any],
) -> None:
    assert lifecycle["before_names"] == [
        "org-assignment-connection-Username-Password-Authentication",
        "org-assignment-discovery-domain-example.com",
        "org-assignment-organization",
    ]
    assert (
        lifecycle["renamed_outputs"]["organization_id"] == lifecycle["outputs"]["organization_id"]
    )
    output = lifecycle["renamed_up"].output
    assert "created" not in output, output
    assert "deleted" not in output, output


def test_refresh_preview_passes_with_exactly_the_drift_scopes(lifecycle: dict[str, Any]) -> None:
    assert lifecycle["refresh_preview"].returncode == 0


def test_pull_request_preview_needs_no_auth0_credential(lifecycle: dict[str, Any]) -> None:
    assert lifecycle["pull_request_preview"].returncode == 0, lifecycle["pull_request_preview"]
    assert lifecycle["pull_request_preview_calls"] == {}


def test_logins_assign_and_repeat_logins_make_no_management_call(
    lifecycle: dict[str, Any],
) -> None:
    first = lifecycle["first_login"]
    assert first["member_of"] == [lifecycle["outputs"]["organization_id"]]
    assert first["denied"] is None
    assert lifecycle["calls_first_login"].get(MEMBERS) == 1
    assert lifecycle["calls_first_login"].get(TOKEN) == 1
    for repeat in lifecycle["repeat_logins"]:
        assert repeat["member_of"] == first["member_of"]
    # The admin's own /localtenant calls are not Management API routes, so nothing is counted.
    assert sum(lifecycle["calls_repeat_logins"].values()) == 0


def test_a_config_change_previews_as_that_diff_and_applies(lifecycle: dict[str, Any]) -> None:
    preview = lifecycle["change_preview"].output
    assert "auth0:index/organizationConnection:OrganizationConnection" in preview
    assert "org-assignment-connection-acme-local-google-oauth2" in preview
    assert '"timeBudgetMs": 2000' in preview
    assert "1 to create" in preview
    assert lifecycle["change_up"].returncode == 0
    assert lifecycle["after_change_up"].returncode == 0


def test_roles_are_looked_up_given_on_joining_and_granted_exactly(
    lifecycle: dict[str, Any],
) -> None:
    unknown = lifecycle["unknown_role_preview"]
    assert unknown.returncode != 0
    assert "auditor" in unknown.output
    assert lifecycle["roles_up"].returncode == 0
    assert lifecycle["role_login"]["denied"] is None
    assert [r["id"] for r in lifecycle["linus_roles"]] == [lifecycle["role_id"]]
    (grant,) = lifecycle["grant_with_roles"]
    assert sorted(grant["scope"]) == [
        "create:organization_member_roles",
        "create:organization_members",
    ]


def test_removing_all_metadata_clears_it_in_the_tenant(lifecycle: dict[str, Any]) -> None:
    assert lifecycle["metadata_after"] in ({}, None)
    assert lifecycle["metadata_refresh"].returncode == 0, lifecycle["metadata_refresh"].output


def test_branding_removed_from_the_stack_file_is_refused_until_cleared_by_hand(
    lifecycle: dict[str, Any],
) -> None:
    assert lifecycle["branding_up"].returncode == 0
    refused = lifecycle["branding_removed_preview"]
    assert refused.returncode != 0
    assert "organization 'acme-local' has branding in the tenant (logo_url)" in refused.output
    assert "pulumi up --refresh" in refused.output
    assert lifecycle["branding_cleared_up"].returncode == 0
    assert not lifecycle["branding_after"]


def test_raising_credential_rotation_switches_the_action_to_the_other_application(
    lifecycle: dict[str, Any],
) -> None:
    before = lifecycle["login_before_rotation"]
    assert before["member_of"] == [lifecycle["outputs"]["organization_id"]]
    assert lifecycle["rotation_up"].returncode == 0
    assert "org-assignment-action-credential" in lifecycle["rotation_up"].output
    assert lifecycle["rotated_client"] != lifecycle["outputs"]["m2m_client_id"]
    after = lifecycle["login_with_new_secret"]
    assert after["member_of"] == [lifecycle["outputs"]["organization_id"]]
    # The token is sealed under a cache key derived from the credential: with the new one the
    # Action looks elsewhere, finds nothing, and fetches a token with the new secret.
    (report,) = after["executions"][-1]["logs"]
    assert json.loads(report)["token"] == "fetched"


def test_an_action_bound_by_hand_stays_bound(lifecycle: dict[str, Any]) -> None:
    hand_made = lifecycle["hand_made"]
    assert lifecycle["after_up"]["bindings"][0] == hand_made
    assert lifecycle["after_up"]["bindings"][-1] == lifecycle["outputs"]["action_id"]
    assert lifecycle["after_destroy"]["bindings"] == [hand_made]


def test_a_change_made_by_hand_fails_the_drift_check(lifecycle: dict[str, Any]) -> None:
    drift = lifecycle["drift"]
    assert drift.returncode != 0
    assert "org-assignment-connection-acme-local-google-oauth2" in drift.output
    assert lifecycle["repair"].returncode == 0


def test_the_drift_check_tells_drift_from_a_check_that_could_not_run(
    lifecycle: dict[str, Any],
) -> None:
    drift = lifecycle["drift_check"]
    assert drift.returncode == 2
    assert "## Drift in stack `local`" in drift.stdout
    failed = lifecycle["drift_check_bad_credentials"]
    assert failed.returncode == 1
    assert "could not run" in failed.stdout
    assert "wrong" not in failed.output


def test_up_applies_exactly_the_saved_plan_or_fails_when_the_tenant_moved(
    lifecycle: dict[str, Any],
) -> None:
    assert '"timeBudgetMs": 2200' in lifecycle["plan_preview"].output
    assert lifecycle["plan_up"].returncode == 0, lifecycle["plan_up"].output
    assert lifecycle["m2m_secret"] not in lifecycle["plan_text"]
    moved = lifecycle["moved_plan_up"]
    assert moved.returncode != 0
    assert "plan" in moved.output.lower()


def test_destroy_removes_what_the_stack_made_and_nothing_else(lifecycle: dict[str, Any]) -> None:
    assert lifecycle["after_destroy"] == lifecycle["before"]


def test_no_secret_in_plain_text_in_state_or_any_output(
    lifecycle: dict[str, Any], project: LocalProject, tenant: LocalTenant
) -> None:
    state = json.loads(lifecycle["export"].stdout)
    secrets = [
        lifecycle["m2m_secret"],
        lifecycle["rotated_secret"],
        *lifecycle["other_secrets"],
        tenant.admin_credentials["client_secret"],
    ]
    texts = [run.output for run in project.runs] + [json.dumps(state)]
    for text in texts:
        for secret in secrets:
            assert secret not in text
    assert '"ciphertext"' in json.dumps(state)
