"""Logins: the post-login flow as Auth0 runs it (its time, failures, app_metadata, api.cache)."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devtools import ROOT
from devtools.localtenant import logins
from devtools.localtenant.tenant import Tenant
from devtools.localtenant.testing import LocalTenant
from tests.localtenant.calls import error_of, log_in, sets


def test_the_login_command_runs_the_bound_actions(tenant: LocalTenant, tmp_path: Path) -> None:
    tenant.ensure_connection("db")
    code = (
        "exports.onExecutePostLogin = async (event, api) => {"
        " api.user.setAppMetadata('seen', (event.user.app_metadata.seen || 0) + 1); };"
    )
    tenant.bind_actions(tenant.deploy_action("count", code))
    user = tenant.sign_up("a@example.com", "db")
    line = tmp_path / "tenant.json"
    line.write_text(json.dumps(tenant.serve_line))
    for expected in (1, 2):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "devtools.localtenant",
                "login",
                "--tenant",
                str(line),
                user["user_id"],
                "--connection",
                "db",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ},
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["app_metadata"] == {"seen": expected}
    assert tenant.user(user["user_id"])["logins_count"] == 2


def test_an_organization_login_needs_membership(tenant: LocalTenant) -> None:
    connection = tenant.ensure_connection("db")
    organization = tenant.create_organization("closed", connection_ids=[connection["id"]])
    user = tenant.sign_up("b@example.com", "db")
    status, error = error_of(lambda: tenant.login(user["user_id"], "db", organization["id"]))
    assert status == 403
    assert "not a member" in error["message"]


# Row: a post-login flow's time. https://auth0.com/docs/customize/actions/limitations


@pytest.mark.slow
def test_the_whole_flow_has_auth0s_20_seconds() -> None:
    assert logins.FLOW_TIMEOUT_S == 20


@pytest.mark.slow
def test_a_flow_past_its_time_fails_the_login_and_runs_no_later_action(
    in_process: LocalTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logins, "FLOW_TIMEOUT_S", 1.0)
    slow = "await new Promise((resolve) => setTimeout(resolve, 600));"
    first = in_process.deploy_action("first", sets("first", "true", slow))
    second = in_process.deploy_action("second", sets("second", "true", slow))
    third = in_process.deploy_action("third", sets("third", "true"))
    in_process.bind_actions(first, second, third)
    login = log_in(in_process)
    # Each Action alone is within the limit; together they are not.
    assert login["failed"] == {
        "error": "access_denied",
        "error_description": "Extensibility error: the flow did not finish within 1 seconds",
        "kind": "timeout",
        "action_id": second,
    }
    assert [e["action_id"] for e in login["executions"]] == [first, second]
    # Auth0 saves the flow's app_metadata once, when it completes: a failed flow saves none,
    # not even what the Action that finished in time set.
    assert login["executions"][0]["app_metadata_set"] == {"first": True}
    assert login["app_metadata"] == {}


@pytest.mark.slow
def test_an_action_that_blocks_past_the_deadline_and_then_returns_failed(
    in_process: LocalTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A synchronous stretch holds back the timer: finishing late is still past the 20 s."""
    monkeypatch.setattr(logins, "FLOW_TIMEOUT_S", 1.0)
    busy = "const end = Date.now() + 1500; while (Date.now() < end) {}"
    in_process.bind_actions(in_process.deploy_action("busy", sets("busy", "true", busy)))
    login = log_in(in_process)
    assert login["failed"]["kind"] == "timeout"
    assert login["app_metadata"] == {}


def test_the_flows_app_metadata_shows_to_later_actions_and_is_saved_once_it_completes(
    in_process: LocalTenant,
) -> None:
    first = in_process.deploy_action("first", sets("first", "true"))
    second = in_process.deploy_action("second", sets("seen", "event.user.app_metadata.first"))
    in_process.bind_actions(first, second)
    assert log_in(in_process)["app_metadata"] == {"first": True, "seen": True}
    # A null set in the flow removes the key when the flow saves.
    in_process.bind_actions(in_process.deploy_action("forget", sets("first", "null")))
    assert log_in(in_process)["app_metadata"] == {"seen": True}


