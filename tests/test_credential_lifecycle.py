"""No Auth0 secret in any state a preview reads: the real engine, ``ActionCredential``, a local
tenant.

After ``up``, ``pulumi stack export --show-secrets`` (what any job that can decrypt the state
reads, a pull-request preview's included) holds no secret of any application of the tenant, as
the tenant itself stores them. A rotation (``action.credentialRotation`` raised) switches the
Action to the other application while logins go on, with a secret that Auth0 takes only after a
delay, and not one login fails.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from auth0_org_assignment import credentials
from devtools.localstack.local_stack import LocalProject
from devtools.localtenant.testing import DATABASE, LocalTenant
from tests.support.engine import require_engine

pytestmark = pytest.mark.lifecycle

require_engine()

ROTATION_DELAY_S = 2
LOGIN_INTERVAL_S = 0.05
"""Auth0: "New secrets may be delayed up to thirty seconds while rotating"."""


def tenant_secrets(tenant: LocalTenant) -> dict[str, str]:
    """Every application's secret, as the tenant stores it (the admin reads client keys)."""
    return {
        client["client_id"]: client["client_secret"]
        for client in tenant.call("GET", "/api/v2/clients")
        if client.get("client_secret")
    }


def leaked(text: str, secrets: dict[str, str]) -> list[str]:
    """The ids of the applications whose secret appears in ``text``."""
    return sorted(client_id for client_id, secret in secrets.items() if secret in text)


class Logins:
    """Users signing up and logging in, one after another, each login needing a token (the
    trigger's api.cache emptied first), until stopped. Each adds a member, faster than Auth0's
    "Write Organization Members" limit allows (200 a minute): the tenant is unlimited meanwhile,
    so that a 429 never hides or fakes what the credential does."""

    def __init__(self, tenant: LocalTenant) -> None:
        self.tenant = tenant
        self.results: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Logins:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=120)

    def _run(self) -> None:
        while not self._stop.is_set():
            user = self.tenant.sign_up(
                f"during-{len(self.results)}@example.com", DATABASE, verified=True
            )
            self.tenant.evict_cache()
            self.results.append(self.tenant.login(user["user_id"], DATABASE))
            self._stop.wait(LOGIN_INTERVAL_S)


