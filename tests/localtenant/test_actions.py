"""Actions: bindings, Auth0's limits per trigger and tenant, the Node their runtime names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devtools.localtenant import logins
from devtools.localtenant.testing import LocalTenant
from tests.localtenant.calls import error_of, log_in, sets


def test_a_bindings_patch_replaces_the_whole_list(tenant: LocalTenant) -> None:
    ids = []
    for name in ("first", "second"):
        action = tenant.call(
            "POST",
            "/api/v2/actions/actions",
            {"name": name, "supported_triggers": [{"id": "post-login", "version": "v3"}]},
        )
        status, error = error_of(
            lambda action=action: tenant.call(
                "POST", f"/api/v2/actions/actions/{action['id']}/deploy"
            )
        )
        assert (status, error) == (
            400,
            {
                "statusCode": 400,
                "error": "Bad Request",
                "message": "A draft must be in the 'built' state before it can be deployed.",
            },
        )
        tenant.deploy(action["id"])
        ids.append(action["id"])
    path = "/api/v2/actions/triggers/post-login/bindings"

    def bind(*action_ids: str) -> list[str]:
        refs = [{"ref": {"type": "action_id", "value": i}} for i in action_ids]
        answer = tenant.call("PATCH", path, {"bindings": refs})
        return [binding["action"]["id"] for binding in answer["bindings"]]

    assert bind(ids[0], ids[1]) == ids
    assert bind(ids[1]) == [ids[1]]
    assert tenant.bound_action_ids() == [ids[1]]


@pytest.mark.slow
def test_at_most_twenty_actions_per_trigger(in_process: LocalTenant) -> None:
    ids = [in_process.deploy_action(f"a{n}", sets("n", str(n))) for n in range(21)]
    in_process.bind_actions(*ids[:20])
    status, error = error_of(lambda: in_process.bind_actions(*ids))
    assert status == 400
    assert "maximum 20" in error["message"]
    assert len(in_process.bound_action_ids()) == 20


@pytest.mark.slow
def test_at_most_a_hundred_actions_per_tenant(in_process: LocalTenant) -> None:
    trigger = [{"id": "post-login", "version": "v3"}]
    for n in range(100):
        in_process.call(
            "POST", "/api/v2/actions/actions", {"name": f"a{n}", "supported_triggers": trigger}
        )
    status, error = error_of(
        lambda: in_process.call(
            "POST", "/api/v2/actions/actions", {"name": "a100", "supported_triggers": trigger}
        )
    )
    assert status == 400
    assert error["errorCode"] == "too_many_entities"


# Row: Node 22, the runtime Auth0 runs Actions on.


def test_a_node22_action_runs_on_node_22(in_process: LocalTenant) -> None:
    version = in_process.deploy_action("version", sets("node", "process.version"), runtime="node22")
    in_process.bind_actions(version)
    assert log_in(in_process)["app_metadata"]["node"].startswith("v22.")


def test_a_runtime_without_its_node_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "bin" / "node"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho v20.19.0\n")
    fake.chmod(0o755)
    monkeypatch.setattr(logins, "PINNED_NODE", tmp_path / "missing" / "node")
    monkeypatch.setenv("PATH", str(fake.parent))
    with pytest.raises(RuntimeError, match=r"node22 needs Node 22.*scripts/setup"):
        logins.node_for("node22")


# Row: the trigger list (issue 26, clients.md D1): the Deploy CLI reads it before any binding.


def test_the_trigger_list_names_every_trigger_at_its_current_version(
    in_process: LocalTenant,
) -> None:
    triggers = in_process.call("GET", "/api/v2/actions/triggers")["triggers"]
    post_login = next(t for t in triggers if t["id"] == "post-login")
    assert post_login["version"] == "v3"
    assert post_login["status"] == "CURRENT"
    assert "node22" in post_login["runtimes"]
    assert set(post_login) == {
        "id",
        "version",
        "status",
        "runtimes",
        "default_runtime",
        "compatible_triggers",
    }


def test_a_deploy_before_the_build_ends_says_what_auth0_says(in_process: LocalTenant) -> None:
    """The text the Deploy CLI retries on (clients.md D2)."""
    action = in_process.call(
        "POST",
        "/api/v2/actions/actions",
        {"name": "early", "supported_triggers": [{"id": "post-login", "version": "v3"}]},
    )
    status, error = error_of(
        lambda: in_process.call("POST", f"/api/v2/actions/actions/{action['id']}/deploy")
    )
    assert (status, error["message"]) == (
        400,
        "A draft must be in the 'built' state before it can be deployed.",
    )
    assert "errorCode" not in error


# Actions Limitations, "Secrets" (https://auth0.com/docs/customize/actions/limitations): "Each
# secret key may have a maximum length of 128 characters. Each secret value may have a maximum
# length of 4096 characters." Entity Limit Policy
# (https://auth0.com/docs/troubleshoot/customer-support/operational-policies/entity-limit-policy):
# "Dependencies (NPM Modules) per Action | 10".


@pytest.mark.parametrize(
    "fields",
    [
        {"secrets": [{"name": "K" * 129, "value": "v"}]},
        {"secrets": [{"name": "K", "value": "v" * 4097}]},
        {"dependencies": [{"name": f"pkg{n}", "version": "1.0.0"} for n in range(11)]},
    ],
    ids=["secret-name-129", "secret-value-4097", "dependencies-11"],
)
def test_secrets_and_dependencies_past_auth0s_limits_are_refused(
    in_process: LocalTenant, fields: dict[str, Any]
) -> None:
    body = {"name": "over", "supported_triggers": [{"id": "post-login", "version": "v3"}]}
    status, _ = error_of(lambda: in_process.call("POST", "/api/v2/actions/actions", body | fields))
    assert status == 400


def test_secrets_and_dependencies_at_auth0s_limits_are_taken(in_process: LocalTenant) -> None:
    in_process.call(
        "POST",
        "/api/v2/actions/actions",
        {
            "name": "at",
            "supported_triggers": [{"id": "post-login", "version": "v3"}],
            "secrets": [{"name": "K" * 128, "value": "v" * 4096}],
            "dependencies": [{"name": f"pkg{n}", "version": "1.0.0"} for n in range(10)],
        },
    )


def test_an_actions_versions_are_listed_a_page_at_a_time(in_process: LocalTenant) -> None:
    """Get an Action's Versions (https://auth0.com/docs/api/management/v2/actions/get-action-versions)
    pages by ``page`` and ``per_page``. node-auth0 7 sends both on every call, and asks for the
    next page while the last one had versions: a list that ignored them never ended."""
    action_id = in_process.deploy_action(
        "versioned", "exports.onExecutePostLogin = async () => {};"
    )
    in_process.deploy(action_id)
    in_process.deploy(action_id)
    path = f"/api/v2/actions/actions/{action_id}/versions"

    everything = in_process.call("GET", path)
    assert [v["number"] for v in everything["versions"]] == [3, 2, 1]

    second = in_process.call("GET", f"{path}?page=1&per_page=2")
    assert [v["number"] for v in second["versions"]] == [1]
    assert (second["total"], second["page"], second["per_page"]) == (3, 1, 2)
    assert in_process.call("GET", f"{path}?page=1&per_page=50")["versions"] == []


def test_an_action_keeps_its_fifty_latest_versions(in_process: LocalTenant) -> None:
    """Actions Limitations (https://auth0.com/docs/customize/actions/limitations): "Each Action
    may have a maximum of 50 associated versions [...]. Once the limit is reached, every
    additional version that is added will result in the oldest version being deleted." """
    action_id = in_process.deploy_action("often", "exports.onExecutePostLogin = async () => {};")
    for _ in range(50):
        in_process.deploy(action_id)
    versions = in_process.call("GET", f"/api/v2/actions/actions/{action_id}/versions")
    assert versions["total"] == 50
    assert [v["number"] for v in versions["versions"]] == list(range(51, 1, -1))
    assert versions["versions"][0]["deployed"] is True