@pytest.mark.slow
def test_an_action_that_blocks_node_is_stopped_and_the_next_login_runs(
    in_process: LocalTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logins, "FLOW_TIMEOUT_S", 1.0)
    monkeypatch.setattr(logins, "KILL_GRACE_S", 0.5)
    blocking = in_process.deploy_action(
        "blocking",
        "let n = 0; exports.onExecutePostLogin = async (event, api) => {"
        " n += 1; if (event.stats.logins_count === 1) { while (true) {} }"
        " api.user.setAppMetadata('n', n); };",
    )
    in_process.bind_actions(blocking)
    started = time.monotonic()
    assert log_in(in_process)["failed"]["kind"] == "timeout"
    assert time.monotonic() - started < 5
    # The killed container is replaced: a new one, so the module state starts again.
    assert log_in(in_process)["app_metadata"] == {"n": 1}


# Row: an Action that throws. The login fails; later Actions do not run.


@pytest.mark.parametrize(
    "failure",
    [
        "throw new TypeError('no organization');",
        "return Promise.reject(new TypeError('no organization'));",
    ],
)
def test_an_action_that_throws_fails_the_login_and_stops_the_flow(
    in_process: LocalTenant, failure: str
) -> None:
    failing = in_process.deploy_action("failing", sets("before", "true", failure))
    after = in_process.deploy_action("after", sets("after", "true"))
    in_process.bind_actions(failing, after)
    login = log_in(in_process)
    assert login["failed"] == {
        "error": "access_denied",
        "error_description": "Extensibility error: TypeError: no organization",
        "kind": "thrown",
        "action_id": failing,
    }
    assert login["denied"] is None
    (execution,) = login["executions"]
    assert execution["thrown"] == "TypeError"
    # The failed execution's metadata is not saved, and the next Action never ran.
    assert login["app_metadata"] == {}