@pytest.fixture(scope="module")
def deployed(tenant: LocalTenant, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    project = LocalProject(tmp_path_factory.mktemp("credential"), tenant)
    project.init(tenant.m2m_client("pulumi deployer", sorted(credentials.DEPLOY)))
    reader = tenant.m2m_client("pulumi drift check", sorted(credentials.DRIFT))
    tenant.set_secret_rotation_delay_s(ROTATION_DELAY_S)
    seen: dict[str, Any] = {"project": project}
    seen["up"] = project.up_proven()
    seen["outputs"] = project.outputs()
    seen["export"] = project.pulumi("stack", "export", "--show-secrets").stdout
    seen["secrets_after_up"] = tenant_secrets(tenant)
    organization = seen["outputs"]["organization_id"]
    ada = tenant.sign_up("ada@example.com", DATABASE, verified=True)
    seen["login_after_up"] = tenant.login(ada["user_id"], DATABASE)

    # The drift check's read-only credentials see no change; a secret pasted by hand is one.
    project.use_credentials(reader)
    seen["refresh"] = project.pulumi("preview", "--refresh", "--expect-no-changes", check=False)
    action = seen["outputs"]["action_id"]
    names = [s["name"] for s in tenant.call("GET", f"/api/v2/actions/actions/{action}")["secrets"]]
    tenant.call(
        "PATCH",
        f"/api/v2/actions/actions/{action}",
        {"secrets": [{"name": name, "value": "pasted by hand"} for name in names]},
    )
    seen["drift"] = project.pulumi("preview", "--refresh", "--expect-no-changes", check=False)
    project.use_credentials(project.deployer)
    seen["repair"] = project.pulumi("up", "--yes", "--refresh", "--skip-preview")
    seen["after_repair"] = project.outputs()

    # A rotation while users keep logging in.
    config = project.config
    config["auth0-org-assignment:action"] = {
        **config["auth0-org-assignment:action"],
        "credentialRotation": 1,
    }
    project.write_config(config)
    seen["rotation_preview"] = project.pulumi("preview", "--diff")
    tenant.rate_limit_tier("unlimited")
    with Logins(tenant) as logins:
        seen["rotation_up"] = project.pulumi("up", "--yes", "--skip-preview")
    tenant.rate_limit_tier("enterprise-production")
    seen["logins_during_rotation"] = logins.results
    seen["after_rotation"] = project.outputs()
    seen["export_after_rotation"] = project.pulumi("stack", "export", "--show-secrets").stdout
    seen["secrets_after_rotation"] = tenant_secrets(tenant)
    tenant.evict_cache()
    grace = tenant.sign_up("grace@example.com", DATABASE, verified=True)
    seen["login_after_rotation"] = tenant.login(grace["user_id"], DATABASE)
    seen["no_op"] = project.pulumi("up", "--yes", "--expect-no-changes", check=False)
    seen["organization"] = organization
    seen["outputs_of_every_run"] = "\n".join(run.output for run in project.runs)
    seen["destroy"] = project.pulumi("destroy", "--yes", "--skip-preview")
    return seen


def test_the_state_holds_no_secret_of_any_application_of_the_tenant(
    deployed: dict[str, Any],
) -> None:
    secrets = deployed["secrets_after_up"]
    # The tenant's applications: the admin, the deployer, the drift check's, and the Action's two.
    assert len(secrets) >= 5
    assert leaked(deployed["export"], secrets) == []
    assert leaked(deployed["export_after_rotation"], deployed["secrets_after_rotation"]) == []
    assert leaked(deployed["outputs_of_every_run"], deployed["secrets_after_rotation"]) == []
    # What holds the Action's credential in state is ids and stamps: no ClientCredentials.
    state = json.loads(deployed["export"])
    types = {resource["type"] for resource in state["deployment"]["resources"]}
    assert "auth0:index/clientCredentials:ClientCredentials" not in types
    assert "pulumi-python:dynamic:Resource" in types


def test_the_action_holds_the_credential_and_a_login_assigns(deployed: dict[str, Any]) -> None:
    login = deployed["login_after_up"]
    assert login["member_of"] == [deployed["organization"]], login
    (report,) = login["executions"][-1]["logs"]
    assert json.loads(report)["token"] == "fetched"


def test_secrets_written_by_hand_are_drift_and_up_writes_them_again(
    deployed: dict[str, Any],
) -> None:
    assert deployed["refresh"].returncode == 0, deployed["refresh"].output
    drift = deployed["drift"]
    assert drift.returncode != 0
    assert "org-assignment-action-credential" in drift.output
    assert "in_tenant" in drift.output
    assert deployed["repair"].returncode == 0


def test_a_rotation_switches_the_application_and_no_login_fails_meanwhile(
    deployed: dict[str, Any],
) -> None:
    assert "org-assignment-action-credential" in deployed["rotation_preview"].output
    assert deployed["rotation_up"].returncode == 0
    during = deployed["logins_during_rotation"]
    assert len(during) >= 3, "too few logins ran during the rotation to show anything"
    failed = [login for login in during if login["member_of"] != [deployed["organization"]]]
    assert not failed, (len(failed), len(during), failed[0]["executions"][-1]["logs"])
    before = deployed["after_repair"]["m2m_client_id"]
    after = deployed["after_rotation"]["m2m_client_id"]
    assert after != before
    assert deployed["login_after_rotation"]["member_of"] == [deployed["organization"]]
    assert deployed["no_op"].returncode == 0, deployed["no_op"].output