def test_the_login_command_exits_1_when_the_flow_fails(tenant: LocalTenant, tmp_path: Path) -> None:
    tenant.bind_actions(tenant.deploy_action("failing", sets("x", "1", "throw new Error('x');")))
    user = tenant.sign_up("a@b.c")
    line = tmp_path / "tenant.json"
    line.write_text(json.dumps(tenant.serve_line))
    result = subprocess.run(
        [
            *(sys.executable, "-m", "devtools.localtenant", "login", "--tenant", str(line)),
            *(user["user_id"], "--connection", "Username-Password-Authentication"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert json.loads(result.stdout)["failed"]["error"] == "access_denied"


# Row: api.cache. Scoped to the trigger, survives redeploys, Auth0's limits, may be evicted.


def test_the_cache_is_the_triggers_shared_by_its_actions(in_process: LocalTenant) -> None:
    writer = in_process.deploy_action(
        "writer", sets("wrote", "api.cache.set('shared', 'from-writer').type")
    )
    reader = in_process.deploy_action(
        "reader", sets("read", "(api.cache.get('shared') || {}).value || null")
    )
    in_process.bind_actions(writer, reader)
    assert log_in(in_process)["app_metadata"] == {"wrote": "success", "read": "from-writer"}


def test_the_cache_survives_a_redeploy(in_process: LocalTenant) -> None:
    action_id = in_process.deploy_action("token", sets("v1", "api.cache.set('token', 'old').type"))
    in_process.bind_actions(action_id)
    log_in(in_process)
    in_process.call(
        "PATCH",
        f"/api/v2/actions/actions/{action_id}",
        {"code": sets("v2", "(api.cache.get('token') || {}).value || null")},
    )
    in_process.deploy(action_id)
    # A new version, a new container: it still sees what the old one cached.
    assert log_in(in_process)["app_metadata"]["v2"] == "old"


def test_cache_entries_can_be_evicted(in_process: LocalTenant) -> None:
    action_id = in_process.deploy_action(
        "cached",
        sets("had", "(api.cache.get('k') || {}).value || 'none'", "api.cache.set('k', 'v');"),
    )
    in_process.bind_actions(action_id)
    log_in(in_process)
    entries = in_process.action_cache()
    assert list(entries) == ["k"]
    assert entries["k"]["value"] == "v"
    assert log_in(in_process)["app_metadata"]["had"] == "v"
    in_process.evict_cache("k")
    assert log_in(in_process)["app_metadata"]["had"] == "none"


CACHE_LIMITS = """
  const now = Date.now();
  const result = {
    key65: api.cache.set('k'.repeat(65), 'v').code || 'success',
    key64: api.cache.set('k'.repeat(64), 'v').type,
    value4097: api.cache.set('big', 'v'.repeat(4097)).code || 'success',
    ttl25h: api.cache.set('long', 'v', { ttl: 25 * 3600000 }).code || 'success',
    notString: api.cache.set('n', 42).code || 'success',
  };
  api.cache.set('both', 'v', { ttl: 60000, expires_at: now + 1000 });
  result.earlierExpiry = api.cache.get('both').expires_at <= now + 1000;
  api.cache.set('default', 'v');
  result.defaultLifetimeH = Math.round((api.cache.get('default').expires_at - now) / 3600000);
  for (const key of ['k'.repeat(64), 'both', 'default']) api.cache.delete(key);
  // 8 kB in all: two values of 4 kB (with their keys) do not fit.
  result.first4k = api.cache.set('a', 'v'.repeat(4000)).type;
  result.second4k = api.cache.set('b', 'v'.repeat(4000)).type;
  result.third4k = api.cache.set('c', 'v'.repeat(4000)).code || 'success';
  api.cache.delete('a'); api.cache.delete('b');
  // 20 entries per trigger.
  const codes = [];
  for (let n = 0; n < 21; n += 1) codes.push(api.cache.set(`e${n}`, 'v').type);
  result.entries = codes.filter((type) => type === 'success').length;
  result.twentyFirst = api.cache.set('e20', 'v').code;
  api.user.setAppMetadata('limits', result);
"""


def test_the_cache_has_auth0s_limits(in_process: LocalTenant) -> None:
    code = f"exports.onExecutePostLogin = async (event, api) => {{ {CACHE_LIMITS} }};"
    in_process.bind_actions(in_process.deploy_action("limits", code))
    assert log_in(in_process)["app_metadata"]["limits"] == {
        "key65": "KEY_TOO_LARGE",
        "key64": "success",
        "value4097": "VALUE_TOO_LARGE",
        "ttl25h": "TTL_TOO_LONG",
        "notString": "VALUE_NOT_STRING",
        "earlierExpiry": True,
        "defaultLifetimeH": 24,
        "first4k": "success",
        "second4k": "success",
        "third4k": "CACHE_FULL",
        "entries": 20,
        "twentyFirst": "TOO_MANY_ENTRIES",
    }
    assert len(in_process.action_cache()) == 20


def test_concurrent_writes_past_the_limits_evict_the_soonest_to_expire(tmp_path: Path) -> None:
    # Two executions' changes applied one after the other, as logins.execute applies them.
    tenant = Tenant(tmp_path / "state.json", "localhost:1")
    logins.apply_cache_changes(
        tenant, {f"k{n}": {"value": "v", "expires_at": 10**13 + n} for n in range(20)}
    )
    logins.apply_cache_changes(tenant, {"late": {"value": "v", "expires_at": 10**14}})
    entries = logins.cache_snapshot(tenant)
    tenant.close()
    assert len(entries) == 20
    assert "late" in entries
    assert "k0" not in entries


# Row: who may log in at all. A blocked user's login fails before the flow: "If a blocked user
# tries to log in to an application, they are redirected to the callback URL with
# error=unauthorized&error_description=user%20is%20blocked", recorded as a Failed Login
# (https://auth0.com/docs/manage-users/user-accounts/block-and-unblock-users). The post-login
# trigger runs only once a user "successfully authenticates".


def test_a_blocked_user_cannot_log_in_and_no_action_runs(in_process: LocalTenant) -> None:
    in_process.bind_actions(in_process.deploy_action("ran", sets("ran", "true")))
    user = in_process.sign_up("blocked@example.com")
    in_process.update_user(user["user_id"], blocked=True)
    status, error = error_of(lambda: in_process.login(user["user_id"]))
    assert (status, error.get("errorCode"), error["message"]) == (
        401,
        "unauthorized",
        "user is blocked",
    )
    stored = in_process.user(user["user_id"])
    # Empty and never logged in, so the Management API leaves both out.
    assert "app_metadata" not in stored
    assert "logins_count" not in stored


# A linked account is logged in to through any of its identities: "This allows a user to
# authenticate from any of their accounts and still be recognized by your app and associated
# with the same user profile"
# (https://auth0.com/docs/manage-users/user-accounts/user-account-linking/link-user-accounts).
# The event's user is the primary one; its connection is the one the login came through.


def test_a_login_through_a_linked_identity_runs_the_flow_as_the_primary_user(
    in_process: LocalTenant,
) -> None:
    in_process.ensure_connection("google-oauth2", "google-oauth2")
    in_process.import_users(
        [
            {
                "user_id": "auth0|primary",
                "email": "ada@example.com",
                "email_verified": True,
                "identities": [
                    {"connection": "Username-Password-Authentication", "provider": "auth0"},
                    {
                        "connection": "google-oauth2",
                        "provider": "google-oauth2",
                        "user_id": "1234",
                        "profileData": {"email": "ada@acme.com", "email_verified": True},
                    },
                ],
            }
        ]
    )
    seen = "[event.user.user_id, event.connection.name, event.connection.strategy]"
    in_process.bind_actions(in_process.deploy_action("seen", sets("seen", seen)))
    login = in_process.login("auth0|primary", "google-oauth2")
    assert login["failed"] is None
    assert login["app_metadata"]["seen"] == ["auth0|primary", "google-oauth2", "google-oauth2"]
    # A connection the tenant has but none of the user's identities comes through.
    in_process.ensure_connection("other-connection")
    status, error = error_of(lambda: in_process.login("auth0|primary", "other-connection"))
    assert status == 400
    assert "does not log in through other-connection" in error["message"], error


# A login is to an application: the post-login event's `client` is it (`client_id`, `name`,
# `metadata`, the post-login event object,
# https://auth0.com/docs/customize/actions/explore-triggers/signup-and-login-triggers/login-trigger/post-login-event-object).
# The application must exist, log users in (an authorization_code or implicit grant), have
# the login's connection enabled, and take organizations (`organization_usage`: "deny" by
# default, "allow" or "require"). The error wording is the local tenant's own.


def test_a_login_to_an_application_gives_the_flow_that_application(
    in_process: LocalTenant,
) -> None:
    connection = in_process.ensure_connection("db")
    application = in_process.call(
        "POST",
        "/api/v2/clients",
        {"name": "Portal", "app_type": "spa", "client_metadata": {"team": "billing"}},
    )
    in_process.call(
        "PATCH",
        f"/api/v2/connections/{connection['id']}",
        {"enabled_clients": [application["client_id"]]},
    )
    seen = "[event.client.client_id, event.client.name, event.client.metadata]"
    in_process.bind_actions(in_process.deploy_action("seen", sets("seen", seen)))
    user = in_process.sign_up("c@example.com", "db")
    login = in_process.login(user["user_id"], "db", client_id=application["client_id"])
    assert login["app_metadata"]["seen"] == [
        application["client_id"],
        "Portal",
        {"team": "billing"},
    ]
    # Without one named, the local tenant's own login application, as before.
    login = in_process.login(user["user_id"], "db")
    assert login["app_metadata"]["seen"] == ["localtenant-login", "Local login", {}]


def test_a_login_needs_an_application_that_logs_users_in_through_the_connection(
    in_process: LocalTenant,
) -> None:
    connection = in_process.ensure_connection("db")
    in_process.ensure_connection("other")
    spa = in_process.call("POST", "/api/v2/clients", {"name": "Portal", "app_type": "spa"})
    m2m = in_process.m2m_client("Backend", [])
    in_process.call(
        "PATCH",
        f"/api/v2/connections/{connection['id']}",
        {"enabled_clients": [spa["client_id"], m2m["client_id"]]},
    )
    ran = in_process.deploy_action("ran", sets("ran", "true"))
    in_process.bind_actions(ran)
    user = in_process.sign_up("d@example.com", "db")
    other = in_process.sign_up("e@example.com", "other")
    for user_id, connection_name, client_id, expected in (
        (user["user_id"], "db", "no-such-client", "unknown client"),
        (user["user_id"], "db", m2m["client_id"], "grant type"),
        (other["user_id"], "other", spa["client_id"], "connection is not enabled"),
    ):
        status, error = error_of(
            functools.partial(in_process.login, user_id, connection_name, client_id=client_id)
        )
        assert status in (400, 403), (client_id, error)
        assert expected in error["message"].lower(), error
    assert "ran" not in in_process.user(user["user_id"]).get("app_metadata", {})
    assert "logins_count" not in in_process.user(user["user_id"])  # never logged in


def test_an_organization_login_needs_an_application_that_takes_organizations(
    in_process: LocalTenant,
) -> None:
    connection = in_process.ensure_connection("db")
    organization = in_process.create_organization("acme", connection_ids=[connection["id"]])
    user = in_process.sign_up("f@example.com", "db")
    in_process.add_members(organization["id"], [user["user_id"]])
    clients = {
        usage: in_process.call(
            "POST",
            "/api/v2/clients",
            {"name": f"App {usage}", "app_type": "spa", "organization_usage": usage},
        )["client_id"]
        for usage in ("deny", "allow", "require")
    }
    in_process.call(
        "PATCH",
        f"/api/v2/connections/{connection['id']}",
        {"enabled_clients": list(clients.values())},
    )
    status, error = error_of(
        lambda: in_process.login(
            user["user_id"], "db", organization["id"], client_id=clients["deny"]
        )
    )
    assert status == 400
    assert "organization" in error["message"], error
    status, error = error_of(
        lambda: in_process.login(user["user_id"], "db", client_id=clients["require"])
    )
    assert status == 400
    assert "organization" in error["message"], error
    for usage in ("allow", "require"):
        login = in_process.login(
            user["user_id"], "db", organization["id"], client_id=clients[usage]
        )
        assert login["failed"] is None
        assert login["denied"] is None
    assert in_process.login(user["user_id"], "db", client_id=clients["allow"])["failed"] is None


# A third-party application (`is_first_party: false`) logs users in only "through domain-level
# connections" (Third-Party Applications,
# https://auth0.com/docs/get-started/applications/third-party-applications), and "By default,
# Organizations deny user authentication from third-party applications": an organization lets
# them in once its `third_party_client_access` is "allow" (Enable Third-Party Application Access,
# https://auth0.com/docs/manage-users/organizations/configure-organizations/enable-third-party-application-access;
# the Management API's OrganizationThirdPartyClientAccessEnum: "Defaults to `block`").


def test_a_third_party_application_logs_in_through_domain_connections_and_willing_organizations(
    in_process: LocalTenant,
) -> None:
    connection = in_process.ensure_connection("db")
    organization = in_process.create_organization("acme", connection_ids=[connection["id"]])
    user = in_process.sign_up("g@example.com", "db")
    in_process.add_members(organization["id"], [user["user_id"]])
    partner = in_process.call(
        "POST",
        "/api/v2/clients",
        {
            "name": "Partner",
            "app_type": "spa",
            "is_first_party": False,
            "organization_usage": "allow",
        },
    )["client_id"]
    in_process.call(
        "PATCH", f"/api/v2/connections/{connection['id']}", {"enabled_clients": [partner]}
    )
    to_partner = functools.partial(in_process.login, user["user_id"], "db", client_id=partner)

    status, error = error_of(to_partner)
    assert status == 403
    assert "domain" in error["message"], error

    in_process.call(
        "PATCH", f"/api/v2/connections/{connection['id']}", {"is_domain_connection": True}
    )
    assert to_partner()["failed"] is None
    status, error = error_of(lambda: to_partner(organization=organization["id"]))
    assert status == 403
    assert "third-party" in error["message"], error

    in_process.call(
        "PATCH",
        f"/api/v2/organizations/{organization['id']}",
        {"third_party_client_access": "allow"},
    )
    assert to_partner(organization=organization["id"])["failed"] is None
